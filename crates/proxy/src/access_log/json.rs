//! The few JSON pieces an access-log record is made of, written into a byte buffer with the
//! shared fast writers of `mamori_core::json_text`.

use std::net::IpAddr;

use mamori_core::json_text;

pub struct Json<'o>(pub &'o mut Vec<u8>);

impl Json<'_> {
    pub fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// A string, quoted and escaped as serde_json escapes it.
    pub fn str(&mut self, s: &str) {
        json_text::write_str(self.0, s);
    }

    /// Part of a string's text (the caller writes the quotes), escaped.
    pub fn str_part(&mut self, s: &str) {
        json_text::write_str_part(self.0, s);
    }

    pub fn uint(&mut self, v: u64) {
        self.0.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// An address as a JSON string, as serde writes it (its `Display`).
    pub fn ip(&mut self, ip: IpAddr) {
        self.0.push(b'"');
        json_text::write_ip(self.0, ip);
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
