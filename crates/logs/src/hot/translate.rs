//! From the query language's tree to tantivy queries, with the same semantics as the archive
//! scanner (`mamori_query::eval`): the consistency tests in `tests/hot_cold_agree.rs` run every
//! construct through both.

use std::net::{IpAddr, Ipv6Addr};
use std::ops::Bound;

use mamori_query::{FieldKind, Glob, Query, Scalar, field_kind, parse_number};
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, ExistsQuery, Occur, PhraseQuery, Query as TQuery, RangeQuery, RegexPhraseQuery,
    RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::schema::{Dedicated, F_KEYWORD_COLUMNS, Fields, to_datetime, to_v6};
use crate::error::LogError;

type Boxed = Box<dyn TQuery>;

/// Sorts after every string a log can hold: the highest code point, repeated.
const LAST_STRING: &str = "\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}";

/// Translates `query` for the index described by `fields`.
pub fn translate(fields: &Fields, query: &Query) -> Result<Boxed, LogError> {
    Translator { f: fields }.query(query)
}

struct Translator<'a> {
    f: &'a Fields,
}

impl Translator<'_> {
    fn query(&self, q: &Query) -> Result<Boxed, LogError> {
        Ok(match q {
            Query::All => Box::new(AllQuery),
            Query::And(qs) if qs.is_empty() => Box::new(AllQuery),
            Query::Or(qs) if qs.is_empty() => Box::new(EmptyQuery),
            Query::And(qs) => boolean(qs.iter().map(|q| self.query(q)).collect::<Result<_, _>>()?, Occur::Must),
            Query::Or(qs) => any(qs.iter().map(|q| self.query(q)).collect::<Result<_, _>>()?),
            Query::Not(q) => {
                Box::new(BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery)), (Occur::MustNot, self.query(q)?)]))
            }
            Query::Term { field, value } => self.value(field.as_deref(), value, true)?,
            Query::Phrase { field, text } => self.value(field.as_deref(), text, false)?,
            Query::Wildcard { field, pattern } => self.wildcard(field.as_deref(), pattern)?,
            Query::Range { field, lower, upper } => self.range(field, lower, upper)?,
            Query::Cidr { field, net } => {
                self.ip_range(field, Bound::Included(net.network()), Bound::Included(net.broadcast()))
            }
            Query::Exists { field } => self.exists(field),
        })
    }

    /// The text fields a clause searches: all of them for a bare term.
    fn text_fields(&self, field: Option<&str>) -> Vec<Field> {
        match field {
            None => self.f.texts.iter().map(|(_, f)| *f).collect(),
            Some(name) => self.f.texts.iter().filter(|(n, _)| *n == name).map(|(_, f)| *f).collect(),
        }
    }

    fn value(&self, field: Option<&str>, value: &str, numeric: bool) -> Result<Boxed, LogError> {
        let kind = field.map_or(FieldKind::Text, field_kind);
        match kind {
            FieldKind::Text => {
                let tokens = mamori_query::text::token_texts(value);
                Ok(any(self.text_fields(field).into_iter().map(|f| phrase(f, &tokens)).collect::<Result<_, _>>()?))
            }
            FieldKind::StoredOnly => {
                Err(LogError::Query(format!("{} is stored but not searchable", field.unwrap_or(""))))
            }
            _ => {
                let name = field.expect("non-text kinds have a field");
                if kind == FieldKind::Ip
                    && let Ok(ip) = value.trim().parse::<IpAddr>()
                {
                    let f = self.ip_field(name);
                    return Ok(Box::new(TermQuery::new(
                        Term::from_field_ip_addr(f, to_v6(ip.to_canonical())),
                        IndexRecordOption::Basic,
                    )));
                }
                Ok(self.keyword_eq(name, value, numeric))
            }
        }
    }

    /// Exact string form, or numeric equality with JSON numbers when the value is a number.
    fn keyword_eq(&self, name: &str, value: &str, numeric: bool) -> Boxed {
        if let Some(Dedicated::Keyword(f)) = self.f.dedicated(name) {
            return Box::new(TermQuery::new(Term::from_field_text(f, value), IndexRecordOption::Basic));
        }
        let mut term = Term::from_field_json_path(self.f.keywords_index, name, true);
        term.append_type_and_str(value);
        let mut clauses: Vec<Boxed> = vec![Box::new(TermQuery::new(term, IndexRecordOption::Basic))];
        if numeric && let Some(x) = parse_number(value) {
            let exact_int = value.trim().parse::<i128>().ok();
            clauses.extend(numeric_ranges(
                self.f.keywords_fast,
                name,
                Bound::Included(x),
                Bound::Included(x),
                exact_int,
            ));
        }
        any(clauses)
    }

    fn wildcard(&self, field: Option<&str>, pattern: &str) -> Result<Boxed, LogError> {
        let kind = field.map_or(FieldKind::Text, field_kind);
        if kind == FieldKind::Text {
            let regex = Glob::new(pattern, true).to_regex();
            let qs = self
                .text_fields(field)
                .into_iter()
                .map(|f| RegexQuery::from_pattern(&regex, f).map(|q| Box::new(q) as Boxed))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| LogError::Query(format!("wildcard '{pattern}': {e}")))?;
            return Ok(any(qs));
        }
        let name = field.expect("non-text kinds have a field");
        let regex = Glob::new(pattern, false).to_regex();
        let q = match self.f.dedicated(name) {
            Some(Dedicated::Keyword(f)) => RegexQuery::from_pattern(&regex, f),
            _ => RegexQuery::from_pattern(&format!("{}{regex}", json_str_prefix_regex(name)), self.f.keywords_index),
        };
        Ok(Box::new(q.map_err(|e| LogError::Query(format!("wildcard '{pattern}': {e}")))?))
    }

    fn range(&self, field: &str, lower: &Bound<Scalar>, upper: &Bound<Scalar>) -> Result<Boxed, LogError> {
        let kind_of = |b: &Bound<Scalar>| match b {
            Bound::Included(s) | Bound::Excluded(s) => Some(std::mem::discriminant(s)),
            Bound::Unbounded => None,
        };
        if let (Some(a), Some(b)) = (kind_of(lower), kind_of(upper))
            && a != b
        {
            return Err(LogError::Query(format!("the ends of the range on {field} are of different kinds")));
        }
        let sample = match (lower, upper) {
            (Bound::Included(s) | Bound::Excluded(s), _) | (_, Bound::Included(s) | Bound::Excluded(s)) => s,
            _ => return Ok(self.exists(field)),
        };
        Ok(match sample {
            Scalar::Time(_) => {
                let map = |b: &Bound<Scalar>| match b {
                    Bound::Included(Scalar::Time(t)) => Bound::Included(*t),
                    Bound::Excluded(Scalar::Time(t)) => Bound::Excluded(*t),
                    _ => Bound::Unbounded,
                };
                match self.f.dedicated(field) {
                    Some(Dedicated::Time(f)) => time_range(f, map(lower), map(upper)),
                    _ => Box::new(EmptyQuery),
                }
            }
            Scalar::Ip(_) => {
                let map = |b: &Bound<Scalar>| match b {
                    Bound::Included(Scalar::Ip(i)) => Bound::Included(*i),
                    Bound::Excluded(Scalar::Ip(i)) => Bound::Excluded(*i),
                    _ => Bound::Unbounded,
                };
                self.ip_range(field, map(lower), map(upper))
            }
            Scalar::Number(_) => {
                let map = |b: &Bound<Scalar>| match b {
                    Bound::Included(Scalar::Number(x)) => Bound::Included(*x),
                    Bound::Excluded(Scalar::Number(x)) => Bound::Excluded(*x),
                    _ => Bound::Unbounded,
                };
                let (lo, hi) = (map(lower), map(upper));
                let mut qs = numeric_ranges(self.f.keywords_fast, field, lo, hi, None);
                // Numeric strings compare numerically too.
                qs.push(fast_range(self.f.numeric_shadow, field, lo.map(|x| x), hi.map(|x| x)));
                any(qs)
            }
            Scalar::Text(_) => {
                // String ranges run on the string columns (tantivy ranges over JSON need
                // columns); numbers are compared by numeric ranges only.
                let map = |b: &Bound<Scalar>| match b {
                    Bound::Included(Scalar::Text(s)) => Bound::Included(s.clone()),
                    Bound::Excluded(Scalar::Text(s)) => Bound::Excluded(s.clone()),
                    _ => Bound::Unbounded,
                };
                let dedicated = match self.f.dedicated(field) {
                    Some(Dedicated::Keyword(f)) => Some(f),
                    _ => None,
                };
                let term = |s: &str| match dedicated {
                    Some(f) => Term::from_field_text(f, s),
                    None => {
                        let mut t = Term::from_field_json_path(self.f.keywords_fast, field, true);
                        t.append_type_and_str(s);
                        t
                    }
                };
                let lo = match map(lower) {
                    Bound::Unbounded => Bound::Included(term("")),
                    b => b.map(|s| term(&s)),
                };
                let hi = match map(upper) {
                    Bound::Unbounded => Bound::Included(term(LAST_STRING)),
                    b => b.map(|s| term(&s)),
                };
                Box::new(RangeQuery::new(lo, hi))
            }
        })
    }

    fn ip_field(&self, name: &str) -> Field {
        match self.f.dedicated(name) {
            Some(Dedicated::Ip(f)) => f,
            _ => unreachable!("field_kind says {name} is an IP field, and every IP field has a column"),
        }
    }

    /// Addresses between two bounds in the order the evaluator uses (every IPv4 address before
    /// every IPv6 one). IPv4 is stored IPv4-mapped, so a range reaching from IPv4 into IPv6 is
    /// two ranges around the mapped block.
    fn ip_range(&self, name: &str, lower: Bound<IpAddr>, upper: Bound<IpAddr>) -> Boxed {
        let f = self.ip_field(name);
        let v4_first = Ipv6Addr::from(0xffff_0000_0000u128);
        let v4_last = Ipv6Addr::from(0xffff_ffff_ffffu128);
        let mapped = |b: Bound<IpAddr>| b.map(|ip| to_v6(ip.to_canonical()));
        let is_v4 = |b: &Bound<IpAddr>| match b {
            Bound::Included(ip) | Bound::Excluded(ip) => ip.to_canonical().is_ipv4(),
            Bound::Unbounded => false,
        };
        let range = |lo: Bound<Ipv6Addr>, hi: Bound<Ipv6Addr>| -> Boxed {
            let t = |ip: Ipv6Addr| Term::from_field_ip_addr(f, ip);
            let lo = match lo {
                Bound::Unbounded => Bound::Included(t(Ipv6Addr::UNSPECIFIED)),
                b => b.map(t),
            };
            let hi = match hi {
                Bound::Unbounded => Bound::Included(t(Ipv6Addr::from(u128::MAX))),
                b => b.map(t),
            };
            Box::new(RangeQuery::new(lo, hi))
        };
        let lower_v4 = matches!(lower, Bound::Unbounded) || is_v4(&lower);
        let upper_v4 = is_v4(&upper);
        match (lower_v4, upper_v4) {
            // Both ends IPv4: inside the mapped block (an open lower end starts at 0.0.0.0).
            (true, true) => {
                let lo = if matches!(lower, Bound::Unbounded) { Bound::Included(v4_first) } else { mapped(lower) };
                range(lo, mapped(upper))
            }
            // From IPv4 into IPv6 (or open): the rest of IPv4, then IPv6 up to the upper end.
            (true, false) => {
                let lo = if matches!(lower, Bound::Unbounded) { Bound::Included(v4_first) } else { mapped(lower) };
                any(vec![
                    range(lo, Bound::Included(v4_last)),
                    v6_only(range, Bound::Unbounded, mapped(upper), v4_first, v4_last),
                ])
            }
            // Both ends IPv6 (or an open upper end).
            (false, _) => v6_only(range, mapped(lower), mapped(upper), v4_first, v4_last),
        }
    }

    fn exists(&self, field: &str) -> Boxed {
        let mut clauses: Vec<Boxed> = vec![Box::new(ExistsQuery::new(format!("{F_KEYWORD_COLUMNS}.{field}"), true))];
        let prefix = format!("{field}.");
        for (name, _) in self.f.dedicated_names() {
            if name == field || name.starts_with(&prefix) {
                if mamori_query::schema::TEXT_FIELDS.contains(&name) {
                    clauses.push(Box::new(TermQuery::new(
                        Term::from_field_text(self.f.present, name),
                        IndexRecordOption::Basic,
                    )));
                } else {
                    clauses.push(Box::new(ExistsQuery::new(name.to_string(), false)));
                }
            }
        }
        any(clauses)
    }
}

/// IPv6 addresses in a range, leaving out the IPv4-mapped block (those are IPv4 addresses).
fn v6_only(
    range: impl Fn(Bound<Ipv6Addr>, Bound<Ipv6Addr>) -> Boxed,
    lo: Bound<Ipv6Addr>,
    hi: Bound<Ipv6Addr>,
    v4_first: Ipv6Addr,
    v4_last: Ipv6Addr,
) -> Boxed {
    let below = range(lo, Bound::Excluded(v4_first));
    let above_lo = match lo {
        Bound::Included(a) | Bound::Excluded(a) if a > v4_last => lo,
        _ => Bound::Excluded(v4_last),
    };
    let above = range(above_lo, hi);
    any(vec![below, above])
}

/// Consecutive tokens in a text field; a query token of one CJK character matches any
/// indexed token starting or ending with it (see `mamori_query::text::token_matches`).
fn phrase(field: Field, tokens: &[String]) -> Result<Boxed, LogError> {
    let single_cjk = |t: &str| {
        let mut cs = t.chars();
        matches!((cs.next(), cs.next()), (Some(c), None) if mamori_query::text::is_cjk(c))
    };
    let as_regex = |t: &str| {
        let e = regex_escape(t);
        if single_cjk(t) { format!("{e}.*|.*{e}") } else { e }
    };
    let err = |e: tantivy::TantivyError| LogError::Query(e.to_string());
    Ok(match tokens {
        [] => Box::new(EmptyQuery),
        [t] if single_cjk(t) => Box::new(RegexQuery::from_pattern(&as_regex(t), field).map_err(err)?),
        [t] => Box::new(TermQuery::new(Term::from_field_text(field, t), IndexRecordOption::WithFreqs)),
        ts if ts.iter().any(|t| single_cjk(t)) => {
            Box::new(RegexPhraseQuery::new(field, ts.iter().map(|t| as_regex(t)).collect()))
        }
        ts => Box::new(PhraseQuery::new(ts.iter().map(|t| Term::from_field_text(field, t)).collect())),
    })
}

/// A range over a date fast field, at its full (microsecond) precision; see `scoped`.
fn time_range(field: Field, lower: Bound<jiff::Timestamp>, upper: Bound<jiff::Timestamp>) -> Boxed {
    let t = |ts: jiff::Timestamp| Term::from_field_date(field, to_datetime(ts));
    let lo = match lower {
        Bound::Unbounded => {
            Bound::Included(Term::from_field_date(field, tantivy::DateTime::from_timestamp_micros(i64::MIN / 2000)))
        }
        b => b.map(t),
    };
    let hi = match upper {
        Bound::Unbounded => {
            Bound::Included(Term::from_field_date(field, tantivy::DateTime::from_timestamp_micros(i64::MAX / 2000)))
        }
        b => b.map(t),
    };
    Box::new(RangeQuery::new(lo, hi))
}

/// Ranges over the numeric columns (i64, u64, f64) of a JSON path. `exact_int` keeps large
/// integers exact where `f64` would round them.
fn numeric_ranges(field: Field, path: &str, lo: Bound<f64>, hi: Bound<f64>, exact_int: Option<i128>) -> Vec<Boxed> {
    let mut out: Vec<Boxed> = Vec::new();
    let (ilo, ihi) = match exact_int {
        Some(i) => (Bound::Included(i), Bound::Included(i)),
        None => (int_lower(lo), int_upper(hi)),
    };
    let clamp_i64 = |b: Bound<i128>| b.map(|v| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64);
    let clamp_u64 = |b: Bound<i128>| b.map(|v| v.clamp(0, u64::MAX as i128) as u64);
    let empty = |lo: &Bound<i128>, hi: &Bound<i128>, min: i128, max: i128| match (lo, hi) {
        (Bound::Included(a) | Bound::Excluded(a), _) if *a > max => true,
        (_, Bound::Included(b) | Bound::Excluded(b)) if *b < min => true,
        _ => false,
    };
    if !empty(&ilo, &ihi, i64::MIN as i128, i64::MAX as i128) {
        out.push(fast_range(field, path, clamp_i64(ilo), clamp_i64(ihi)));
    }
    if !empty(&ilo, &ihi, 0, u64::MAX as i128) {
        out.push(fast_range(field, path, clamp_u64(ilo), clamp_u64(ihi)));
    }
    out.push(fast_range(field, path, lo, hi));
    out
}

/// The integer lower bound equivalent to a float bound.
fn int_lower(b: Bound<f64>) -> Bound<i128> {
    match b {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Included(x) => Bound::Included(x.ceil() as i128),
        Bound::Excluded(x) if x.fract() == 0.0 => Bound::Excluded(x as i128),
        Bound::Excluded(x) => Bound::Included(x.ceil() as i128),
    }
}

fn int_upper(b: Bound<f64>) -> Bound<i128> {
    match b {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Included(x) => Bound::Included(x.floor() as i128),
        Bound::Excluded(x) if x.fract() == 0.0 => Bound::Excluded(x as i128),
        Bound::Excluded(x) => Bound::Included(x.floor() as i128),
    }
}

/// A fast-field range over one typed column of a JSON path.
fn fast_range<T: tantivy::fastfield::FastValue>(field: Field, path: &str, lo: Bound<T>, hi: Bound<T>) -> Boxed {
    let term = |v: T| {
        let mut t = Term::from_field_json_path(field, path, true);
        t.append_type_and_fast_value(v);
        t
    };
    let lo = match lo {
        Bound::Unbounded => Bound::Included(term(T::from_u64(0))),
        b => b.map(term),
    };
    let hi = match hi {
        Bound::Unbounded => Bound::Included(term(T::from_u64(u64::MAX))),
        b => b.map(term),
    };
    Box::new(RangeQuery::new(lo, hi))
}

/// Regex matching the JSON-path prefix of string terms of `path` in the term dictionary.
fn json_str_prefix_regex(path: &str) -> String {
    let segments: Vec<String> = path.split('.').map(regex_escape).collect();
    format!("{}\\x00s", segments.join("\\x01"))
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn boolean(clauses: Vec<Boxed>, occur: Occur) -> Boxed {
    Box::new(BooleanQuery::new(clauses.into_iter().map(|c| (occur, c)).collect()))
}

fn any(mut clauses: Vec<Boxed>) -> Boxed {
    match clauses.len() {
        0 => Box::new(EmptyQuery),
        1 => clauses.pop().expect("one"),
        _ => boolean(clauses, Occur::Should),
    }
}
