//! HTTP/2 towards plain-HTTP origins. Without TLS there is no ALPN in which an origin could
//! offer it, so the origins that speak it ("h2c" with prior knowledge, RFC 9113 §3.3) are
//! named in the settings.

/// An origin spoken to in HTTP/2 over plain TCP: a domain (with its subdomains), on any port
/// or on one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H2cOrigin {
    pub domain: String,
    pub port: Option<u16>,
}

impl H2cOrigin {
    /// `example.jp`, `example.jp:8080`, `10.0.0.5:8080` or `[::1]:8080`.
    pub fn parse(s: &str) -> Result<H2cOrigin, String> {
        let s = s.trim().trim_start_matches('.').to_ascii_lowercase();
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
                let port = p.parse::<u16>().map_err(|_| format!("h2c origin {s:?}: {p:?} is not a port"))?;
                (h.trim_start_matches('[').trim_end_matches(']').to_string(), Some(port))
            }
            _ => (s.trim_start_matches('[').trim_end_matches(']').to_string(), None),
        };
        if host.is_empty() || host.contains(['/', ' ']) {
            return Err(format!("h2c origin {s:?}: expected a host name or address, optionally with :port"));
        }
        Ok(H2cOrigin { domain: host, port })
    }

    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case(&self.domain)
            || (host.len() > self.domain.len()
                && host.as_bytes()[host.len() - self.domain.len() - 1] == b'.'
                && host[host.len() - self.domain.len()..].eq_ignore_ascii_case(&self.domain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_match_with_subdomains_and_ports_when_given() {
        let o = H2cOrigin::parse("Grpc.Example.jp").unwrap();
        assert!(o.matches("grpc.example.jp", 80));
        assert!(o.matches("api.grpc.example.jp", 8080));
        assert!(!o.matches("xgrpc.example.jp", 80));
        assert!(!o.matches("example.jp", 80));
        let o = H2cOrigin::parse("10.0.0.5:8080").unwrap();
        assert!(o.matches("10.0.0.5", 8080));
        assert!(!o.matches("10.0.0.5", 80));
        let o = H2cOrigin::parse("[::1]:81").unwrap();
        assert_eq!(o, H2cOrigin { domain: "::1".into(), port: Some(81) });
        assert!(o.matches("[::1]", 81));
        assert_eq!(H2cOrigin::parse("::1").unwrap().port, None);
        assert!(H2cOrigin::parse("example.jp:http").is_err());
        assert!(H2cOrigin::parse("http://example.jp/").is_err());
    }
}
