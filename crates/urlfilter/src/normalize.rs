//! A request's destination in the one form every list is matched against.

use std::net::IpAddr;

/// Longest URL accepted for matching; longer ones are refused rather than truncated, so that
/// nothing can hide past a cut.
const MAX_URL_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the URL has no host")]
    NoHost,
    #[error("the port '{0}' is not a number from 0 to 65535")]
    BadPort(String),
    #[error("the host '{0}' is not a valid domain name or address")]
    BadHost(String),
    #[error("the URL is {0} bytes long; at most {MAX_URL_BYTES} are accepted")]
    TooLong(usize),
    #[error("the URL contains a control character")]
    ControlCharacter,
}

/// The destination of a request: an absolute URL (`http://host/path`), the authority of a
/// `CONNECT` (`host:443`) or a bare `host/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Lower case, ASCII (punycode), without user info, port, brackets or a trailing dot.
    host: String,
    /// `host` without a leading `www`/`web`/`ftp` label, then the path and query: lower case,
    /// percent-decoded, repeated slashes collapsed. URL entries are prefixes of this.
    url_key: String,
    /// Where the host ends in `url_key`.
    key_host_len: usize,
    ip: Option<IpAddr>,
    port: Option<u16>,
}

impl Target {
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        if input.len() > MAX_URL_BYTES {
            return Err(TargetError::TooLong(input.len()));
        }
        if input.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(TargetError::ControlCharacter);
        }
        let rest = match memchr::memmem::find(input.as_bytes(), b"://") {
            Some(i) => &input[i + 3..],
            None => input,
        };
        let authority_end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = split_port(authority)?;
        let host = normalize_host(host)?;
        let ip = host.parse::<IpAddr>().ok();
        let mut url_key = String::with_capacity(host.len() + path.len());
        url_key.push_str(strip_www(&host));
        let key_host_len = url_key.len();
        push_path(&mut url_key, path);
        Ok(Target { host, url_key, key_host_len, ip, port })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The address, when the host is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Host (without `www.`) and path as URL entries and expressions see them.
    pub fn url_key(&self) -> &str {
        &self.url_key
    }

    /// The `url_key` up to the end of the host.
    pub fn key_host(&self) -> &str {
        &self.url_key[..self.key_host_len]
    }
}

fn split_port(authority: &str) -> Result<(&str, Option<u16>), TargetError> {
    if let Some(v6) = authority.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return Err(TargetError::BadHost(authority.to_string()));
        };
        return match after.strip_prefix(':') {
            Some(p) => Ok((host, Some(parse_port(p)?))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(TargetError::BadHost(authority.to_string())),
        };
    }
    match authority.rsplit_once(':') {
        // A bare IPv6 address has several colons and no port.
        Some((host, _)) if host.contains(':') => Ok((authority, None)),
        Some((host, p)) => Ok((host, if p.is_empty() { None } else { Some(parse_port(p)?) })),
        None => Ok((authority, None)),
    }
}

fn parse_port(p: &str) -> Result<u16, TargetError> {
    p.parse().map_err(|_| TargetError::BadPort(p.to_string()))
}

fn normalize_host(host: &str) -> Result<String, TargetError> {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return Err(TargetError::NoHost);
    }
    let host = ascii_lowercase_name(host).ok_or_else(|| TargetError::BadHost(host.to_string()))?;
    if host.bytes().any(|b| b.is_ascii_whitespace() || b == b'\\') {
        return Err(TargetError::BadHost(host));
    }
    Ok(host)
}

/// A host or domain name in lower-case ASCII, Unicode labels as punycode; `None` when IDNA
/// refuses it.
pub(crate) fn ascii_lowercase_name(name: &str) -> Option<String> {
    if name.is_ascii() { Some(name.to_ascii_lowercase()) } else { idna::domain_to_ascii(name).ok() }
}

/// `www.`, `www2.`, `web.`, `ftp.` and the like name a service, not a different site; squidGuard
/// ignores them for URL entries and so do we.
pub(crate) fn strip_www(host: &str) -> &str {
    for prefix in ["www", "web", "ftp"] {
        if let Some(rest) = host.strip_prefix(prefix) {
            let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            if let Some(rest) = rest.strip_prefix('.')
                && !rest.is_empty()
            {
                return rest;
            }
        }
    }
    host
}

/// Appends the path and query, lower case and percent-decoded, without the fragment and with
/// repeated slashes before the query collapsed (`//a//b` and `/a/b` are the same page).
pub(crate) fn push_path(out: &mut String, path: &str) {
    let path = path.split_once('#').map_or(path, |(p, _)| p);
    let decoded = percent_decode(path);
    if decoded.is_ascii() {
        // The common case, a byte at a time.
        let mut in_query = false;
        let mut prev_slash = false;
        out.reserve(decoded.len());
        for b in decoded.bytes() {
            in_query |= b == b'?';
            if b == b'/' && prev_slash && !in_query {
                continue;
            }
            prev_slash = b == b'/';
            out.push(b.to_ascii_lowercase() as char);
        }
        return;
    }
    let mut in_query = false;
    let mut prev_slash = false;
    for c in decoded.chars() {
        if c == '?' {
            in_query = true;
        }
        if c == '/' && prev_slash && !in_query {
            continue;
        }
        prev_slash = c == '/';
        out.extend(c.to_lowercase());
    }
}

fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('%') {
        return std::borrow::Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        Target::parse(s).unwrap()
    }

    #[test]
    fn absolute_urls() {
        let x = t("HTTP://User:pw@WWW.Example.COM.:8080//Path//To%2Fx?q=A//b#frag");
        assert_eq!(x.host(), "www.example.com");
        assert_eq!(x.port(), Some(8080));
        assert_eq!(x.url_key(), "example.com/path/to/x?q=a//b");
        assert_eq!(x.key_host(), "example.com");
    }

    #[test]
    fn connect_authority_and_ipv6() {
        let x = t("secure.example.jp:443");
        assert_eq!((x.host(), x.port(), x.url_key()), ("secure.example.jp", Some(443), "secure.example.jp"));
        let y = t("http://[2001:db8::1]:81/a");
        assert_eq!(y.host(), "2001:db8::1");
        assert_eq!(y.ip(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(t("10.1.2.3/x").ip(), Some("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn www_like_labels() {
        assert_eq!(strip_www("www2.a.jp"), "a.jp");
        assert_eq!(strip_www("web.a.jp"), "a.jp");
        assert_eq!(strip_www("wwwx.a.jp"), "wwwx.a.jp");
        assert_eq!(strip_www("www."), "www.");
        assert_eq!(strip_www("www.jp"), "jp");
    }

    #[test]
    fn unicode_hosts_become_punycode() {
        assert_eq!(t("http://みどり.jp/").host(), "xn--p9j0b8a.jp");
    }

    #[test]
    fn bad_input_is_named() {
        assert_eq!(Target::parse("http:///x"), Err(TargetError::NoHost));
        assert_eq!(Target::parse("http://a.jp:99999/"), Err(TargetError::BadPort("99999".into())));
        assert_eq!(Target::parse("http://a\u{1}.jp/"), Err(TargetError::ControlCharacter));
        assert!(matches!(Target::parse(&"a".repeat(20_000)), Err(TargetError::TooLong(_))));
        assert!(matches!(Target::parse("http://[::1/"), Err(TargetError::BadHost(_))));
    }
}
