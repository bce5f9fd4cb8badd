//! One entry of a list, in the normalized form the matcher indexes.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::normalize::{Target, TargetError, ascii_lowercase_name};

/// Longest regular expression accepted, and the compiled size it may reach: a list line must
/// not be able to make every request slow.
const MAX_REGEX_BYTES: usize = 4096;
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Entry {
    /// A domain and all its subdomains.
    Domain(String),
    /// A URL: `exact` matches that URL only (query included), otherwise every URL that starts
    /// with it. `key` is in the form of [`Target::url_key`].
    Url { key: String, exact: bool },
    /// A regular expression over [`Target::url_key`], case-insensitive.
    Regex(String),
    /// An address or network; matches requests whose host is an address inside it.
    Net(IpNet),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("empty entry")]
    Empty,
    #[error("'{0}' is not a domain name")]
    BadDomain(String),
    #[error("'{entry}' is not a URL: {reason}")]
    BadUrl { entry: String, reason: TargetError },
    #[error("'{entry}' is not a valid regular expression: {reason}")]
    BadRegex { entry: String, reason: String },
    #[error("'{0}' is not an address or network")]
    BadNet(String),
}

impl Entry {
    /// A line of a domain list: `example.jp`, `.example.jp` or `*.example.jp` (the same: the
    /// domain and its subdomains). An address becomes a one-address network.
    pub fn domain(s: &str) -> Result<Entry, EntryError> {
        let s = s.trim();
        let s = s.strip_prefix("*.").or_else(|| s.strip_prefix('.')).unwrap_or(s);
        let s = s.strip_suffix('.').unwrap_or(s);
        if s.is_empty() {
            return Err(EntryError::Empty);
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Entry::Net(IpNet::from(ip)));
        }
        let ascii = ascii_lowercase_name(s).ok_or_else(|| EntryError::BadDomain(s.to_string()))?;
        let valid = ascii.len() <= 253
            && ascii.split('.').all(|l| {
                !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid {
            return Err(EntryError::BadDomain(s.to_string()));
        }
        Ok(Entry::Domain(ascii))
    }

    /// A URL that matches itself and every URL that starts with it (`example.jp/forum/`).
    pub fn url_prefix(s: &str) -> Result<Entry, EntryError> {
        Ok(Entry::Url { key: url_key(s)?, exact: false })
    }

    /// A URL that matches only itself.
    pub fn url_exact(s: &str) -> Result<Entry, EntryError> {
        Ok(Entry::Url { key: url_key(s)?, exact: true })
    }

    pub fn regex(s: &str) -> Result<Entry, EntryError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(EntryError::Empty);
        }
        if s.len() > MAX_REGEX_BYTES {
            return Err(EntryError::BadRegex { entry: s[..64].to_string(), reason: "too long".into() });
        }
        regex::RegexBuilder::new(s)
            .case_insensitive(true)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| EntryError::BadRegex { entry: s.to_string(), reason: e.to_string() })?;
        Ok(Entry::Regex(s.to_string()))
    }

    pub fn net(s: &str) -> Result<Entry, EntryError> {
        let s = s.trim();
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(Entry::Net(net.trunc()));
        }
        s.parse::<IpAddr>().map(|ip| Entry::Net(IpNet::from(ip))).map_err(|_| EntryError::BadNet(s.to_string()))
    }

    /// An entry of a list whose kind each line decides: an address or network, a URL (it has a
    /// path or a scheme) or a domain.
    pub fn guess(s: &str) -> Result<Entry, EntryError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(EntryError::Empty);
        }
        if let Ok(e) = Entry::net(s) {
            return Ok(e);
        }
        if s.contains("://") || s.contains('/') {
            return Entry::url_prefix(s);
        }
        Entry::domain(s)
    }
}

fn url_key(s: &str) -> Result<String, EntryError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(EntryError::Empty);
    }
    Target::parse(s)
        .map(|t| t.url_key().to_string())
        .map_err(|reason| EntryError::BadUrl { entry: s.to_string(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(Entry::domain("*.Example.JP."), Ok(Entry::Domain("example.jp".into())));
        assert_eq!(Entry::domain(".a.b"), Ok(Entry::Domain("a.b".into())));
        assert_eq!(Entry::domain("10.0.0.1"), Ok(Entry::Net("10.0.0.1/32".parse().unwrap())));
        assert!(matches!(Entry::domain("a..b"), Err(EntryError::BadDomain(_))));
        assert!(matches!(Entry::domain("a b"), Err(EntryError::BadDomain(_))));
        assert_eq!(Entry::domain("  "), Err(EntryError::Empty));
    }

    #[test]
    fn urls_and_guesses() {
        assert_eq!(
            Entry::url_prefix("http://www.Example.jp/Forum/"),
            Ok(Entry::Url { key: "example.jp/forum/".into(), exact: false })
        );
        assert_eq!(Entry::guess("192.0.2.0/24"), Ok(Entry::Net("192.0.2.0/24".parse().unwrap())));
        assert_eq!(Entry::guess("a.jp/x"), Ok(Entry::Url { key: "a.jp/x".into(), exact: false }));
        assert_eq!(Entry::guess("a.jp"), Ok(Entry::Domain("a.jp".into())));
        assert!(matches!(Entry::regex("(unclosed"), Err(EntryError::BadRegex { .. })));
    }
}
