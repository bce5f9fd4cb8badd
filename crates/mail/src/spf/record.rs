//! SPF records (RFC 7208 §4.5, §4.6, §5, §6, ABNF in §12): strict parsing. Any syntax error
//! anywhere makes the whole record a permerror (§4.6).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::macros::{Context, MacroString};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(MacroString),
    /// Target (default: the current domain), IPv4 and IPv6 CIDR lengths.
    A(Option<MacroString>, u8, u8),
    Mx(Option<MacroString>, u8, u8),
    Ptr(Option<MacroString>),
    Ip4(Ipv4Addr, u8),
    Ip6(Ipv6Addr, u8),
    Exists(MacroString),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub qualifier: Qualifier,
    pub mechanism: Mechanism,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub directives: Vec<Directive>,
    pub redirect: Option<MacroString>,
    pub exp: Option<MacroString>,
}

/// Whether a TXT record is an SPF record: "v=spf1" then a space or the end (§4.5).
pub fn is_spf(txt: &[u8]) -> bool {
    txt.len() >= 6 && txt[..6].eq_ignore_ascii_case(b"v=spf1") && (txt.len() == 6 || txt[6] == b' ')
}

impl Record {
    /// Parses an SPF record; `None` is a syntax error (permerror).
    pub fn parse(txt: &[u8]) -> Option<Record> {
        if !is_spf(txt) {
            return None;
        }
        // Only printable ASCII and spaces (§4.6.1 terms are separated by SP only).
        if !txt.iter().all(|b| (0x20..0x7f).contains(b)) {
            return None;
        }
        let text = std::str::from_utf8(&txt[6..]).ok()?;
        let mut record = Record::default();
        for term in text.split(' ').filter(|t| !t.is_empty()) {
            record.add_term(term)?;
        }
        Some(record)
    }

    fn add_term(&mut self, term: &str) -> Option<()> {
        // A modifier is `name=`: an '=' before any ':' or '/' (§4.6.1).
        if let Some(i) = term.find(['=', ':', '/'])
            && term.as_bytes()[i] == b'='
        {
            let (name, value) = (&term[..i], &term[i + 1..]);
            if !is_modifier_name(name) {
                return None;
            }
            match name.to_ascii_lowercase().as_str() {
                // §6: each at most once; both take a domain-spec.
                "redirect" if self.redirect.is_none() => self.redirect = Some(domain_spec(value)?),
                "exp" if self.exp.is_none() => self.exp = Some(domain_spec(value)?),
                "redirect" | "exp" => return None,
                // §6: unknown modifiers are ignored, but must be macro-strings.
                _ => {
                    MacroString::parse(value, Context::Domain)?;
                }
            }
            return Some(());
        }
        let (qualifier, rest) = match term.as_bytes()[0] {
            b'+' => (Qualifier::Pass, &term[1..]),
            b'-' => (Qualifier::Fail, &term[1..]),
            b'~' => (Qualifier::SoftFail, &term[1..]),
            b'?' => (Qualifier::Neutral, &term[1..]),
            _ => (Qualifier::Pass, term),
        };
        let end = rest.find([':', '/']).unwrap_or(rest.len());
        let (name, args) = (rest[..end].to_ascii_lowercase(), &rest[end..]);
        let mechanism = match name.as_str() {
            "all" if args.is_empty() => Mechanism::All,
            "include" => Mechanism::Include(domain_spec(args.strip_prefix(':')?)?),
            "exists" => Mechanism::Exists(domain_spec(args.strip_prefix(':')?)?),
            "ptr" if args.is_empty() => Mechanism::Ptr(None),
            "ptr" => Mechanism::Ptr(Some(domain_spec(args.strip_prefix(':')?)?)),
            "a" | "mx" => {
                let (target, v4, v6) = target_and_cidrs(args)?;
                if name == "a" { Mechanism::A(target, v4, v6) } else { Mechanism::Mx(target, v4, v6) }
            }
            "ip4" => {
                let (addr, len) = split_cidr(args.strip_prefix(':')?);
                let len = match len {
                    Some(l) => cidr_length(l, 32)?,
                    None => 32,
                };
                Mechanism::Ip4(addr.parse().ok()?, len)
            }
            "ip6" => {
                let (addr, len) = split_cidr(args.strip_prefix(':')?);
                let len = match len {
                    Some(l) => cidr_length(l, 128)?,
                    None => 128,
                };
                Mechanism::Ip6(addr.parse().ok()?, len)
            }
            _ => return None,
        };
        self.directives.push(Directive { qualifier, mechanism });
        Some(())
    }

    /// Whether the record has an `all` mechanism (then `redirect` is ignored, §6.1).
    pub fn has_all(&self) -> bool {
        self.directives.iter().any(|d| d.mechanism == Mechanism::All)
    }
}

/// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
fn is_modifier_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `addr/len` → (addr, Some(len)); the last '/' splits.
fn split_cidr(s: &str) -> (&str, Option<&str>) {
    match s.rsplit_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    }
}

/// A CIDR length: "0" or a digit string without a leading zero, at most `max` (§5.6 ABNF).
fn cidr_length(s: &str, max: u8) -> Option<u8> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    let n: u16 = s.parse().ok()?;
    (n <= max as u16).then_some(n as u8)
}

/// `[":" domain-spec] [dual-cidr-length]` of `a` and `mx` (§5.3, §5.4).
fn target_and_cidrs(args: &str) -> Option<(Option<MacroString>, u8, u8)> {
    let mut rest = args;
    let mut v6 = 128;
    let mut v4 = 32;
    if let Some(i) = rest.rfind("//") {
        let len = &rest[i + 2..];
        if len.bytes().all(|b| b.is_ascii_digit()) {
            v6 = cidr_length(len, 128)?;
            rest = &rest[..i];
        }
    }
    if let Some(i) = rest.rfind('/') {
        let len = &rest[i + 1..];
        if len.bytes().all(|b| b.is_ascii_digit()) {
            v4 = cidr_length(len, 32)?;
            rest = &rest[..i];
        }
    }
    let target = match rest {
        "" => None,
        r => Some(domain_spec(r.strip_prefix(':')?)?),
    };
    Some((target, v4, v6))
}

/// domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand
/// (§7.1).
pub fn domain_spec(text: &str) -> Option<MacroString> {
    let spec = MacroString::parse(text, Context::Domain)?;
    let Some(tail) = spec.literal_tail() else {
        // Ends in a macro-expand; an empty spec is not a domain-spec.
        return (!spec.pieces.is_empty()).then_some(spec);
    };
    // A literal tail "%%", "%_" or "%-" is a macro-expand too, but those were merged into the
    // literal; `text` tells them apart.
    if text.ends_with("%%") || text.ends_with("%_") || text.ends_with("%-") {
        return Some(spec);
    }
    let tail = tail.strip_suffix('.').unwrap_or(tail);
    let (_, top) = tail.rsplit_once('.')?;
    is_toplabel(top).then_some(spec)
}

/// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
pub fn is_toplabel(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().any(|c| c.is_ascii_alphabetic() || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Option<Record> {
        Record::parse(s.as_bytes())
    }

    #[test]
    fn version() {
        assert!(is_spf(b"v=spf1"));
        assert!(is_spf(b"V=SPF1 -all"));
        assert!(!is_spf(b"v=spf10"));
        assert!(!is_spf(b"v=spf"));
    }

    #[test]
    fn mechanisms() {
        let r = parse("v=spf1 +a mx/24//64 -ip4:192.0.2.0/24 ~ip6:2001:db8::/32 ?include:_spf.example.com ptr exists:%{i}.x.example.com -all").unwrap();
        assert_eq!(r.directives.len(), 8);
        assert_eq!(r.directives[1].mechanism, Mechanism::Mx(None, 24, 64));
        assert_eq!(
            r.directives[2],
            Directive { qualifier: Qualifier::Fail, mechanism: Mechanism::Ip4([192, 0, 2, 0].into(), 24) }
        );
        assert!(matches!(r.directives[3].mechanism, Mechanism::Ip6(_, 32)));
        assert!(r.has_all());
        let r = parse("v=spf1 a:foo:bar/baz.example.com//0").unwrap();
        assert!(matches!(r.directives[0].mechanism, Mechanism::A(Some(_), 32, 0)));
    }

    #[test]
    fn modifiers() {
        let r = parse("v=spf1 redirect=_spf.example.com exp=explain.%{d} foo-bar=%{d}.baz").unwrap();
        assert!(r.redirect.is_some() && r.exp.is_some());
        for bad in [
            "v=spf1 redirect=a.example.com redirect=b.example.com",
            "v=spf1 exp=a.example.com exp=b.example.com",
            "v=spf1 =foo",
            "v=spf1 9x=foo",
            "v=spf1 redirect=",
            "v=spf1 exp=foo",
            "v=spf1 foo=%{z}",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "v=spf1 ip4:1.2.3.4/33",
            "v=spf1 ip4:1.2.3.4/032",
            "v=spf1 ip4:1.2.3",
            "v=spf1 ip6:::1/129",
            "v=spf1 a/33",
            "v=spf1 mx//129",
            "v=spf1 a:1.2.3.4",
            "v=spf1 a:museum",
            "v=spf1 a:museum.",
            "v=spf1 a:foo.-bar",
            "v=spf1 include",
            "v=spf1 all:foo",
            "v=spf1 foo",
            "v=spf1 -all\tip4:1.2.3.4",
            "v=spf1 a:example.com\u{0}",
            "v=spf1 exists:%{c}.example.com",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn toplabels() {
        assert!(is_toplabel("com") && is_toplabel("1-2") && is_toplabel("x1"));
        assert!(!is_toplabel("123") && !is_toplabel("-com") && !is_toplabel("com-") && !is_toplabel(""));
    }
}
