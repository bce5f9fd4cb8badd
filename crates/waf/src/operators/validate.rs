//! `@validateByteRange`, `@validateUrlEncoding`, `@validateUtf8Encoding`, `@verifyCC` helpers.

/// Parses `9,10,13,32-126` into the set of allowed bytes; numbers read like C's atoi.
pub fn byte_ranges(param: &str) -> Result<Box<[bool; 256]>, String> {
    let mut allowed = Box::new([false; 256]);
    for part in param.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (atoi(a.trim()), atoi(b.trim())),
            None => (atoi(part), atoi(part)),
        };
        if !(0..=255).contains(&lo) || !(0..=255).contains(&hi) || lo > hi {
            return Err(format!("invalid byte range '{part}'"));
        }
        for b in lo..=hi {
            allowed[b as usize] = true;
        }
    }
    Ok(allowed)
}

/// C's atoi: optional whitespace and sign, then digits; anything else reads as 0.
pub fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for c in digits.bytes() {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    if neg { -v } else { v }
}

/// True when the input has a `%` not followed by two hex digits.
pub fn invalid_url_encoding(i: &[u8]) -> bool {
    let mut k = 0;
    while k < i.len() {
        if i[k] == b'%' {
            if k + 2 >= i.len() || !i[k + 1].is_ascii_hexdigit() || !i[k + 2].is_ascii_hexdigit() {
                return true;
            }
            k += 3;
        } else {
            k += 1;
        }
    }
    false
}

pub fn invalid_utf8(i: &[u8]) -> bool {
    std::str::from_utf8(i).is_err()
}

/// Luhn check over the digits of a candidate card number.
pub fn luhn(candidate: &[u8]) -> bool {
    let digits: Vec<u32> = candidate.iter().filter(|c| c.is_ascii_digit()).map(|&c| (c - b'0') as u32).collect();
    if digits.len() < 13 || digits.len() > 19 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_encodings() {
        let r = byte_ranges("9,32-126").unwrap();
        assert!(r[9] && r[32] && r[126] && !r[127]);
        assert!(byte_ranges("300").is_err());
        assert!(invalid_url_encoding(b"a%2"));
        assert!(!invalid_url_encoding(b"a%20"));
        assert!(luhn(b"5484605089158216"));
        assert_eq!(atoi(" -12x"), -12);
    }
}
