//! What a strict HTTP/1.1 front end does before the WAF sees a request: reject a malformed
//! request line or framing headers (400), and normalize what RFC 9112 says to normalize.
//! The edge uses it; the CRS runner uses it in place of upstream's Apache.

use crate::request::Request;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad request: {0}")]
pub struct BadRequest(pub &'static str);

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// Checks the request line and the headers that frame the message.
pub fn check(req: &Request) -> Result<(), BadRequest> {
    if req.method.is_empty() || !req.method.bytes().all(is_tchar) {
        return Err(BadRequest("invalid method"));
    }
    check_version(&req.protocol)?;
    check_target(&req.method, &req.uri)?;
    for (name, value) in &req.headers {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(BadRequest("invalid header name"));
        }
        if value.iter().any(|&c| c == b'\n' || c == 0) {
            return Err(BadRequest("invalid header value"));
        }
    }
    let cls: Vec<&[u8]> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.as_slice())
        .collect();
    if cls.iter().any(|v| v.is_empty() || !v.iter().all(u8::is_ascii_digit)) {
        return Err(BadRequest("Content-Length is not a number"));
    }
    let hosts: Vec<&[u8]> =
        req.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("host")).map(|(_, v)| v.as_slice()).collect();
    if hosts.len() > 1 {
        return Err(BadRequest("more than one Host header"));
    }
    match hosts.first() {
        None if req.protocol == "HTTP/1.1" => return Err(BadRequest("missing Host header")),
        Some(h) if h.is_empty() && req.protocol == "HTTP/1.1" => return Err(BadRequest("empty Host header")),
        Some(h) if !h.iter().all(|&c| c.is_ascii_alphanumeric() || b".-_:[]".contains(&c)) => {
            return Err(BadRequest("invalid Host header"));
        }
        _ => {}
    }
    Ok(())
}

/// `HTTP/x.y` (or `HTTP/x`) with x ≥ 1; HTTP/0.9 requests are not served.
fn check_version(v: &str) -> Result<(), BadRequest> {
    let Some(rest) = v.strip_prefix("HTTP/") else { return Err(BadRequest("invalid protocol")) };
    let (major, minor) = rest.split_once('.').unwrap_or((rest, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return Err(BadRequest("invalid protocol"));
    }
    if major.trim_start_matches('0').is_empty() {
        return Err(BadRequest("HTTP/0.x is not supported"));
    }
    Ok(())
}

fn check_target(method: &str, t: &str) -> Result<(), BadRequest> {
    if t.is_empty() || t.bytes().any(|c| c <= b' ' || c == 0x7f || c == b'#') {
        return Err(BadRequest("invalid request target"));
    }
    if t.starts_with('/') || (t == "*" && method == "OPTIONS") {
        return Ok(());
    }
    let lower = t.get(..8).unwrap_or(t).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(());
    }
    if method == "CONNECT" {
        // authority-form: host:port, the port is required.
        return match t.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => Ok(()),
            _ => Err(BadRequest("CONNECT needs host:port")),
        };
    }
    Err(BadRequest("invalid request target"))
}

/// RFC 9112 normalization: a bare CR in a header value becomes a space; with
/// `Transfer-Encoding: chunked` the Content-Length is dropped and the body de-chunked.
pub fn normalize(req: &mut Request) -> Result<(), BadRequest> {
    for (_, v) in &mut req.headers {
        for c in v.iter_mut() {
            if *c == b'\r' {
                *c = b' ';
            }
        }
    }
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| String::from_utf8_lossy(v).to_ascii_lowercase().trim_end().ends_with("chunked"));
    if chunked {
        req.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-length"));
        req.body = dechunk(&req.body)?;
    }
    Ok(())
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, BadRequest> {
    let mut out = Vec::new();
    loop {
        let nl = b.iter().position(|&c| c == b'\n').ok_or(BadRequest("truncated chunk size"))?;
        let line = b[..nl].strip_suffix(b"\r").unwrap_or(&b[..nl]);
        let size_text = line.split(|&c| c == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size_text)
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .ok_or(BadRequest("invalid chunk size"))?;
        b = &b[nl + 1..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size {
            return Err(BadRequest("truncated chunk"));
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size..];
        b = b.strip_prefix(b"\r\n").or_else(|| b.strip_prefix(b"\n")).ok_or(BadRequest("chunk without line end"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, uri: &str, proto: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: method.into(),
            uri: uri.into(),
            protocol: proto.into(),
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn rejects_malformed_requests() {
        let ok = req("GET", "/a?b", "HTTP/1.1", &[("Host", "localhost")]);
        assert!(check(&ok).is_ok());
        assert!(check(&req(" GET", "/", "HTTP/1.1", &[("Host", "h")])).is_err());
        assert!(check(&req("GET", "/#f", "HTTP/1.1", &[("Host", "h")])).is_err());
        assert!(check(&req("GET", "/", "HTTP/0.9", &[("Host", "h")])).is_err());
        assert!(check(&req("GET", "/", "JUNK/1.0", &[("Host", "h")])).is_err());
        assert!(check(&req("GET", "/", "HTTP/2", &[("Host", "h")])).is_ok());
        assert!(check(&req("GET", "/", "HTTP/1.1", &[("Host", "h%00")])).is_err());
        assert!(check(&req("GET", "/", "HTTP/1.1", &[])).is_err());
        assert!(check(&req("POST", "/", "HTTP/1.1", &[("Host", "h"), ("Content-Length", "3;")])).is_err());
        assert!(check(&req("CONNECT", "example.org", "HTTP/1.1", &[("Host", "h")])).is_err());
        assert!(check(&req("CONNECT", "1.2.3.4:80", "HTTP/1.1", &[("Host", "h")])).is_ok());
    }

    #[test]
    fn normalizes_chunked_and_bare_cr() {
        let mut r =
            req("POST", "/", "HTTP/1.1", &[("Content-Length", "7"), ("Transfer-Encoding", "chunked"), ("X", "a\rb")]);
        r.body = b"7\r\nfoo=bar\r\n0\r\n\r\n".to_vec();
        normalize(&mut r).unwrap();
        assert_eq!(r.body, b"foo=bar");
        assert!(r.header("content-length").is_none());
        assert_eq!(r.header("x"), Some(&b"a b"[..]));
        r.headers.push(("Transfer-Encoding".into(), b"chunked".to_vec()));
        r.body = b"zz\r\n".to_vec();
        assert!(normalize(&mut r).is_err());
    }
}
