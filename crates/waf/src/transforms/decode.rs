//! Decoding transformations (URL, HTML, JavaScript, CSS, C escapes, base64, hex), non-strict
//! like ModSecurity v2: invalid encodings are copied through.

use std::borrow::Cow;

use base64::Engine as _;

fn hexval(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn x2c(a: u8, b: u8) -> u8 {
    (hexval(a).unwrap_or(0) << 4) | hexval(b).unwrap_or(0)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn is_ff(a: u8, b: u8) -> bool {
    (a == b'f' || a == b'F') && (b == b'f' || b == b'F')
}

fn url_decode_impl(i: &[u8], uni: bool) -> Cow<'_, [u8]> {
    if !i.iter().any(|&c| c == b'%' || c == b'+') {
        return Cow::Borrowed(i);
    }
    let mut out = Vec::with_capacity(i.len());
    let mut k = 0;
    while k < i.len() {
        match i[k] {
            b'%' => {
                if uni && (i.get(k + 1) == Some(&b'u') || i.get(k + 1) == Some(&b'U')) {
                    if k + 5 < i.len() && i[k + 2..k + 6].iter().all(|&c| is_hex(c)) {
                        let mut c = x2c(i[k + 4], i[k + 5]);
                        if c > 0 && c < 0x5f && is_ff(i[k + 2], i[k + 3]) {
                            c += 0x20;
                        }
                        out.push(c);
                        k += 6;
                    } else {
                        out.extend_from_slice(&i[k..k + 2]);
                        k += 2;
                    }
                } else if k + 2 < i.len() && is_hex(i[k + 1]) && is_hex(i[k + 2]) {
                    out.push(x2c(i[k + 1], i[k + 2]));
                    k += 3;
                } else {
                    out.push(b'%');
                    k += 1;
                }
            }
            b'+' => {
                out.push(b' ');
                k += 1;
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    Cow::Owned(out)
}

pub fn url_decode(i: &[u8]) -> Cow<'_, [u8]> {
    url_decode_impl(i, false)
}

pub fn url_decode_uni(i: &[u8]) -> Cow<'_, [u8]> {
    url_decode_impl(i, true)
}

pub fn url_encode(i: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(i.len() * 3);
    for &c in i {
        if c == b' ' {
            out.push(b'+');
        } else if c.is_ascii_alphanumeric() || c == b'*' {
            out.push(c);
        } else {
            out.extend_from_slice(format!("%{c:02x}").as_bytes());
        }
    }
    Cow::Owned(out)
}

pub fn hex_encode(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(hex::encode(i).into_bytes())
}

/// Pairs of digits to bytes with ModSecurity's unchecked arithmetic (`0z` is `#`); an odd
/// trailing digit is dropped.
pub fn hex_decode(i: &[u8]) -> Cow<'_, [u8]> {
    let d = |c: u8| if c >= b'A' { ((c & 0xdf).wrapping_sub(b'A')).wrapping_add(10) } else { c.wrapping_sub(b'0') };
    Cow::Owned(i.chunks_exact(2).map(|p| d(p[0]).wrapping_mul(16).wrapping_add(d(p[1]))).collect())
}

pub fn base64_encode(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(base64::engine::general_purpose::STANDARD.encode(i).into_bytes())
}

/// Decodes up to the first character outside the alphabet (as apr_base64_decode does).
pub fn base64_decode(i: &[u8]) -> Cow<'_, [u8]> {
    let end = i.iter().position(|&c| !(c.is_ascii_alphanumeric() || c == b'+' || c == b'/')).unwrap_or(i.len());
    Cow::Owned(b64_lenient(&i[..end]))
}

/// Skips characters outside the alphabet and decodes the rest.
pub fn base64_decode_ext(i: &[u8]) -> Cow<'_, [u8]> {
    let clean: Vec<u8> = i.iter().copied().filter(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/').collect();
    Cow::Owned(b64_lenient(&clean))
}

fn b64_lenient(clean: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in clean {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

pub fn html_entity_decode(i: &[u8]) -> Cow<'_, [u8]> {
    if !i.contains(&b'&') {
        return Cow::Borrowed(i);
    }
    let mut out = Vec::with_capacity(i.len());
    let mut k = 0;
    while k < i.len() {
        if i[k] == b'&' && k + 1 < i.len() {
            if i[k + 1] == b'#' {
                let hexa = matches!(i.get(k + 2), Some(b'x' | b'X'));
                let start = if hexa { k + 3 } else { k + 2 };
                let mut j = start;
                while j < i.len() && if hexa { is_hex(i[j]) } else { i[j].is_ascii_digit() } {
                    j += 1;
                }
                if j > start {
                    let digits = &i[start..j];
                    let radix = if hexa { 16 } else { 10 };
                    let mut v: u64 = 0;
                    for &d in digits {
                        v = v
                            .saturating_mul(radix)
                            .saturating_add((d as char).to_digit(radix as u32).unwrap_or(0) as u64);
                    }
                    out.push(v as u8);
                    k = j;
                    if i.get(k) == Some(&b';') {
                        k += 1;
                    }
                    continue;
                }
            } else {
                let mut j = k + 1;
                while j < i.len() && i[j].is_ascii_alphanumeric() {
                    j += 1;
                }
                let name = i[k + 1..j].to_ascii_lowercase();
                let c = match name.as_slice() {
                    b"quot" => Some(b'"'),
                    b"amp" => Some(b'&'),
                    b"lt" => Some(b'<'),
                    b"gt" => Some(b'>'),
                    b"nbsp" => Some(0xa0),
                    _ => None,
                };
                if let Some(c) = c {
                    out.push(c);
                    k = j;
                    if i.get(k) == Some(&b';') {
                        k += 1;
                    }
                    continue;
                }
            }
        }
        out.push(i[k]);
        k += 1;
    }
    Cow::Owned(out)
}

pub fn js_decode(i: &[u8]) -> Cow<'_, [u8]> {
    if !i.contains(&b'\\') {
        return Cow::Borrowed(i);
    }
    let mut out = Vec::with_capacity(i.len());
    let mut k = 0;
    while k < i.len() {
        if i[k] != b'\\' {
            out.push(i[k]);
            k += 1;
            continue;
        }
        if k + 5 < i.len() && i[k + 1] == b'u' && i[k + 2..k + 6].iter().all(|&c| is_hex(c)) {
            let mut c = x2c(i[k + 4], i[k + 5]);
            if c > 0 && c < 0x5f && is_ff(i[k + 2], i[k + 3]) {
                c += 0x20;
            }
            out.push(c);
            k += 6;
        } else if k + 3 < i.len() && i[k + 1] == b'x' && is_hex(i[k + 2]) && is_hex(i[k + 3]) {
            out.push(x2c(i[k + 2], i[k + 3]));
            k += 4;
        } else if k + 1 < i.len() && (b'0'..=b'7').contains(&i[k + 1]) {
            let mut j = 0;
            while j < 3 && k + 1 + j < i.len() && (b'0'..=b'7').contains(&i[k + 1 + j]) {
                j += 1;
            }
            if j == 3 && i[k + 1] > b'3' {
                j = 2;
            }
            let v = i[k + 1..k + 1 + j].iter().fold(0u32, |a, &d| a * 8 + (d - b'0') as u32);
            out.push(v as u8);
            k += 1 + j;
        } else if k + 1 < i.len() {
            out.push(match i[k + 1] {
                b'a' => 7,
                b'b' => 8,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'v' => 0x0b,
                c => c,
            });
            k += 2;
        } else {
            out.push(b'\\');
            k += 1;
        }
    }
    Cow::Owned(out)
}

pub fn css_decode(i: &[u8]) -> Cow<'_, [u8]> {
    if !i.contains(&b'\\') {
        return Cow::Borrowed(i);
    }
    let mut out = Vec::with_capacity(i.len());
    let mut k = 0;
    while k < i.len() {
        if i[k] != b'\\' {
            out.push(i[k]);
            k += 1;
            continue;
        }
        if k + 1 >= i.len() {
            k += 1;
            continue;
        }
        k += 1;
        let mut j = 0;
        while j < 6 && k + j < i.len() && is_hex(i[k + j]) {
            j += 1;
        }
        if j > 0 {
            let h = &i[k..k + j];
            let (mut c, full) = match j {
                1 => (hexval(h[0]).unwrap_or(0), false),
                2 | 3 => (x2c(h[j - 2], h[j - 1]), false),
                4 => (x2c(h[2], h[3]), true),
                5 => (x2c(h[3], h[4]), h[0] == b'0'),
                _ => (x2c(h[4], h[5]), h[0] == b'0' && h[1] == b'0'),
            };
            if full && c > 0 && c < 0x5f && is_ff(h[j - 4], h[j - 3]) {
                c += 0x20;
            }
            out.push(c);
            k += j;
            if k < i.len() && matches!(i[k], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                k += 1;
            }
        } else if i[k] == b'\n' {
            k += 1;
        } else {
            out.push(i[k]);
            k += 1;
        }
    }
    Cow::Owned(out)
}

pub fn escape_seq_decode(i: &[u8]) -> Cow<'_, [u8]> {
    if !i.contains(&b'\\') {
        return Cow::Borrowed(i);
    }
    let mut out = Vec::with_capacity(i.len());
    let mut k = 0;
    while k < i.len() {
        if i[k] == b'\\' && k + 1 < i.len() {
            let simple = match i[k + 1] {
                b'a' => Some(7),
                b'b' => Some(8),
                b'f' => Some(0x0c),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                b'v' => Some(0x0b),
                b'\\' | b'?' | b'\'' | b'"' => Some(i[k + 1]),
                _ => None,
            };
            if let Some(c) = simple {
                out.push(c);
                k += 2;
                continue;
            }
            if matches!(i[k + 1], b'x' | b'X') && k + 3 < i.len() && is_hex(i[k + 2]) && is_hex(i[k + 3]) {
                out.push(x2c(i[k + 2], i[k + 3]));
                k += 4;
                continue;
            }
            if (b'0'..=b'7').contains(&i[k + 1]) {
                let mut j = 0;
                while j < 3 && k + 1 + j < i.len() && (b'0'..=b'7').contains(&i[k + 1 + j]) {
                    j += 1;
                }
                let v = i[k + 1..k + 1 + j].iter().fold(0u32, |a, &d| a * 8 + (d - b'0') as u32);
                out.push(v as u8);
                k += 1 + j;
                continue;
            }
            // An unknown escape yields the escaped character.
            out.push(i[k + 1]);
            k += 2;
        } else {
            out.push(i[k]);
            k += 1;
        }
    }
    Cow::Owned(out)
}

/// Decodes `0x...` hex literals of SQL into bytes.
pub fn sql_hex_decode(i: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(i.len());
    let mut k = 0;
    while k < i.len() {
        if i[k] == b'0'
            && matches!(i.get(k + 1), Some(b'x' | b'X'))
            && i.get(k + 2).is_some_and(|&c| is_hex(c))
            && i.get(k + 3).is_some_and(|&c| is_hex(c))
        {
            k += 2;
            while k + 1 < i.len() && is_hex(i[k]) && is_hex(i[k + 1]) {
                out.push(x2c(i[k], i[k + 1]));
                k += 2;
            }
        } else {
            out.push(i[k]);
            k += 1;
        }
    }
    Cow::Owned(out)
}

/// Replaces multi-byte UTF-8 sequences with `%uXXXX`.
pub fn utf8_to_unicode(i: &[u8]) -> Cow<'_, [u8]> {
    if i.is_ascii() {
        return Cow::Borrowed(i);
    }
    let mut out = Vec::with_capacity(i.len() * 2);
    for chunk in i.utf8_chunks() {
        for ch in chunk.valid().chars() {
            if ch.is_ascii() {
                out.push(ch as u8);
            } else {
                out.extend_from_slice(format!("%u{:04x}", ch as u32).as_bytes());
            }
        }
        out.extend_from_slice(chunk.invalid());
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url() {
        assert_eq!(&*url_decode_uni(b"%u0041%uff1c+%4%41"), b"A< %4A");
        assert_eq!(&*url_decode(b"a%2"), b"a%2");
    }

    #[test]
    fn html() {
        assert_eq!(&*html_entity_decode(b"&lt;&#x41;&#66&quot&foo;"), b"<AB\"&foo;");
    }

    #[test]
    fn js_css() {
        assert_eq!(&*js_decode(b"\\x41\\u0042\\n\\101"), b"AB\nA");
        assert_eq!(&*css_decode(b"\\41 \\000042x"), b"ABx");
    }
}
