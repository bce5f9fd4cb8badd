//! The few JSON pieces a query-log record is made of, written into a byte buffer with the
//! shared fast writers of `mamori_core::json_text`.

use std::net::IpAddr;

use mamori_core::json_text;

pub struct Json<'o>(pub &'o mut Vec<u8>);

impl Json<'_> {
    pub fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// A string, escaped exactly as serde_json escapes it.
    pub fn str(&mut self, s: &str) {
        json_text::write_str(self.0, s);
    }

    pub fn uint(&mut self, v: u64) {
        self.0.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    pub fn bool(&mut self, v: bool) {
        self.raw(if v { b"true" } else { b"false" });
    }

    /// An address as a JSON string (serde writes `IpAddr` with its `Display`).
    pub fn ip(&mut self, ip: IpAddr) {
        self.0.push(b'"');
        json_text::write_ip(self.0, ip);
        self.0.push(b'"');
    }

    /// `"key":` (keys are plain ASCII written by this module, never escaped).
    pub fn key(&mut self, key: &str) {
        self.0.push(b'"');
        self.0.extend_from_slice(key.as_bytes());
        self.raw(b"\":");
    }

    /// `,"key":`
    pub fn next_key(&mut self, key: &str) {
        self.0.push(b',');
        self.key(key);
    }
}
