//! The few JSON pieces a query-log record is made of, written into a byte buffer.

use std::io::Write as _;
use std::net::IpAddr;

pub struct Json<'o>(pub &'o mut Vec<u8>);

impl Json<'_> {
    pub fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// A string, escaped exactly as serde_json escapes it. Query names of cached answers never
    /// need escaping, and one check of the bytes costs less than serde's escaping loop.
    pub fn str(&mut self, s: &str) {
        if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            serde_json::to_writer(&mut *self.0, s).expect("a string always serializes");
        } else {
            self.0.reserve(s.len() + 2);
            self.0.push(b'"');
            self.0.extend_from_slice(s.as_bytes());
            self.0.push(b'"');
        }
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
        let _ = write!(self.0, "{ip}");
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
