//! The few JSON pieces an access-log record is made of, written into a byte buffer.

use std::io::Write as _;
use std::net::IpAddr;

pub struct Json<'o>(pub &'o mut Vec<u8>);

impl Json<'_> {
    pub fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// A string, quoted.
    pub fn str(&mut self, s: &str) {
        self.0.reserve(s.len() + 2);
        self.0.push(b'"');
        self.str_part(s);
        self.0.push(b'"');
    }

    /// Part of a string's text (the caller writes the quotes), escaped exactly as serde_json
    /// escapes it: `"`, `\` and control bytes below 0x20; everything else, non-ASCII text
    /// included, is copied as it is. Runs of plain bytes are copied whole.
    pub fn str_part(&mut self, s: &str) {
        let bytes = s.as_bytes();
        // URLs and names almost never need escaping: a check of eight bytes at a time costs
        // far less than the byte-by-byte loop below (callgrind: 2,400 instructions a request).
        if !may_need_escaping(bytes) {
            self.0.extend_from_slice(bytes);
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
                    self.0.extend_from_slice(&bytes[plain..i]);
                    self.0.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[(b >> 4) as usize],
                        HEX[(b & 15) as usize],
                    ]);
                    plain = i + 1;
                    continue;
                }
                _ => continue,
            };
            self.0.extend_from_slice(&bytes[plain..i]);
            self.0.extend_from_slice(escape);
            plain = i + 1;
        }
        self.0.extend_from_slice(&bytes[plain..]);
    }

    pub fn uint(&mut self, v: u64) {
        self.0.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// An address as a JSON string, as serde writes it (its `Display`); IPv4 without the
    /// formatting machinery, which cost 1,000 instructions a request.
    pub fn ip(&mut self, ip: IpAddr) {
        self.0.push(b'"');
        match ip {
            IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        self.0.push(b'.');
                    }
                    self.0.extend_from_slice(itoa::Buffer::new().format(octet).as_bytes());
                }
            }
            IpAddr::V6(v6) => {
                let _ = write!(self.0, "{v6}");
            }
        }
        self.0.push(b'"');
    }

    /// `,"key":` (keys are plain ASCII written by this module, never escaped).
    pub fn next_key(&mut self, key: &str) {
        self.0.extend_from_slice(b",\"");
        self.0.extend_from_slice(key.as_bytes());
        self.raw(b"\":");
    }
}

/// Whether `b` holds a byte that JSON escapes (below 0x20, `"` or `\`). Never false when one
/// is there (the word tests are exact for "any byte"), so the fast path cannot skip one.
fn may_need_escaping(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // A byte of `v` is zero, or below `n` (n <= 128): Bit Twiddling Hacks' haszero and hasless.
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGH != 0;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_ne_bytes(w.try_into().expect("eight bytes"));
        if below(v, 0x20) || below(v ^ (ONES * u64::from(b'"')), 1) || below(v ^ (ONES * u64::from(b'\\')), 1) {
            return true;
        }
    }
    words.remainder().iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        for s in
            ["", "plain", "q\"uote", "back\\slash", "みどり市", "tab\there", "\u{7f}del", &all_controls, "a\u{0}b\"\\"]
        {
            let mut out = Vec::new();
            Json(&mut out).str(s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap(), "{s:?}");
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
                    assert!(may_need_escaping(&text), "byte {special:#x} at {at} of {len}");
                }
            }
        }
        assert!(!may_need_escaping("http://みどり市.example.jp/a?b=c&d=~e#f".as_bytes()));
        assert!(!may_need_escaping(&[0x20, 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']', 0x20, 0x21]));
    }

    #[test]
    fn addresses_are_written_as_serde_writes_them() {
        for ip in ["0.0.0.0", "10.1.2.3", "192.168.100.255", "255.255.255.255", "::1", "2001:db8::7", "::ffff:10.0.0.1"]
        {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = Vec::new();
            Json(&mut out).ip(ip);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&ip).unwrap());
        }
    }
}
