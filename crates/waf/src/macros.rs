//! Macro expansion `%{tx.anomaly_score}`, `%{MATCHED_VAR}`, `%{rule.id}` in action values and
//! operator parameters; parsed once at rule load.

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(Vec<u8>),
    /// Collection or variable name (upper-cased) and an optional lower-cased key.
    Var(String, Option<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Macro {
    parts: Vec<Part>,
}

/// Looks up one `%{NAME.key}` reference when a macro is expanded.
pub trait Resolve {
    fn resolve(&self, name: &str, key: Option<&str>) -> Option<Vec<u8>>;
}

impl Macro {
    pub fn parse(s: &str) -> Macro {
        Macro::parse_with(s, false)
    }

    /// A macro in an action's value (`setvar`, `msg`, `logdata`, `redirect`): as libmodsecurity's
    /// rule lexer reads these, a `%` right after the closing brace ends the reference too
    /// (`%{REQUEST_HEADERS:Cookie}%`), unless it opens the next one (`%{TX.1}%{TX.2}`).
    pub fn parse_action(s: &str) -> Macro {
        Macro::parse_with(s, true)
    }

    fn parse_with(s: &str, closing_percent: bool) -> Macro {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(p) = rest.find("%{") {
            let Some(end) = rest[p..].find('}') else { break };
            if p > 0 {
                parts.push(Part::Lit(rest.as_bytes()[..p].to_vec()));
            }
            let inner = &rest[p + 2..p + end];
            // Keys compare case-insensitively; a `/regex/` key keeps its case (`\D` is not `\d`).
            let (name, key) = match inner.split_once(['.', ':']) {
                Some((n, k)) if k.len() >= 2 && k.starts_with('/') && k.ends_with('/') => (n, Some(k.to_string())),
                Some((n, k)) => (n, Some(k.to_ascii_lowercase())),
                None => (inner, None),
            };
            parts.push(Part::Var(name.to_ascii_uppercase(), key));
            rest = &rest[p + end + 1..];
            if closing_percent && rest.starts_with('%') && !rest.starts_with("%{") {
                rest = &rest[1..];
            }
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.as_bytes().to_vec()));
        }
        Macro { parts }
    }

    /// The text when there is nothing to expand.
    pub fn literal(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [] => Some(b""),
            [Part::Lit(l)] => Some(l),
            _ => None,
        }
    }

    pub fn expand(&self, r: &dyn Resolve) -> Vec<u8> {
        if let Some(l) = self.literal() {
            return l.to_vec();
        }
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => out.extend_from_slice(l),
                Part::Var(n, k) => {
                    if let Some(v) = r.resolve(n, k.as_deref()) {
                        out.extend_from_slice(&v);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R;
    impl Resolve for R {
        fn resolve(&self, name: &str, key: Option<&str>) -> Option<Vec<u8>> {
            Some(format!("<{name}|{}>", key.unwrap_or("-")).into_bytes())
        }
    }

    #[test]
    fn expands() {
        let m = Macro::parse("a %{tx.Foo} b %{MATCHED_VAR}%{x");
        assert_eq!(m.expand(&R), b"a <TX|foo> b <MATCHED_VAR|->%{x");
        assert_eq!(Macro::parse("plain").literal(), Some(&b"plain"[..]));
    }

    #[test]
    fn a_percent_closes_a_reference_in_actions() {
        assert_eq!(Macro::parse_action("%{tx.a}%").expand(&R), b"<TX|a>");
        assert_eq!(Macro::parse_action("x%{tx.a}%y").expand(&R), b"x<TX|a>y");
        assert_eq!(Macro::parse_action("%{TX.1}%{TX.2}").expand(&R), b"<TX|1><TX|2>");
        assert_eq!(Macro::parse_action("%{tx.a}%%").expand(&R), b"<TX|a>%");
        // Operator parameters keep the percent sign.
        assert_eq!(Macro::parse("%{tx.a}%").expand(&R), b"<TX|a>%");
    }
}
