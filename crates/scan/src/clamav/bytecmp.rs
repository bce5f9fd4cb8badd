//! Byte-compare subsignatures of logical signatures:
//! `Trigger(Offset#Options#Comparisons)`, e.g. `0(>>4#hb4#>0x100,<0x200)`.
//!
//! A number is read at a distance from the last match of the trigger subsignature (a hex
//! pattern of the same signature) and compared; the subsignature counts as matched once
//! when every comparison holds. Options: `h` hex text, `d` decimal text, `a` either (hex
//! with a `0x` prefix), `i` binary integer of 1, 2, 4 or 8 bytes; `l`/`b` endianness; `e`
//! exact (every byte read must belong to the number). Read as ClamAV reads them: leading
//! whitespace is skipped, the text number ends at its first non-digit.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Hex,
    Decimal,
    Auto,
    Binary,
}

#[derive(Debug, Clone)]
pub struct ByteCompare {
    /// The subsignature whose last match the offset counts from.
    pub trigger: usize,
    offset: i64,
    format: Format,
    little_endian: bool,
    exact: bool,
    length: usize,
    comparisons: Vec<(u8, i64)>,
}

/// Longest hex text read (as ClamAV: 18 characters, "0x" and 16 digits).
const MAX_HEX_LENGTH: usize = 18;
/// Longest decimal text read; more digits could not fit in 64 bits anyway.
const MAX_TEXT_LENGTH: usize = 64;

/// Whether a subsignature is written as a byte comparison: `N(...#...#...)`.
pub fn is_byte_compare(text: &str) -> bool {
    text.contains('(') && text.matches('#').count() >= 2
}

impl ByteCompare {
    pub fn parse(text: &str) -> Result<ByteCompare, String> {
        let bad = |why: &str| format!("byte-compare subsignature {text}: {why}");
        let open = text.find('(').ok_or_else(|| bad("no '('"))?;
        let trigger: usize = text[..open].trim().parse().map_err(|_| bad("trigger is not a subsignature number"))?;
        let close = text.rfind(')').filter(|&close| close > open).ok_or_else(|| bad("no ')'"))?;
        if !text[close + 1..].trim().is_empty() {
            return Err(bad("text after ')'"));
        }
        let fields: Vec<&str> = text[open + 1..close].split('#').collect();
        let [offset, options, comparisons] = fields[..] else { return Err(bad("three '#'-separated fields expected")) };
        let offset = if let Some(n) = offset.strip_prefix(">>") {
            parse_number(n).ok_or_else(|| bad("bad offset"))?
        } else if let Some(n) = offset.strip_prefix("<<") {
            -parse_number(n).ok_or_else(|| bad("bad offset"))?
        } else if offset.is_empty() || offset == "0" {
            0
        } else {
            return Err(bad("offset must start with >> or <<"));
        };
        let digits = options.find(|c: char| c.is_ascii_digit()).ok_or_else(|| bad("no byte count"))?;
        let (mut format, mut endian, mut exact) = (None, None, false);
        for option in options[..digits].chars() {
            match option {
                'h' | 'd' | 'a' | 'i' if format.is_some() => return Err(bad("more than one of h, d, a, i")),
                'h' => format = Some(Format::Hex),
                'd' => format = Some(Format::Decimal),
                'a' => format = Some(Format::Auto),
                'i' => format = Some(Format::Binary),
                'l' | 'b' if endian.is_some() => return Err(bad("both l and b")),
                'l' => endian = Some(true),
                'b' => endian = Some(false),
                'e' => exact = true,
                other => return Err(bad(&format!("option '{other}'"))),
            }
        }
        let format = format.ok_or_else(|| bad("one of h, d, a, i is needed"))?;
        if format == Format::Decimal && endian == Some(true) {
            return Err(bad("decimal numbers cannot be little-endian"));
        }
        // ClamAV only evaluates hex and binary numbers of a stated byte order.
        let little_endian = match (format, endian) {
            (Format::Decimal, _) => false,
            (_, Some(little)) => little,
            (Format::Auto, None) => false,
            (_, None) => return Err(bad("h and i need l or b")),
        };
        let length = usize::try_from(parse_number(&options[digits..]).ok_or_else(|| bad("bad byte count"))?)
            .map_err(|_| bad("bad byte count"))?;
        match format {
            _ if length == 0 => return Err(bad("byte count 0")),
            Format::Binary if !matches!(length, 1 | 2 | 4 | 8) => {
                return Err(bad("binary numbers are 1, 2, 4 or 8 bytes"));
            }
            Format::Hex if length > MAX_HEX_LENGTH => return Err(bad("hex numbers are at most 18 characters")),
            _ if length > MAX_TEXT_LENGTH => return Err(bad("byte count too large")),
            _ => {}
        }
        let mut parsed = Vec::new();
        for comparison in comparisons.split(',') {
            let mut chars = comparison.chars();
            let symbol = chars
                .next()
                .filter(|c| matches!(c, '<' | '>' | '='))
                .ok_or_else(|| bad("comparison must be <, > or ="))?;
            let value = parse_number(chars.as_str()).ok_or_else(|| bad("bad comparison value"))?;
            parsed.push((symbol as u8, value));
        }
        if parsed.len() > 2 {
            return Err(bad("at most two comparisons"));
        }
        Ok(ByteCompare { trigger, offset, format, little_endian, exact, length, comparisons: parsed })
    }

    /// Whether the number at `match_start + offset` passes every comparison.
    pub fn holds(&self, data: &[u8], match_start: usize) -> bool {
        let Some(start) = (match_start as i64).checked_add(self.offset) else { return false };
        // As ClamAV: the number may not start at offset 0 (its check is `> 0`).
        if start <= 0 {
            return false;
        }
        let start = start as usize;
        let Some(bytes) = start.checked_add(self.length).and_then(|end| data.get(start..end)) else { return false };
        let Some(value) = self.value(bytes) else { return false };
        self.comparisons.iter().all(|&(symbol, operand)| match symbol {
            b'<' => value < operand,
            b'>' => value > operand,
            _ => value == operand,
        })
    }

    fn value(&self, bytes: &[u8]) -> Option<i64> {
        if self.format == Format::Binary {
            let mut buffer = [0u8; 8];
            let n = bytes.len();
            if self.little_endian {
                buffer[..n].copy_from_slice(bytes);
                return Some(u64::from_le_bytes(buffer) as i64);
            }
            buffer[8 - n..].copy_from_slice(bytes);
            return Some(u64::from_be_bytes(buffer) as i64);
        }
        let pad = bytes.iter().take_while(|b| b.is_ascii_whitespace() || **b == 0x0b).count();
        let text = &bytes[pad..];
        let format = match self.format {
            Format::Auto if text.len() >= 3 && (text.starts_with(b"0x") || text.starts_with(b"0X")) => Format::Hex,
            Format::Auto => Format::Decimal,
            format => format,
        };
        let exact_ok = |consumed: usize, length: usize| !self.exact || (consumed == length && pad == 0);
        match (format, self.little_endian) {
            (Format::Decimal, true) => None,
            (Format::Decimal, false) => {
                let (value, consumed) = parse_prefix(text, 10)?;
                exact_ok(consumed, text.len()).then_some(value)
            }
            (_, false) => {
                let (value, consumed) = parse_prefix(text, 16)?;
                exact_ok(consumed, text.len()).then_some(value)
            }
            (_, true) => {
                let swapped = swap_hex_pairs(text);
                let parse_length = if text.len() == 1 { 1 } else { swapped.len() };
                let (value, consumed) = parse_prefix(&swapped[..parse_length], 16)?;
                exact_ok(consumed, text.len()).then_some(value)
            }
        }
    }
}

/// ClamAV's little-endian hex normalisation: the text (a `0x` prefix dropped, a `0` put in
/// front of an odd count of digits) read two characters at a time from its end; a pair that
/// is not hex discards what was gathered so far.
fn swap_hex_pairs(text: &[u8]) -> Vec<u8> {
    let length = text.len();
    if length == 1 {
        return vec![text[0], b'0'];
    }
    let normal = length + length % 2;
    let prefixed = length >= 3 && (text.starts_with(b"0x") || text.starts_with(b"0X"));
    let mut digits = vec![b'0'; normal];
    if normal != length {
        if prefixed {
            digits[3..3 + length - 2].copy_from_slice(&text[2..]);
            digits[0] = b'x';
        } else {
            digits[1..].copy_from_slice(text);
        }
    } else {
        digits.copy_from_slice(text);
        if prefixed {
            digits[0] = b'x';
        }
    }
    let valid = |c: u8| c.is_ascii_hexdigit() || c.eq_ignore_ascii_case(&b'x');
    let mut out = vec![b'0'; normal];
    let mut i = 0;
    while i < normal {
        let (high, low) = (digits[normal - i - 2], digits[normal - i - 1]);
        if valid(high) {
            out[i] = high;
        } else {
            out.fill(b'0');
            i += 2;
            continue;
        }
        if valid(low) {
            out[i + 1] = low;
        } else {
            out.fill(b'0');
        }
        i += 2;
    }
    out
}

/// `strtol` over a bounded buffer: optional sign, `0x` for base 16, digits up to the first
/// other byte. Returns the value and the bytes consumed (0 when there is no digit, value 0);
/// `None` on overflow.
fn parse_prefix(text: &[u8], radix: u32) -> Option<(i64, usize)> {
    let mut at = 0;
    let negative = match text.first() {
        Some(b'-') => {
            at = 1;
            true
        }
        Some(b'+') => {
            at = 1;
            false
        }
        _ => false,
    };
    if radix == 16
        && text.get(at) == Some(&b'0')
        && text.get(at + 1).is_some_and(|c| c.eq_ignore_ascii_case(&b'x'))
        && text.get(at + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        at += 2;
    }
    let digits_start = at;
    let mut value: i64 = 0;
    while let Some(digit) = text.get(at).and_then(|&c| (c as char).to_digit(radix)) {
        value = value.checked_mul(radix as i64)?.checked_add(digit as i64)?;
        at += 1;
    }
    if at == digits_start {
        return Some((0, 0));
    }
    Some((if negative { -value } else { value }, at))
}

/// A number as ClamAV's loader reads one (`strtol` with base 0): `0x` hex, leading-zero
/// octal, or decimal, with an optional sign.
fn parse_number(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_form() {
        let compare = ByteCompare::parse("0(>>4#hb4#>0x100,<0x200)").unwrap();
        assert_eq!((compare.trigger, compare.offset, compare.length), (0, 4, 4));
        assert_eq!(compare.comparisons, vec![(b'>', 0x100), (b'<', 0x200)]);
        let compare = ByteCompare::parse("2(<<0x10#ile8#=12)").unwrap();
        assert_eq!((compare.trigger, compare.offset, compare.format, compare.exact), (2, -16, Format::Binary, true));
        assert!(compare.little_endian);
        for bad in [
            "0(>>4#hb4)",
            "0(4#hb4#=1)",
            "0(>>4#hd4#=1)",
            "0(>>4#dl4#=1)",
            "0(>>4#hb0#=1)",
            "0(>>4#ib3#=1)",
            "0(>>4#hb4#!1)",
            "0(>>4#hb4#=1,=2,=3)",
            "0(>>4#h4#=1)",
            "0(>>4#hq4#=1)",
            "x(>>4#hb4#=1)",
            "0(>>4#hb19#=1)",
        ] {
            assert!(ByteCompare::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    fn holds(sub: &str, data: &[u8], match_start: usize) -> bool {
        ByteCompare::parse(sub).unwrap().holds(data, match_start)
    }

    #[test]
    fn text_numbers() {
        let data = b"SIZE: 0x1234 end";
        // The match of the trigger is at 0; the number 6 bytes on.
        assert!(holds("0(>>6#hb6#=0x1234)", data, 0));
        assert!(holds("0(>>6#ab6#=0x1234)", data, 0));
        assert!(holds("0(>>6#hb6#>0x1000,<0x2000)", data, 0));
        assert!(!holds("0(>>6#hb6#>0x1000,<0x1200)", data, 0));
        // Leading whitespace is skipped; exact then fails.
        assert!(holds("0(>>5#hb7#=0x1234)", data, 0));
        assert!(!holds("0(>>5#hbe7#=0x1234)", data, 0));
        assert!(holds("0(>>6#hbe6#=0x1234)", data, 0));
        // The number ends at its first non-digit; exact fails when bytes are left.
        assert!(holds("0(>>6#hb7#=0x1234)", data, 0));
        assert!(!holds("0(>>6#hbe7#=0x1234)", data, 0));
        let data = b"len=1234;";
        assert!(holds("0(>>4#db4#=1234)", data, 0));
        assert!(holds("0(>>4#ab4#=1234)", data, 0));
        assert!(holds("0(>>4#de4#>1000)", data, 0));
        assert!(holds("0(<<2#db4#=1234)", data, 6));
        // Little-endian hex text: byte pairs reversed.
        assert!(holds("0(>>4#hl4#=0x3412)", data, 0));
        assert!(holds("0(>>1#hl4#=0x3412)", b"x1234", 0));
    }

    #[test]
    fn binary_numbers() {
        let data = [0x90, 0x00, 0x10, 0x20, 0x30, 0x40, 1, 2, 3, 4, 5, 6, 7, 8];
        assert!(holds("0(>>2#ib2#=0x1020)", &data, 0));
        assert!(holds("0(>>2#il2#=0x2010)", &data, 0));
        assert!(holds("0(>>2#il4#=0x40302010)", &data, 0));
        assert!(holds("0(>>6#ib8#=0x0102030405060708)", &data, 0));
        assert!(holds("0(>>1#ib1#=0)", &data, 0));
        assert!(!holds("0(>>1#ib1#>0)", &data, 0));
    }

    #[test]
    fn out_of_bounds_reads_do_not_match() {
        let data = b"abcd";
        assert!(!holds("0(>>2#ib4#>0)", data, 0));
        assert!(!holds("0(<<8#ib1#>0)", data, 2));
        assert!(!holds("0(>>0#ib1#=97)", data, 0), "ClamAV never reads at offset 0");
        assert!(holds("0(>>0#ib1#=98)", data, 1));
        assert!(!holds("0(>>9223372036854775807#ib1#=0)", data, 1));
    }

    #[test]
    fn garbage_never_panics() {
        let compare = ByteCompare::parse("0(>>1#al5#=1)").unwrap();
        for data in [&b""[..], b"x", b"\xff\xfe\xfd\xfc\xfb\xfa", b"x0x0x0x0", b"x  -  ", b"x99999999999999999999999"] {
            let _ = compare.holds(data, 0);
        }
        let compare = ByteCompare::parse("0(>>1#db30#=1)").unwrap();
        assert!(!compare.holds(b"x999999999999999999999999999999", 0), "overflow is no match");
    }
}
