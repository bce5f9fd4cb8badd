//! JSON string literals written fast: most strings of a log record need no escape at all, and
//! checking that eight bytes at a time costs far less than serde_json's byte-by-byte loop.

use std::net::{IpAddr, SocketAddr};

/// A JSON record written piece by piece into a byte buffer, for the writers of busy records
/// (access log, query log) that write their fields directly instead of serializing an event.
/// Its small writers are `#[inline]`: a record is a few dozen of them, mostly constant text,
/// and inlined they copy it with a few moves instead of a call into `memcpy` each.
pub struct JsonBuf<'o>(pub &'o mut Vec<u8>);

impl JsonBuf<'_> {
    #[inline]
    pub fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// A string, quoted and escaped as serde_json escapes it.
    #[inline]
    pub fn str(&mut self, s: &str) {
        write_str(self.0, s);
    }

    /// A string the writer knows needs no escape (a name from a fixed table), quoted.
    #[inline]
    pub fn plain(&mut self, s: &'static str) {
        debug_assert!(!needs_escape(s.as_bytes()), "{s:?} needs escaping");
        self.0.push(b'"');
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(b'"');
    }

    /// Part of a string's text (the caller writes the quotes), escaped.
    #[inline]
    pub fn str_part(&mut self, s: &str) {
        write_str_part(self.0, s);
    }

    #[inline]
    pub fn uint(&mut self, v: u64) {
        self.0.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.raw(if v { b"true" } else { b"false" });
    }

    /// An address as a JSON string, as serde writes it (its `Display`).
    pub fn ip(&mut self, ip: IpAddr) {
        self.0.push(b'"');
        write_ip(self.0, ip);
        self.0.push(b'"');
    }

    /// `"key":` (keys are plain ASCII chosen by the writer, never escaped).
    #[inline]
    pub fn key(&mut self, key: &str) {
        self.0.push(b'"');
        self.0.extend_from_slice(key.as_bytes());
        self.raw(b"\":");
    }

    /// `,"key":`
    #[inline]
    pub fn next_key(&mut self, key: &str) {
        self.0.push(b',');
        self.key(key);
    }
}

/// Appends `s` as a JSON string literal, escaped exactly as serde_json escapes it.
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_str_part(out, s);
    out.push(b'"');
}

/// Appends the escaped text of `s` without the quotes (for a string written in parts), as
/// serde_json escapes it: `"`, `\` and control bytes below 0x20; everything else, non-ASCII
/// text included, is copied as it is, runs of plain bytes whole.
pub fn write_str_part(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&bytes[plain..i]);
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
                plain = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        out.extend_from_slice(escape);
        plain = i + 1;
    }
    out.extend_from_slice(&bytes[plain..]);
}

/// Appends an address as its `Display` writes it (no quotes); IPv4 without the formatting
/// machinery, which costs about 1,000 instructions.
pub fn write_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                out.extend_from_slice(itoa::Buffer::new().format(octet).as_bytes());
            }
        }
        IpAddr::V6(v6) => {
            use std::io::Write as _;
            let _ = write!(out, "{v6}");
        }
    }
}

/// Appends an address and port as `SocketAddr`'s `Display` writes them (no quotes).
pub fn write_socket_addr(out: &mut Vec<u8>, addr: SocketAddr) {
    match addr {
        SocketAddr::V4(v4) => {
            write_ip(out, IpAddr::V4(*v4.ip()));
            out.push(b':');
            out.extend_from_slice(itoa::Buffer::new().format(v4.port()).as_bytes());
        }
        SocketAddr::V6(v6) => {
            use std::io::Write as _;
            let _ = write!(out, "{v6}");
        }
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
    use std::net::IpAddr;

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
        for b in 0u8..0x80 {
            let s = format!("ab{}cd", b as char);
            let mut out = Vec::new();
            super::write_str(&mut out, &s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap(), "{b:#x}");
        }
    }

    #[test]
    fn every_byte_that_needs_escaping_is_found_at_every_position_of_a_word() {
        for special in (0u8..0x20).chain([b'"', b'\\']) {
            for len in 1..=19 {
                for at in 0..len {
                    let mut text = vec![b'a'; len];
                    // Non-ASCII neighbours must neither hide nor fake a special byte.
                    text.iter_mut().step_by(3).for_each(|c| *c = 0xe3);
                    text[at] = special;
                    assert!(super::needs_escape(&text), "byte {special:#x} at {at} of {len}");
                }
            }
        }
        assert!(!super::needs_escape("http://みどり市.example.jp/a?b=c&d=~e#f".as_bytes()));
        assert!(!super::needs_escape(&[0x20, 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']', 0x20, 0x21]));
    }

    #[test]
    fn addresses_in_records_are_written_as_serde_writes_them() {
        for ip in ["0.0.0.0", "10.1.2.3", "255.255.255.255", "::1", "2001:db8::7", "::ffff:10.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = Vec::new();
            super::JsonBuf(&mut out).ip(ip);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&ip).unwrap());
        }
    }

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        for a in ["0.0.0.0:0", "10.1.2.3:514", "255.255.255.255:65535", "[2001:db8::1]:53", "[::ffff:10.0.0.1]:1"] {
            let addr: std::net::SocketAddr = a.parse().unwrap();
            let (mut ip, mut full) = (Vec::new(), Vec::new());
            super::write_ip(&mut ip, addr.ip());
            super::write_socket_addr(&mut full, addr);
            assert_eq!(String::from_utf8(ip).unwrap(), addr.ip().to_string());
            assert_eq!(String::from_utf8(full).unwrap(), addr.to_string());
        }
    }
}
