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

    /// An address as a JSON string (serde writes `IpAddr` with its `Display`).
    pub fn ip(&mut self, ip: IpAddr) {
        self.0.push(b'"');
        let _ = write!(self.0, "{ip}");
        self.0.push(b'"');
    }

    /// `,"key":` (keys are plain ASCII written by this module, never escaped).
    pub fn next_key(&mut self, key: &str) {
        self.0.extend_from_slice(b",\"");
        self.0.extend_from_slice(key.as_bytes());
        self.raw(b"\":");
    }
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
}
