//! Random queries shaped like the parser's output, for the round-trip property test.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Bound;

use ipnet::IpNet;
use jiff::Timestamp;
use mamori_query::text::is_cjk;
use mamori_query::{FieldKind, Query, Scalar, field_kind};

use super::Rng;

/// Pieces words are made of: letters, Japanese, every special character of the grammar and
/// every keyword, so escaping is exercised.
pub const PIECES: &[&str] = &[
    "a", "b", "Z", "web", "ログ", "イン", "失敗", "ｶﾅ", "é", "1", "0", "443", ".", "-", "/", ":", "\\", "\"", "(", ")",
    "[", "]", "{", "}", "*", "?", " ", "!", "+", ">", "<", "=", ">=", "&", "|", "AND", "OR", "NOT", "TO", "&&", "||",
    "😀", "\t", "'", ",", "_exists_", "now", "-1h",
];

pub const FIELDS: &[&str] = &[
    "message",
    "error.message",
    "user.name",
    "destination.port",
    "event.action",
    "labels.部署",
    "url.full",
    "source.ip",
    "related.ip",
    "@timestamp",
    "event.end",
    "a-b",
    "we:ird",
    "sp ace",
    "(p)",
    "-neg",
    "a*b",
    "x\\y",
    "NOT",
    "+",
    ">",
    "now",
];

fn word(rng: &mut Rng) -> String {
    let n = 1 + rng.below(4);
    (0..n).map(|_| rng.pick(PIECES)).collect()
}

fn any_text(rng: &mut Rng) -> String {
    if rng.chance(10) { String::new() } else { word(rng) }
}

fn field(rng: &mut Rng) -> String {
    rng.pick(FIELDS).to_owned()
}

fn field_of(rng: &mut Rng, want: impl Fn(FieldKind) -> bool) -> String {
    loop {
        let f = field(rng);
        if want(field_kind(&f)) {
            return f;
        }
    }
}

fn not_ip_or_time(k: FieldKind) -> bool {
    matches!(k, FieldKind::Text | FieldKind::Keyword)
}

fn pattern(rng: &mut Rng) -> String {
    loop {
        let mut out = String::new();
        let mut has_other = false;
        let mut has_wild = false;
        for _ in 0..1 + rng.below(4) {
            match rng.below(4) {
                0 => {
                    out.push('*');
                    has_wild = true;
                }
                1 => {
                    out.push('?');
                    has_wild = true;
                    has_other = true;
                }
                _ => {
                    for c in word(rng).chars() {
                        if matches!(c, '*' | '?' | '\\') {
                            out.push('\\');
                        }
                        out.push(c);
                        has_other = true;
                    }
                }
            }
        }
        if has_wild && has_other {
            return out;
        }
    }
}

fn ip(rng: &mut Rng) -> IpAddr {
    if rng.chance(50) {
        IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32))
    } else {
        // Avoid the IPv4-mapped block, which the parser folds to IPv4.
        IpAddr::V6(Ipv6Addr::from(((rng.next_u64() as u128) << 64 | rng.next_u64() as u128) | 1 << 127))
    }
}

fn net(rng: &mut Rng) -> IpNet {
    match ip(rng) {
        IpAddr::V4(a) => IpNet::new(IpAddr::V4(a), rng.below(33) as u8),
        IpAddr::V6(a) => IpNet::new(IpAddr::V6(a), rng.below(129) as u8),
    }
    .map(|n| n.trunc())
    .unwrap_or_else(|_| "10.0.0.0/8".parse().unwrap())
}

fn timestamp(rng: &mut Rng) -> Timestamp {
    let secs = 946_684_800 + (rng.next_u64() % 3_155_760_000) as i64;
    let nanos = if rng.chance(30) { (rng.next_u64() % 1_000_000_000) as i32 } else { 0 };
    Timestamp::new(secs, nanos).unwrap()
}

fn scalar(rng: &mut Rng, field: &str) -> Scalar {
    match field_kind(field) {
        FieldKind::Time => Scalar::Time(timestamp(rng)),
        FieldKind::Ip => Scalar::Ip(ip(rng)),
        _ => match rng.below(4) {
            0 => Scalar::Number(rng.below(2001) as f64 - 1000.0),
            1 => Scalar::Number((rng.below(100_001) as f64 - 50_000.0) / 8.0),
            2 => Scalar::Number(rng.pick(&[1e21, -1e-7, 0.1, 123456789.125, 9007199254740993.0])),
            _ => Scalar::Text(any_text(rng)),
        },
    }
}

fn bound(rng: &mut Rng, field: &str) -> Bound<Scalar> {
    match rng.below(3) {
        0 => Bound::Unbounded,
        1 => Bound::Included(scalar(rng, field)),
        _ => Bound::Excluded(scalar(rng, field)),
    }
}

fn leaf(rng: &mut Rng) -> Query {
    match rng.below(11) {
        0 => Query::All,
        1 => Query::Term { field: None, value: word(rng) },
        2 => Query::Term { field: Some(field_of(rng, not_ip_or_time)), value: word(rng) },
        3 => Query::Term { field: Some(field_of(rng, |k| k == FieldKind::Ip)), value: ip(rng).to_string() },
        4 => Query::Phrase { field: None, text: any_text(rng) },
        5 => Query::Phrase { field: Some(field_of(rng, not_ip_or_time)), text: any_text(rng) },
        6 => loop {
            let field = if rng.chance(30) { None } else { Some(field(rng)) };
            let pattern = pattern(rng);
            let on_text = field.as_deref().is_none_or(|f| field_kind(f) == FieldKind::Text);
            // The parser reads `*ログ*` on text fields as the word ログ (see `wildcard_query`).
            let core = pattern.trim_matches('*');
            if on_text && !core.is_empty() && core.chars().all(is_cjk) {
                continue;
            }
            // Wildcards on time fields are refused by the parser (ranges are the way).
            if field.as_deref().is_some_and(|f| field_kind(f) == FieldKind::Time) {
                continue;
            }
            break Query::Wildcard { field, pattern };
        },
        7 | 8 => {
            let field = field(rng);
            let (lower, upper) = (bound(rng, &field), bound(rng, &field));
            Query::Range { field, lower, upper }
        }
        9 => Query::Cidr { field: field_of(rng, |k| k == FieldKind::Ip), net: net(rng) },
        _ => Query::Exists { field: field(rng) },
    }
}

/// A random query of at most `depth` operator levels.
pub fn query(rng: &mut Rng, depth: usize) -> Query {
    if depth == 0 || rng.chance(35) {
        return leaf(rng);
    }
    match rng.below(3) {
        0 => Query::And((0..2 + rng.below(3)).map(|_| query(rng, depth - 1)).collect()),
        1 => Query::Or((0..2 + rng.below(3)).map(|_| query(rng, depth - 1)).collect()),
        _ => Query::Not(Box::new(query(rng, depth - 1))),
    }
}
