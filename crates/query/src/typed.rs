//! Turning the text of a value into what it means for its field: an IP address or network on
//! IP fields, an instant on time fields, a number or a string elsewhere. The parser calls this
//! once per value so the tree ([`crate::Query`]) is already typed and errors point at the value.

use std::net::IpAddr;
use std::ops::Bound;

use ipnet::{IpNet, Ipv4Net};
use jiff::{SignedDuration, Timestamp};

use crate::ast::{Query, Scalar};
use crate::lexer::Word;
use crate::schema::{FieldKind, field_kind};
use crate::text::is_cjk;
use crate::time::{QueryTime, parse_query_time};

/// A plain (not wildcard, not comparison) value for `field`. `quoted` tells whether it was
/// written in quotes, which makes it a phrase on text and keyword fields.
pub(crate) fn value_query(field: &str, text: &str, quoted: bool, now: Timestamp) -> Result<Query, String> {
    match field_kind(field) {
        FieldKind::Ip => {
            if text.contains('/') {
                let net: IpNet = text.trim().parse().map_err(|_| {
                    format!("'{text}' is not a valid CIDR (write it like 10.1.0.0/16 or 2001:db8::/32)")
                })?;
                Ok(Query::Cidr { field: field.to_owned(), net: canonical_net(net) })
            } else {
                let ip = parse_ip(field, text)?;
                Ok(Query::Term { field: Some(field.to_owned()), value: ip.to_string() })
            }
        }
        FieldKind::Time => {
            let (lower, upper) = match parse_query_time(text, now).map_err(|e| format!("{e} for {field}"))? {
                // A date alone means that whole day.
                QueryTime::Day(start) => {
                    let end = start
                        .checked_add(SignedDuration::from_hours(24))
                        .map_err(|_| format!("'{text}' is out of range"))?;
                    (Bound::Included(Scalar::Time(start)), Bound::Excluded(Scalar::Time(end)))
                }
                QueryTime::Instant(t) => (Bound::Included(Scalar::Time(t)), Bound::Included(Scalar::Time(t))),
            };
            Ok(Query::Range { field: field.to_owned(), lower, upper })
        }
        FieldKind::Text | FieldKind::Keyword | FieldKind::StoredOnly => {
            let field = Some(field.to_owned());
            Ok(if quoted {
                Query::Phrase { field, text: text.to_owned() }
            } else {
                Query::Term { field, value: text.to_owned() }
            })
        }
    }
}

/// A value with wildcards for `field` (`None`: the full-text fields).
///
/// Japanese text is indexed as overlapping two-character tokens, so a per-token wildcard such
/// as `フィッシ*` could never match, while the plain word `フィッシ` already finds every text
/// containing it. On text fields, a pattern that is Han/kana/Hangul characters with only `*`
/// at its ends is therefore read as that word (`*フィッシ*`, `フィッシ*` and `フィッシ` are the
/// same query). Done here, in the tree, so the index and the cold scan agree.
pub(crate) fn wildcard_query(field: Option<&str>, w: &Word) -> Query {
    let on_text = field.is_none_or(|f| field_kind(f) == FieldKind::Text);
    let star = |&(c, esc): &(char, bool)| !esc && c == '*';
    let start = w.chars.iter().position(|c| !star(c)).unwrap_or(w.chars.len());
    let end = w.chars.iter().rposition(|c| !star(c)).map_or(start, |i| i + 1);
    let core = &w.chars[start..end.max(start)];
    let plain_cjk = !core.is_empty() && core.iter().all(|&(c, _)| is_cjk(crate::normalize::fold(c, None).0));
    if on_text && plain_cjk {
        return Query::Term { field: field.map(str::to_owned), value: core.iter().map(|&(c, _)| c).collect() };
    }
    Query::Wildcard { field: field.map(str::to_owned), pattern: w.pattern() }
}

/// A comparison or range endpoint for `field`.
pub(crate) fn scalar(field: &str, text: &str, quoted: bool, now: Timestamp) -> Result<Scalar, String> {
    match field_kind(field) {
        FieldKind::Time => {
            parse_query_time(text, now).map(|t| Scalar::Time(t.timestamp())).map_err(|e| format!("{e} for {field}"))
        }
        FieldKind::Ip => parse_ip(field, text).map(Scalar::Ip),
        _ if quoted => Ok(Scalar::Text(text.to_owned())),
        _ => Ok(match parse_number(text) {
            Some(n) => Scalar::Number(n),
            None => Scalar::Text(text.to_owned()),
        }),
    }
}

fn parse_ip(field: &str, text: &str) -> Result<IpAddr, String> {
    text.trim()
        .parse::<IpAddr>()
        .map(|ip| ip.to_canonical())
        .map_err(|_| {
            format!(
                "'{text}' is not a valid IP address ({field} holds IP addresses: write 10.1.2.3, 2001:db8::1 or a CIDR such as 10.1.0.0/16)"
            )
        })
}

/// A network with its host bits cleared; an IPv4-mapped IPv6 network becomes the IPv4
/// network, as event addresses are compared in their canonical form.
pub(crate) fn canonical_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net
        && v6.prefix_len() >= 96
        && let Some(v4) = v6.addr().to_ipv4_mapped()
        && let Ok(n) = Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return IpNet::V4(n.trunc());
    }
    net.trunc()
}

/// A finite decimal number such as `10`, `-1.5`, `2e3`; not `inf`, `nan`, `0x10` or `1_000`,
/// which Rust's float parser or a user might read differently.
pub fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number("2e3"), Some(2000.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        for s in ["", "-", ".", "inf", "NaN", "1e", "0x10", "1_000", "1e999", "1.2.3", "e5"] {
            assert_eq!(parse_number(s), None, "{s}");
        }
    }

    #[test]
    fn nets() {
        let n = |s: &str| canonical_net(s.parse().unwrap()).to_string();
        assert_eq!(n("10.1.2.3/16"), "10.1.0.0/16");
        assert_eq!(n("::ffff:10.1.0.0/112"), "10.1.0.0/16");
        assert_eq!(n("2001:db8::1/32"), "2001:db8::/32");
    }
}
