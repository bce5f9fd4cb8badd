//! JSON string literals written fast: most strings of a log record need no escape at all, and
//! checking that eight bytes at a time costs far less than serde_json's byte-by-byte loop.

/// Appends `s` as a JSON string literal, escaped exactly as serde_json escapes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("a string always serializes");
    }
}

/// Whether `b` holds a byte JSON must escape (a control character, `"` or `\\`).
pub fn needs_escape(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // High bit set in a byte of the result when that byte of `w` is zero (exact for the
    // lowest such byte, which is all that matters for "any").
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    let (words, rest) = b.as_chunks::<8>();
    let word_needs = |w: u64| {
        // Bytes below 0x20: their three top bits are clear (bytes >= 0x80 are never flagged).
        let control = zero_byte(w & (0xe0 * ONES));
        control | zero_byte(w ^ (b'"' as u64 * ONES)) | zero_byte(w ^ (b'\\' as u64 * ONES)) != 0
    };
    words.iter().any(|w| word_needs(u64::from_le_bytes(*w)))
        || rest.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_check_agrees_with_the_byte_rule() {
        for len in 0..40 {
            for at in 0..len {
                for b in 0u8..=255 {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    let expected = s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
                    assert_eq!(super::needs_escape(&s), expected, "byte {b:#x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in ["", "plain", "みどり市", "a\"b", "back\\slash", "tab\there", "nul\0", "\u{1f}", "\u{7f}", "é\n\r"]
        {
            let mut out = Vec::new();
            super::write_str(&mut out, s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }
}
