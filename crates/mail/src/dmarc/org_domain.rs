//! The Organizational Domain (RFC 7489 §3.2): the registered domain under a public suffix,
//! found with the Public Suffix List. Relaxed alignment compares these, and policy discovery
//! falls back to the Organizational Domain's record.
//!
//! A copy of the list is embedded (`data/public_suffix_list.dat`, MPL-2.0, version in its
//! header); `mail.public_suffix_list` points to a newer file, such as the one Debian's
//! `publicsuffix` package keeps current.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use publicsuffix::{List, Psl as _};

const EMBEDDED: &str = include_str!("../../data/public_suffix_list.dat");

/// A loaded Public Suffix List.
#[derive(Clone)]
pub struct PublicSuffixList {
    list: Arc<List>,
    version: String,
}

impl std::fmt::Debug for PublicSuffixList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicSuffixList({})", self.version)
    }
}

/// The `// VERSION: ...` line of the list's header, or "unknown".
fn version_of(text: &str) -> String {
    text.lines()
        .take(50)
        .find_map(|l| l.strip_prefix("// VERSION:"))
        .map_or_else(|| "unknown".to_string(), |v| v.trim().to_string())
}

impl PublicSuffixList {
    /// The copy built into mamori (parsed once per process).
    pub fn embedded() -> PublicSuffixList {
        static LIST: OnceLock<PublicSuffixList> = OnceLock::new();
        LIST.get_or_init(|| PublicSuffixList::parse(EMBEDDED).expect("the embedded Public Suffix List parses")).clone()
    }

    /// A list in the publicsuffix.org format.
    pub fn parse(text: &str) -> Result<PublicSuffixList, String> {
        let list: List = text.parse().map_err(|e| format!("not a Public Suffix List: {e}"))?;
        if list.is_empty() {
            return Err("not a Public Suffix List: no rules".into());
        }
        Ok(PublicSuffixList { list: Arc::new(list), version: version_of(text) })
    }

    pub fn load(path: &Path) -> Result<PublicSuffixList, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        PublicSuffixList::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The list's `VERSION` header, for the logs.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The Organizational Domain of `domain` (lower case, no trailing dot): the public suffix
    /// plus one label. A domain that is itself a public suffix, or not a domain name, is its
    /// own Organizational Domain.
    pub fn organizational_domain(&self, domain: &str) -> String {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        match self.list.domain(domain.as_bytes()) {
            Some(registrable) => String::from_utf8_lossy(registrable.as_bytes()).into_owned(),
            None => domain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(d: &str) -> String {
        PublicSuffixList::embedded().organizational_domain(d)
    }

    #[test]
    fn japanese_public_sector_names() {
        // The list names `lg.jp` alone, so `city.midori.lg.jp` belongs to `midori.lg.jp`.
        assert_eq!(org("mail.city.midori.lg.jp"), "midori.lg.jp");
        assert_eq!(org("city.midori.lg.jp"), "midori.lg.jp");
        assert_eq!(org("www.pref.kochi.lg.jp"), "kochi.lg.jp");
        assert_eq!(org("a.b.example.co.jp"), "example.co.jp");
        assert_eq!(org("example.jp"), "example.jp");
        // `<city>.<prefecture>.jp` names are public suffixes of their own.
        assert_eq!(org("www.example.atsugi.kanagawa.jp"), "example.atsugi.kanagawa.jp");
        assert_eq!(org("www.example.kanagawa.jp"), "example.kanagawa.jp");
    }

    #[test]
    fn wildcards_exceptions_and_unknown_tlds() {
        // `*.kawasaki.jp` with the exception `!city.kawasaki.jp`.
        assert_eq!(org("www.foo.kawasaki.jp"), "www.foo.kawasaki.jp");
        assert_eq!(org("www.city.kawasaki.jp"), "city.kawasaki.jp");
        // No rule matches: the implicit `*` rule makes the last label the suffix.
        assert_eq!(org("mail.example.unknowntld"), "example.unknowntld");
        assert_eq!(org("MAIL.Example.COM."), "example.com");
    }

    #[test]
    fn suffixes_and_idn() {
        assert_eq!(org("lg.jp"), "lg.jp");
        assert_eq!(org("jp"), "jp");
        // 岐阜.jp is a public suffix; its A-label form must be known too.
        assert_eq!(org("www.example.xn--nit225k.jp"), "example.xn--nit225k.jp");
    }

    #[test]
    fn embedded_version_is_read() {
        assert_ne!(PublicSuffixList::embedded().version(), "unknown");
        assert!(PublicSuffixList::parse("// nothing\n").is_err());
    }
}
