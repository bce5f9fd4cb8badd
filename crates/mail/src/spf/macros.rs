//! Macro strings (RFC 7208 §7): parsing `%{...}`, `%%`, `%_`, `%-` and literals, and expanding
//! them with transformers (§7.3), delimiters and URL escaping for upper-case letters.

use std::net::IpAddr;

/// One piece of a macro string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    /// `%{letter digits r delimiters}`.
    Macro {
        letter: char,
        url_escape: bool,
        keep: Option<usize>,
        reverse: bool,
        delimiters: String,
    },
}

/// A parsed macro-string (§7.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MacroString {
    pub pieces: Vec<Piece>,
}

/// Where a macro string appears: `c`, `r` and `t` are allowed only in explanations (§7.2),
/// and explanations may contain spaces (§6.2 explain-string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Domain,
    Explanation,
}

/// The values macros expand to.
pub struct MacroValues<'a> {
    pub sender: &'a str,
    pub local_part: &'a str,
    pub sender_domain: &'a str,
    pub domain: &'a str,
    pub ip: IpAddr,
    pub helo: &'a str,
    /// The validated domain name of `ip` (%{p}), found on demand by the evaluator.
    pub validated: &'a str,
    pub receiver: &'a str,
    pub timestamp: u64,
}

fn push_literal(pieces: &mut Vec<Piece>, s: &str) {
    if let Some(Piece::Literal(last)) = pieces.last_mut() {
        last.push_str(s);
    } else {
        pieces.push(Piece::Literal(s.to_string()));
    }
}

impl MacroString {
    /// Parses `text`; `None` on a syntax error.
    pub fn parse(text: &str, context: Context) -> Option<MacroString> {
        let mut pieces = Vec::new();
        let mut chars = text.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            match c {
                '%' => match chars.next()?.1 {
                    '%' => push_literal(&mut pieces, "%"),
                    '_' => push_literal(&mut pieces, " "),
                    '-' => push_literal(&mut pieces, "%20"),
                    '{' => {
                        let letter = chars.next()?.1;
                        let lower = letter.to_ascii_lowercase();
                        let allowed = match lower {
                            's' | 'l' | 'o' | 'd' | 'i' | 'p' | 'h' | 'v' => true,
                            'c' | 'r' | 't' => context == Context::Explanation,
                            _ => false,
                        };
                        if !allowed {
                            return None;
                        }
                        let mut digits = String::new();
                        while let Some((_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
                            digits.push(*d);
                            chars.next();
                        }
                        // §7.3: a DIGIT transformer must be nonzero.
                        let keep = if digits.is_empty() {
                            None
                        } else {
                            let n = digits.parse::<usize>().unwrap_or(usize::MAX);
                            if n == 0 {
                                return None;
                            }
                            Some(n)
                        };
                        let reverse = chars.next_if(|(_, c)| matches!(c, 'r' | 'R')).is_some();
                        let mut delimiters = String::new();
                        loop {
                            match chars.next()?.1 {
                                '}' => break,
                                d @ ('.' | '-' | '+' | ',' | '/' | '_' | '=') => delimiters.push(d),
                                _ => return None,
                            }
                        }
                        pieces.push(Piece::Macro {
                            letter: lower,
                            url_escape: letter.is_ascii_uppercase(),
                            keep,
                            reverse,
                            delimiters,
                        });
                    }
                    _ => return None,
                },
                // macro-literal = %x21-24 / %x26-7E; SP only in explanations.
                '\x21'..='\x7e' => push_literal(&mut pieces, c.encode_utf8(&mut [0; 4])),
                ' ' if context == Context::Explanation => push_literal(&mut pieces, " "),
                _ => return None,
            }
        }
        Some(MacroString { pieces })
    }

    /// The literal text after the last macro, if the string ends in a literal.
    pub fn literal_tail(&self) -> Option<&str> {
        match self.pieces.last() {
            Some(Piece::Literal(s)) => Some(s),
            _ => None,
        }
    }

    pub fn uses_letter(&self, letter: char) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Macro { letter: l, .. } if *l == letter))
    }

    /// Expands the string (§7.3).
    pub fn expand(&self, v: &MacroValues) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Macro { letter, url_escape, keep, reverse, delimiters } => {
                    let value = letter_value(*letter, v);
                    let value = transform(&value, *keep, *reverse, delimiters);
                    if *url_escape { out.push_str(&url_escape_str(&value)) } else { out.push_str(&value) }
                }
            }
        }
        out
    }
}

fn letter_value(letter: char, v: &MacroValues) -> String {
    match letter {
        's' => v.sender.to_string(),
        'l' => v.local_part.to_string(),
        'o' => v.sender_domain.to_string(),
        'd' => v.domain.to_string(),
        'i' => dotted_ip(v.ip),
        'p' => v.validated.to_string(),
        'v' if v.ip.is_ipv4() => "in-addr".to_string(),
        'v' => "ip6".to_string(),
        'h' => v.helo.to_string(),
        'c' => v.ip.to_string(),
        'r' => v.receiver.to_string(),
        't' => v.timestamp.to_string(),
        _ => String::new(),
    }
}

/// `%{i}`: dotted quad for IPv4, dot-separated nibbles for IPv6 (§7.3). The nibbles are
/// upper-case, as the RFC's test suite and its reference implementation (pyspf) write them in
/// explanations; DNS names are case-insensitive, so lookups are the same as with §7.4's
/// lower-case example.
pub fn dotted_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => {
            let hex: Vec<String> =
                a.octets().iter().flat_map(|b| [format!("{:X}", b >> 4), format!("{:X}", b & 0xf)]).collect();
            hex.join(".")
        }
    }
}

/// Splits on the delimiters (default "."), optionally reverses, keeps the rightmost `keep`
/// parts and joins them with "." (§7.3).
fn transform(value: &str, keep: Option<usize>, reverse: bool, delimiters: &str) -> String {
    if keep.is_none() && !reverse && delimiters.is_empty() {
        return value.to_string();
    }
    let delimiters = if delimiters.is_empty() { "." } else { delimiters };
    let mut parts: Vec<&str> = value.split(|c: char| delimiters.contains(c)).collect();
    if reverse {
        parts.reverse();
    }
    if let Some(n) = keep
        && n < parts.len()
    {
        parts.drain(..parts.len() - n);
    }
    parts.join(".")
}

/// URL escaping of everything but RFC 3986 unreserved characters (§7.3).
fn url_escape_str(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(ip: &str) -> MacroValues<'static> {
        MacroValues {
            sender: "strong-bad@email.example.com",
            local_part: "strong-bad",
            sender_domain: "email.example.com",
            domain: "email.example.com",
            ip: ip.parse().unwrap(),
            helo: "mx.example.org",
            validated: "mx.example.org",
            receiver: "unknown",
            timestamp: 0,
        }
    }

    fn expand(text: &str, ip: &str) -> String {
        MacroString::parse(text, Context::Explanation).expect(text).expand(&values(ip))
    }

    /// RFC 7208 §7.4.
    #[test]
    fn rfc_examples() {
        let v4 = "192.0.2.3";
        assert_eq!(expand("%{s}", v4), "strong-bad@email.example.com");
        assert_eq!(expand("%{o}", v4), "email.example.com");
        assert_eq!(expand("%{d}", v4), "email.example.com");
        assert_eq!(expand("%{d4}", v4), "email.example.com");
        assert_eq!(expand("%{d3}", v4), "email.example.com");
        assert_eq!(expand("%{d2}", v4), "example.com");
        assert_eq!(expand("%{d1}", v4), "com");
        assert_eq!(expand("%{dr}", v4), "com.example.email");
        assert_eq!(expand("%{d2r}", v4), "example.email");
        assert_eq!(expand("%{l}", v4), "strong-bad");
        assert_eq!(expand("%{l-}", v4), "strong.bad");
        assert_eq!(expand("%{lr}", v4), "strong-bad");
        assert_eq!(expand("%{lr-}", v4), "bad.strong");
        assert_eq!(expand("%{l1r-}", v4), "strong");
        assert_eq!(expand("%{ir}.%{v}._spf.%{d2}", v4), "3.2.0.192.in-addr._spf.example.com");
        assert_eq!(expand("%{lr-}.lp._spf.%{d2}", v4), "bad.strong.lp._spf.example.com");
        assert_eq!(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", v4), "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
        assert_eq!(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", v4), "3.2.0.192.in-addr.strong.lp._spf.example.com");
        assert_eq!(expand("%{d2}.trusted-domains.example.net", v4), "example.com.trusted-domains.example.net");
        // §7.4's example, which writes the nibbles in lower case.
        assert!(expand("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01").eq_ignore_ascii_case(
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        ));
    }

    #[test]
    fn escapes_and_upper_case() {
        assert_eq!(expand("%%%_%-", "192.0.2.3"), "% %20");
        assert_eq!(expand("%{L}", "192.0.2.3"), "strong-bad");
        assert_eq!(expand("%{S}", "192.0.2.3"), "strong-bad%40email.example.com");
        assert_eq!(expand("%{c}", "2001:db8::cb01"), "2001:db8::cb01");
    }

    #[test]
    fn syntax_errors() {
        for bad in ["%", "%{", "%{x}", "%{d0}", "%{d", "%{d!}", "%a", "a b", "\u{e9}"] {
            assert_eq!(MacroString::parse(bad, Context::Domain), None, "{bad}");
        }
        assert_eq!(MacroString::parse("%{c}", Context::Domain), None);
        assert!(MacroString::parse("%{c} %{r} %{t}", Context::Explanation).is_some());
    }
}
