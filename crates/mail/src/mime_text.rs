//! Small pieces of MIME for the text the relay writes itself (notices, DSNs, subject tags):
//! RFC 2047 encoded words and base64 bodies.

/// One RFC 2047 encoded word (UTF-8, base64) for a header; short texts only (the notices' own
/// subjects and tags), so no splitting into several words.
pub fn encode_word(s: &str) -> String {
    format!("=?UTF-8?B?{}?=", b64(s.as_bytes()))
}

pub fn b64_lines(data: &[u8]) -> String {
    let encoded = b64(data);
    let mut out = String::new();
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push_str("\r\n");
    }
    out
}

/// Base64 (RFC 4648) without a crate for forty lines of it.
pub fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 { T[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if c.len() > 2 { T[n as usize & 63] as char } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        assert_eq!(b64(b"f"), "Zg==");
        assert_eq!(b64(b"fo"), "Zm8=");
        assert_eq!(b64(b"foo"), "Zm9v");
    }
}
