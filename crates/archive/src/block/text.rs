//! Recognising strings that have a smaller exact form: RFC 3339 timestamps, 32-character hex
//! ids, decimal numbers inside text, integers written in the original line.
//!
//! Each recogniser is paired with the function that turns the small form back into text, and
//! the encoder only uses a small form after checking that it gives back the same bytes.

use jiff::Timestamp;
use jiff::fmt::temporal::DateTimePrinter;

use crate::error::{Error, Result};

/// How a timestamp was written: as `jiff::Timestamp`'s `Display` writes it (fraction with no
/// trailing zeros) or with a fixed number of fraction digits (`.500Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsForm {
    Display,
    Fixed(u8),
}

/// `s` as nanoseconds since the epoch, if it is an RFC 3339 UTC timestamp (`...Z`) that
/// prints back to exactly `s`.
pub fn parse_timestamp(s: &str) -> Option<(i128, TsForm)> {
    let b = s.as_bytes();
    if !(20..=30).contains(&b.len())
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return None;
    }
    let ts: Timestamp = s.parse().ok()?;
    let nanos = ts.as_nanosecond();
    if ts.to_string() == s {
        return Some((nanos, TsForm::Display));
    }
    let digits = if b[19] == b'.' { b.len() - 21 } else { 0 };
    let digits = u8::try_from(digits).ok().filter(|d| *d <= 9)?;
    let form = TsForm::Fixed(digits);
    (format_timestamp(nanos, form).ok()? == s).then_some((nanos, form))
}

/// The text of a timestamp recognised by [`parse_timestamp`].
pub fn format_timestamp(nanos: i128, form: TsForm) -> Result<String> {
    let ts = Timestamp::from_nanosecond(nanos)
        .map_err(|_| Error::damaged(format!("timestamp {nanos} ns is out of range")))?;
    Ok(match form {
        TsForm::Display => ts.to_string(),
        TsForm::Fixed(d) => DateTimePrinter::new().precision(Some(d)).timestamp_to_string(&ts),
    })
}

/// The two halves of a 32-character lowercase hex string (UUIDs without dashes, hashes).
pub fn parse_hex32(s: &str) -> Option<(u64, u64)> {
    let b = s.as_bytes();
    if b.len() != 32 || !b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let hi = u64::from_str_radix(&s[..16], 16).ok()?;
    let lo = u64::from_str_radix(&s[16..], 16).ok()?;
    Some((hi, lo))
}

pub fn format_hex32(hi: u64, lo: u64) -> String {
    format!("{hi:016x}{lo:016x}")
}

/// In a tokenised template: a decimal number follows in the number stream.
pub const TOK_NUMBER: u8 = 0xff;
/// In a tokenised template: followed by a width byte; a zero-padded number of that width
/// follows in the number stream.
pub const TOK_PADDED: u8 = 0xfe;
/// The longest digit run taken out of the text (19 digits always fit in `u64`).
const MAX_DIGITS: usize = 19;

/// How many template bytes before a number are its context (see `column::toks`).
pub const CONTEXT: usize = 8;

/// Splits `s` into a template and numbers: every run of 1 to 19 ASCII digits becomes
/// [`TOK_NUMBER`] (or [`TOK_PADDED`] and its width, when it starts with a zero and is longer
/// than one digit) in `template`, and its value goes to `emit` with its context: the last
/// [`CONTEXT`] template bytes before the marker. UTF-8 never contains the bytes 0xfe and 0xff,
/// so the markers cannot be confused with text. `template` must start empty. Returns how many
/// numbers were taken out.
pub fn tokenize(s: &str, template: &mut Vec<u8>, emit: &mut impl FnMut(&[u8], u64)) -> usize {
    let b = s.as_bytes();
    let mut count = 0;
    let mut i = 0;
    while i < b.len() {
        let Some(skip) = b[i..].iter().position(u8::is_ascii_digit) else {
            template.extend_from_slice(&b[i..]);
            break;
        };
        template.extend_from_slice(&b[i..i + skip]);
        let start = i + skip;
        let end = b[start..].iter().position(|c| !c.is_ascii_digit()).map_or(b.len(), |n| start + n);
        let run = &b[start..end];
        if run.len() > MAX_DIGITS {
            template.extend_from_slice(run);
        } else {
            let value = run.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
            emit(&template[template.len().saturating_sub(CONTEXT)..], value);
            if run.len() > 1 && run[0] == b'0' {
                template.push(TOK_PADDED);
                template.push(run.len() as u8);
            } else {
                template.push(TOK_NUMBER);
            }
            count += 1;
        }
        i = end;
    }
    count
}

/// Rebuilds the text of [`tokenize`] into `out`; `next` gives the number for a context.
pub fn detokenize(template: &[u8], next: &mut impl FnMut(&[u8]) -> Result<u64>, out: &mut Vec<u8>) -> Result<()> {
    let mut i = 0;
    while i < template.len() {
        let Some(skip) = template[i..].iter().position(|c| *c >= TOK_PADDED) else {
            out.extend_from_slice(&template[i..]);
            break;
        };
        out.extend_from_slice(&template[i..i + skip]);
        i += skip;
        let value = next(&template[i.saturating_sub(CONTEXT)..i])?;
        let width = if template[i] == TOK_PADDED {
            i += 1;
            let w = *template.get(i).ok_or_else(|| Error::damaged("template ends inside a number marker"))?;
            if !(2..=MAX_DIGITS as u8).contains(&w) {
                return Err(Error::damaged(format!("template: number width {w}")));
            }
            usize::from(w)
        } else {
            0
        };
        i += 1;
        let start = out.len();
        write_decimal(out, value);
        let digits = out.len() - start;
        if width > 0 {
            if digits > width {
                return Err(Error::damaged(format!("template: number {value} is wider than {width} digits")));
            }
            out.splice(start..start, std::iter::repeat_n(b'0', width - digits));
        } else if digits > MAX_DIGITS {
            return Err(Error::damaged(format!("template: number {value} is too long")));
        }
    }
    Ok(())
}

fn write_decimal(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// The integer written at `offset` of `text`: an optional `-` and the longest run of digits.
pub fn int_at(text: &str, offset: usize) -> Option<i64> {
    let rest = text.as_bytes().get(offset..)?;
    let sign = usize::from(rest.first() == Some(&b'-'));
    let digits = rest[sign..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    std::str::from_utf8(&rest[..sign + digits]).ok()?.parse().ok()
}

/// The first few places where `text` writes `v` so that [`int_at`] reads it back.
pub fn int_positions(text: &str, v: i64) -> Vec<usize> {
    let needle = v.to_string();
    find_all(text.as_bytes(), needle.as_bytes()).take(4).filter(|&at| int_at(text, at) == Some(v)).collect()
}

/// Every position of `needle` in `hay` (which may overlap). Log lines are short, so finding
/// the first byte with `memchr` and comparing beats building a substring searcher per value.
pub fn find_all<'h>(hay: &'h [u8], needle: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
    let first = needle.first().copied().unwrap_or(0);
    memchr::memchr_iter(first, hay).filter(move |&at| !needle.is_empty() && hay[at..].starts_with(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        for s in [
            "2026-11-21T01:02:03.456Z",
            "2026-11-21T01:02:03Z",
            "2026-11-21T01:02:03.500123Z",
            "1970-01-01T00:00:00.000000001Z",
        ] {
            let (n, form) = parse_timestamp(s).unwrap();
            assert_eq!(form, TsForm::Display, "{s}");
            assert_eq!(format_timestamp(n, form).unwrap(), s);
        }
        for s in ["2026-11-21T01:02:03.500Z", "2026-11-21T01:02:03.000000000Z"] {
            let (n, form) = parse_timestamp(s).unwrap();
            assert!(matches!(form, TsForm::Fixed(_)), "{s}");
            assert_eq!(format_timestamp(n, form).unwrap(), s);
        }
        for s in [
            "2026-11-21T01:02:03+09:00",
            "2026-11-21 01:02:03Z",
            "2026-11-21t01:02:03Z",
            "2026-13-21T01:02:03Z",
            "2016-12-31T23:59:60Z",
            "not a timestamp at all!",
        ] {
            assert!(parse_timestamp(s).is_none(), "{s}");
        }
    }

    #[test]
    fn hex() {
        let s = "01936f3a8e5b7c3d8000000000001a2b";
        let (hi, lo) = parse_hex32(s).unwrap();
        assert_eq!(format_hex32(hi, lo), s);
        assert!(parse_hex32("01936F3A8E5B7C3D8000000000001A2B").is_none());
        assert!(parse_hex32("01936f3a").is_none());
    }

    #[test]
    fn tokens_round_trip() {
        for s in [
            "",
            "no digits",
            "0",
            "007 and 0 and 10 x99999999999999999999999 y18446744073709551615",
            "<38>Nov  1 09:00:05 web01 sshd[123]: port 51234",
            "日本語 123 テキスト 0045",
            "9999999999999999999",
        ] {
            let mut t = Vec::new();
            let mut n = Vec::new();
            tokenize(s, &mut t, &mut |ctx, v| n.push((ctx.to_vec(), v)));
            let mut out = Vec::new();
            let mut it = n.iter();
            detokenize(
                &t,
                &mut |ctx| {
                    let (c, v) = it.next().unwrap();
                    assert_eq!(c, ctx);
                    Ok(*v)
                },
                &mut out,
            )
            .unwrap();
            assert!(it.next().is_none());
            assert_eq!(String::from_utf8(out).unwrap(), s);
        }
    }

    #[test]
    fn ints_in_text() {
        let text = "sshd[123]: port 51234 pid -7 and 1230";
        assert_eq!(int_positions(text, 123).first(), Some(&5));
        assert_eq!(int_positions(text, 51234).first(), Some(&16));
        assert_eq!(int_positions(text, -7).first(), Some(&26));
        assert_eq!(int_positions(text, 23).first(), Some(&6));
        assert!(int_positions(text, 99).is_empty());
        assert_eq!(int_at(text, 6), Some(23));
        assert_eq!(int_at(text, 0), None);
        assert_eq!(int_at(text, 1000), None);
    }
}
