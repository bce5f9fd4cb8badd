//! Attribution of domain names to owners by suffix: `www.city.midori.lg.jp` belongs to whoever
//! registered `city.midori.lg.jp`, the longest registered suffix on a label boundary.

use std::collections::HashMap;

/// An immutable suffix map from domain names to values.
#[derive(Debug, Clone)]
pub struct DomainMap<V> {
    by_name: HashMap<String, V>,
}

impl<V> Default for DomainMap<V> {
    fn default() -> Self {
        DomainMap { by_name: HashMap::new() }
    }
}

impl<V> DomainMap<V> {
    /// Builds the map from domain names (any case, trailing dot optional, Unicode or punycode).
    /// Names that are not valid domain names are skipped; validation reports them earlier.
    pub fn new(entries: impl IntoIterator<Item = (String, V)>) -> Self {
        let by_name =
            entries.into_iter().filter_map(|(name, v)| normalize_domain(&name).ok().map(|n| (n, v))).collect();
        DomainMap { by_name }
    }

    /// The value of the longest registered suffix of `name`, compared label by label.
    pub fn lookup(&self, name: &str) -> Option<&V> {
        let name = normalize_domain(name).ok()?;
        let mut rest = name.as_str();
        loop {
            if let Some(v) = self.by_name.get(rest) {
                return Some(v);
            }
            rest = &rest[rest.find('.')? + 1..];
        }
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// Lower-cases a domain name, removes one trailing dot and converts Unicode labels to their
/// ASCII (punycode) form, so that `みどり.jp`, `xn--...jp` and `Midori.JP.` compare equal.
pub fn normalize_domain(name: &str) -> Result<String, String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err("empty domain name".into());
    }
    let ascii = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(trimmed).map_err(|_| format!("'{name}' is not a valid internationalized domain name"))?
    };
    if ascii.len() > 253 {
        return Err(format!("'{name}' is longer than 253 characters"));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(format!("'{name}' has an empty label"));
        }
        if label.len() > 63 {
            return Err(format!("'{name}' has a label longer than 63 characters"));
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'*') {
            return Err(format!("'{name}' contains a character not allowed in a domain name"));
        }
    }
    Ok(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_suffix_on_label_boundaries() {
        let m = DomainMap::new([("midori.lg.jp".to_string(), 1), ("city.midori.lg.jp".to_string(), 2)]);
        assert_eq!(m.lookup("www.city.midori.lg.jp"), Some(&2));
        assert_eq!(m.lookup("CITY.MIDORI.LG.JP."), Some(&2));
        assert_eq!(m.lookup("mail.midori.lg.jp"), Some(&1));
        assert_eq!(m.lookup("xmidori.lg.jp"), None);
        assert_eq!(m.lookup("lg.jp"), None);
    }

    #[test]
    fn unicode_names_match_their_punycode() {
        let m = DomainMap::new([("みどり.jp".to_string(), 1)]);
        assert_eq!(m.lookup("www.xn--p9j0b8a.jp"), Some(&1));
        assert_eq!(m.lookup("www.みどり.jp"), Some(&1));
    }

    #[test]
    fn invalid_names_are_rejected() {
        assert!(normalize_domain("").is_err());
        assert!(normalize_domain("a..b").is_err());
        assert!(normalize_domain("a b.jp").is_err());
        assert!(normalize_domain(&"a".repeat(64)).is_err());
    }
}
