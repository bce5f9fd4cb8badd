//! Envelope addresses (RFC 5321 §4.1.2, with RFC 6531 UTF-8): the strict grammar, because a
//! relay that guesses what an odd address means is how open relays happen.

use std::fmt;
use std::net::IpAddr;

/// The domain part of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Domain {
    /// Lower-cased, punycode for Unicode labels, no trailing dot.
    Name(String),
    /// `[192.0.2.1]`, `[IPv6:2001:db8::1]`.
    Literal(IpAddr),
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Domain::Name(n) => f.write_str(n),
            Domain::Literal(IpAddr::V4(a)) => write!(f, "[{a}]"),
            Domain::Literal(IpAddr::V6(a)) => write!(f, "[IPv6:{a}]"),
        }
    }
}

/// A mailbox `local@domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The local part with quoting removed (what the receiving system sees).
    pub local: String,
    /// Whether the local part was a quoted string.
    pub quoted: bool,
    pub domain: Domain,
}

impl Mailbox {
    /// True when the local part holds a character that some mail system reads as a route
    /// (`%` and `!` hacks, `@` and `:` inside quotes): such addresses are never relayed.
    pub fn has_routing_characters(&self) -> bool {
        self.local.contains(['%', '!', '@', ':'])
    }

    pub fn is_ascii(&self) -> bool {
        self.local.is_ascii() && matches!(&self.domain, Domain::Name(n) if n.is_ascii())
            || matches!(self.domain, Domain::Literal(_)) && self.local.is_ascii()
    }

    pub fn domain_name(&self) -> Option<&str> {
        match &self.domain {
            Domain::Name(n) => Some(n),
            Domain::Literal(_) => None,
        }
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.quoted || !is_dot_string(&self.local) {
            f.write_str("\"")?;
            for c in self.local.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        } else {
            f.write_str(&self.local)?;
        }
        write!(f, "@{}", self.domain)
    }
}

/// A parsed path: the null reverse-path `<>`, the special `<Postmaster>`, or a mailbox. A
/// source route (`<@a,@b:user@c>`) is accepted and dropped, as RFC 5321 §4.1.1.3 asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Path {
    Null,
    Postmaster,
    Mailbox { mailbox: Mailbox, had_source_route: bool },
}

/// Why an address was refused, worded for the reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AddressError(pub String);

fn err<T>(m: impl Into<String>) -> Result<T, AddressError> {
    Err(AddressError(m.into()))
}

/// Splits `<path> params` at the `>` that closes the path (quotes respected). Returns the path
/// text with its brackets, and the rest.
pub fn split_path(s: &str) -> Result<(&str, &str), AddressError> {
    if !s.starts_with('<') {
        return err("Syntax error: the address must be enclosed in <>");
    }
    let bytes = s.as_bytes();
    let (mut i, mut in_quote) = (1, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            b'>' if !in_quote => return Ok((&s[..=i], &s[i + 1..])),
            _ => {}
        }
        i += 1;
    }
    err("Syntax error: the address has no closing >")
}

/// Parses a path including its angle brackets.
pub fn parse_path(s: &str, utf8: bool) -> Result<Path, AddressError> {
    let inner = s
        .strip_prefix('<')
        .and_then(|r| r.strip_suffix('>'))
        .ok_or_else(|| AddressError("Syntax error: the address must be enclosed in <>".into()))?;
    if inner.is_empty() {
        return Ok(Path::Null);
    }
    if inner.eq_ignore_ascii_case("postmaster") {
        return Ok(Path::Postmaster);
    }
    let (mailbox_text, had_source_route) = match inner.strip_prefix('@') {
        Some(_) => {
            let colon = inner.find(':').ok_or_else(|| AddressError("Syntax error in the source route".into()))?;
            for hop in inner[..colon].split(',') {
                let name =
                    hop.strip_prefix('@').ok_or_else(|| AddressError("Syntax error in the source route".into()))?;
                parse_domain(name, utf8)?;
            }
            (&inner[colon + 1..], true)
        }
        None => (inner, false),
    };
    Ok(Path::Mailbox { mailbox: parse_mailbox(mailbox_text, utf8)?, had_source_route })
}

/// Parses `local@domain`.
pub fn parse_mailbox(s: &str, utf8: bool) -> Result<Mailbox, AddressError> {
    if !utf8 && !s.is_ascii() {
        return err("Non-ASCII address needs SMTPUTF8 (RFC 6531)");
    }
    let (local, quoted, rest) = if let Some(body) = s.strip_prefix('"') {
        let mut local = String::new();
        let mut chars = body.char_indices();
        let end = loop {
            match chars.next() {
                None => return err("Syntax error: unterminated quoted local part"),
                Some((i, '"')) => break i + 1,
                Some((_, '\\')) => match chars.next() {
                    Some((_, c)) if (' '..='~').contains(&c) => local.push(c),
                    _ => return err("Syntax error: bad quoted pair in the local part"),
                },
                Some((_, c)) if c == ' ' || c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c) => {
                    local.push(c)
                }
                Some((_, c)) if !c.is_ascii() && utf8 => local.push(c),
                Some(_) => return err("Syntax error: character not allowed in a quoted local part"),
            }
        };
        (local, true, &body[end..])
    } else {
        let at = s.rfind('@').ok_or_else(|| AddressError("Syntax error: the address has no domain".into()))?;
        let local = &s[..at];
        if !is_dot_string(local) {
            return err("Syntax error in the local part of the address");
        }
        (local.to_string(), false, &s[at..])
    };
    let domain =
        rest.strip_prefix('@').ok_or_else(|| AddressError("Syntax error: the address has no domain".into()))?;
    if local.is_empty() && !quoted {
        return err("Syntax error: empty local part");
    }
    if local.len() > 64 {
        return err("The local part is longer than 64 octets (RFC 5321 §4.5.3.1.1)");
    }
    Ok(Mailbox { local, quoted, domain: parse_domain(domain, utf8)? })
}

/// `Dot-string` of RFC 5321 (atext as in RFC 5322, plus UTF-8 per RFC 6531).
fn is_dot_string(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|atom| {
            !atom.is_empty()
                && atom.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii())
        })
}

/// A domain or an address literal. A trailing dot, empty labels and underscores are syntax
/// errors here (RFC 5321's `Domain`), not something to repair.
pub fn parse_domain(s: &str, utf8: bool) -> Result<Domain, AddressError> {
    if let Some(lit) = s.strip_prefix('[') {
        let lit = lit.strip_suffix(']').ok_or_else(|| AddressError("Syntax error in the address literal".into()))?;
        let ip = match lit.get(..5) {
            Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => {
                lit[5..].parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
            }
            _ => lit.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4),
        };
        return ip.map(Domain::Literal).ok_or_else(|| AddressError("Syntax error in the address literal".into()));
    }
    if s.is_empty() || s.len() > 255 {
        return err("Syntax error: empty or over-long domain");
    }
    for label in s.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || (utf8 && !c.is_ascii()));
        if !ok {
            return err(format!("Syntax error in the domain '{s}'"));
        }
    }
    mamori_core::domain_map::normalize_domain(s).map(Domain::Name).map_err(AddressError)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(s: &str) -> Mailbox {
        match parse_path(s, true).unwrap() {
            Path::Mailbox { mailbox, .. } => mailbox,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_quoted_and_literal_addresses() {
        assert_eq!(mailbox("<A.b@Example.JP>").to_string(), "A.b@example.jp");
        let q = mailbox("<\"a b\\\"c\"@x.jp>");
        assert_eq!((q.local.as_str(), q.quoted), ("a b\"c", true));
        assert_eq!(q.to_string(), "\"a b\\\"c\"@x.jp");
        assert_eq!(mailbox("<u@[192.0.2.1]>").domain, Domain::Literal("192.0.2.1".parse().unwrap()));
        assert_eq!(mailbox("<u@[IPv6:2001:db8::1]>").domain, Domain::Literal("2001:db8::1".parse().unwrap()));
        assert_eq!(parse_path("<>", false), Ok(Path::Null));
        assert_eq!(parse_path("<POSTMASTER>", false), Ok(Path::Postmaster));
    }

    #[test]
    fn source_routes_are_dropped_and_flagged() {
        match parse_path("<@a.jp,@b.jp:u@c.jp>", false).unwrap() {
            Path::Mailbox { mailbox, had_source_route } => {
                assert!(had_source_route);
                assert_eq!(mailbox.to_string(), "u@c.jp");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn relay_tricks_are_syntax_errors_or_flagged() {
        for bad in
            ["<u@other@x.jp>", "<u@x.jp.>", "<u@x..jp>", "<u@>", "<@x.jp>", "<u@[1.2.3]>", "<u x@x.jp>", "<u@-x.jp>"]
        {
            assert!(parse_path(bad, true).is_err(), "{bad}");
        }
        assert!(mailbox("<u%other.jp@x.jp>").has_routing_characters());
        assert!(mailbox("<other.jp!u@x.jp>").has_routing_characters());
        assert!(mailbox("<\"u@other.jp\"@x.jp>").has_routing_characters());
        assert!(!mailbox("<\"john smith\"@x.jp>").has_routing_characters());
    }

    #[test]
    fn utf8_needs_smtputf8() {
        assert!(parse_path("<山田@みどり.jp>", false).is_err());
        assert_eq!(mailbox("<山田@みどり.jp>").domain, Domain::Name("xn--p9j0b8a.jp".into()));
    }

    #[test]
    fn split_path_respects_quotes() {
        assert_eq!(split_path("<\"a>b\"@x.jp> SIZE=10").unwrap(), ("<\"a>b\"@x.jp>", " SIZE=10"));
        assert!(split_path("a@x.jp").is_err());
    }
}
