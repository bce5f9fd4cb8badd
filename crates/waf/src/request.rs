//! The HTTP exchange the engine inspects, and the pieces ModSecurity derives from the request
//! line and headers (path, query arguments, cookies).

use crate::transforms::Transform;

pub type Pair = (Vec<u8>, Vec<u8>);

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// The request target exactly as sent (`/a/b?x=1`, or an absolute URL).
    pub uri: String,
    pub protocol: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub remote_addr: String,
    pub remote_port: u16,
    pub server_port: u16,
}

#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    pub protocol: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }

    /// REQUEST_URI: the target without scheme, host or fragment (clients do not send
    /// fragments; one that does gets it ignored, as by libmodsecurity).
    pub fn request_uri(&self) -> &str {
        let u = self.uri_without_authority();
        &u[..u.find('#').unwrap_or(u.len())]
    }

    /// The target without scheme and host.
    pub fn uri_without_authority(&self) -> &str {
        let u = self.uri.as_str();
        let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let after = &u[u.find("://").map(|p| p + 3).unwrap_or(0)..];
            return match after.find('/') {
                Some(p) => &after[p..],
                None => "/",
            };
        }
        u
    }

    /// The path (REQUEST_FILENAME), without the query string or fragment.
    pub fn path(&self) -> &str {
        let u = self.uri_without_authority();
        let end = u.find(['?', '#']).unwrap_or(u.len());
        &u[..end]
    }

    /// The %-decoded path, as ModSecurity's REQUEST_FILENAME (`+` stays a plus).
    pub fn decoded_path(&self) -> Vec<u8> {
        let p = self.path().as_bytes();
        if !p.contains(&b'%') {
            return p.to_vec();
        }
        let mut out = Vec::with_capacity(p.len());
        let mut i = 0;
        while i < p.len() {
            if p[i] == b'%' && i + 2 < p.len() && p[i + 1].is_ascii_hexdigit() && p[i + 2].is_ascii_hexdigit() {
                let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(h(p[i + 1]) << 4 | h(p[i + 2]));
                i += 3;
            } else {
                out.push(p[i]);
                i += 1;
            }
        }
        out
    }

    pub fn query(&self) -> &str {
        let u = self.uri_without_authority();
        match u.find('?') {
            Some(p) => {
                let q = &u[p + 1..];
                &q[..q.find('#').unwrap_or(q.len())]
            }
            None => "",
        }
    }

    pub fn content_type(&self) -> String {
        self.header("content-type").map(|v| String::from_utf8_lossy(v).to_ascii_lowercase()).unwrap_or_default()
    }
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }
}

/// `a=1&b=2` into decoded pairs, as ModSecurity does (`+` is a space, invalid `%` kept).
/// Returns whether an invalid %-encoding was seen (URLENCODED_ERROR).
pub fn parse_urlencoded(s: &[u8], out: &mut Vec<Pair>) -> bool {
    let mut bad = false;
    for part in s.split(|&c| c == b'&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.iter().position(|&c| c == b'=') {
            Some(p) => (&part[..p], &part[p + 1..]),
            None => (part, &b""[..]),
        };
        bad |= crate::operators::invalid_url_encoding(k) || crate::operators::invalid_url_encoding(v);
        out.push((Transform::UrlDecode.apply(k).into_owned(), Transform::UrlDecode.apply(v).into_owned()));
    }
    bad
}

/// `Cookie: a=1; b=2` into pairs (values are not decoded).
pub fn parse_cookies(v: &[u8], out: &mut Vec<Pair>) {
    for part in v.split(|&c| c == b';') {
        let part = part.trim_ascii();
        if part.is_empty() {
            continue;
        }
        match part.iter().position(|&c| c == b'=') {
            Some(p) => out.push((part[..p].trim_ascii().to_vec(), part[p + 1..].to_vec())),
            None => out.push((part.to_vec(), Vec::new())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parts() {
        let r = Request { uri: "http://h.example/a/b.php?x=%41&y#f".into(), ..Default::default() };
        assert_eq!(r.uri_without_authority(), "/a/b.php?x=%41&y#f");
        assert_eq!(r.path(), "/a/b.php");
        let d = Request { uri: "/a%28+%2".into(), ..Default::default() };
        assert_eq!(d.decoded_path(), b"/a(+%2");
        assert_eq!(r.query(), "x=%41&y");
        let mut args = Vec::new();
        assert!(!parse_urlencoded(r.query().as_bytes(), &mut args));
        assert_eq!(args, vec![(b"x".to_vec(), b"A".to_vec()), (b"y".to_vec(), vec![])]);
        assert!(parse_urlencoded(b"a=%zz", &mut args));
    }

    #[test]
    fn cookies() {
        let mut c = Vec::new();
        parse_cookies(b"a=1; b = 2;c", &mut c);
        assert_eq!(c.len(), 3);
        assert_eq!(c[1], (b"b".to_vec(), b" 2".to_vec()));
    }
}
