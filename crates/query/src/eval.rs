//! Evaluating a query against one JSON event, as the cold-archive scanner does for millions of
//! events. [`CompiledQuery`] does the per-query work once (tokenizing terms, compiling wildcard
//! patterns, parsing numbers and addresses, splitting paths); per event, the text fields are
//! tokenized at most once however many clauses read them.
//!
//! Semantics, the same as the hot index's (see the crate documentation for the full list):
//! text fields match by tokens, IP fields by address, time fields by instant, keyword fields by
//! exact string form (or number); arrays match if any element does; `Exists` needs a non-null
//! value.

use std::cell::OnceCell;
use std::cmp::Ordering;
use std::net::IpAddr;
use std::ops::Bound;

use ipnet::IpNet;
use serde_json::{Number, Value};

use crate::ast::{Query, Scalar};
use crate::path::{FieldPath, string_form};
use crate::schema::{FieldKind, TEXT_FIELDS, field_kind};
use crate::text::{for_each_token, token_matches};
use crate::time::event_time;
use crate::typed::parse_number;
use crate::wildcard::Glob;

/// Whether `event` matches `query`. Compiles the query each time: for more than one event,
/// build a [`CompiledQuery`] once.
pub fn matches(query: &Query, event: &Value) -> bool {
    CompiledQuery::new(query).matches(event)
}

/// A query prepared for fast repeated evaluation.
#[derive(Debug, Clone)]
pub struct CompiledQuery {
    root: Node,
    /// Paths of [`TEXT_FIELDS`], indexed by text slot.
    text_paths: Vec<FieldPath>,
}

#[derive(Debug, Clone)]
enum Node {
    All,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// Consecutive tokens in any of the text slots (empty `tokens` matches nothing).
    Text {
        slots: Vec<usize>,
        tokens: Vec<String>,
    },
    /// A token of any of the text slots matches the (folded) pattern.
    TextWildcard {
        slots: Vec<usize>,
        glob: Glob,
    },
    /// Exact string form, or numeric equality when the query value is a number.
    Keyword {
        path: FieldPath,
        value: String,
        number: Option<Num>,
    },
    KeywordWildcard {
        path: FieldPath,
        glob: Glob,
    },
    Ip {
        path: FieldPath,
        ip: IpAddr,
    },
    Cidr {
        path: FieldPath,
        net: IpNet,
    },
    Range {
        path: FieldPath,
        lower: Bound<Scalar>,
        upper: Bound<Scalar>,
    },
    Exists {
        path: FieldPath,
    },
}

/// A query number, with its exact integer value when it has one (so that large IDs compare
/// exactly rather than through `f64`).
#[derive(Debug, Clone, Copy)]
struct Num {
    float: f64,
    int: Option<i128>,
}

impl Num {
    fn parse(s: &str) -> Option<Num> {
        let float = parse_number(s)?;
        Some(Num { float, int: s.parse::<i128>().ok() })
    }
}

/// Per-event state: tokens of each text slot, computed on first use.
struct Ctx<'e> {
    event: &'e Value,
    text: Vec<OnceCell<Vec<TokenList>>>,
}

/// The tokens of one text value, stored in one buffer.
struct TokenList {
    buf: String,
    ends: Vec<usize>,
}

impl TokenList {
    fn new(text: &str) -> TokenList {
        let mut list = TokenList { buf: String::with_capacity(text.len()), ends: Vec::new() };
        for_each_token(text, |t, _, _| {
            list.buf.push_str(t);
            list.ends.push(list.buf.len());
        });
        list
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    fn contains_phrase(&self, q: &[String]) -> bool {
        if q.is_empty() || q.len() > self.len() {
            return false;
        }
        (0..=self.len() - q.len()).any(|i| q.iter().enumerate().all(|(j, t)| token_matches(t, self.get(i + j))))
    }

    fn any_token(&self, glob: &Glob) -> bool {
        (0..self.len()).any(|i| glob.matches(self.get(i)))
    }
}

impl CompiledQuery {
    /// Prepares `query`.
    pub fn new(query: &Query) -> CompiledQuery {
        CompiledQuery { root: compile(query), text_paths: TEXT_FIELDS.iter().map(|f| FieldPath::new(f)).collect() }
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &Value) -> bool {
        let ctx = Ctx { event, text: (0..self.text_paths.len()).map(|_| OnceCell::new()).collect() };
        self.eval(&self.root, &ctx)
    }

    fn eval(&self, node: &Node, ctx: &Ctx<'_>) -> bool {
        match node {
            Node::All => true,
            Node::And(ns) => ns.iter().all(|n| self.eval(n, ctx)),
            Node::Or(ns) => ns.iter().any(|n| self.eval(n, ctx)),
            Node::Not(n) => !self.eval(n, ctx),
            Node::Text { slots, tokens } => {
                !tokens.is_empty()
                    && slots.iter().any(|&s| self.text_values(ctx, s).iter().any(|l| l.contains_phrase(tokens)))
            }
            Node::TextWildcard { slots, glob } => {
                slots.iter().any(|&s| self.text_values(ctx, s).iter().any(|l| l.any_token(glob)))
            }
            Node::Keyword { path, value, number } => {
                path.any(ctx.event, &mut |v| keyword_eq(v, value, number.as_ref()))
            }
            Node::KeywordWildcard { path, glob } => {
                path.any(ctx.event, &mut |v| string_form(v).is_some_and(|s| glob.matches(&s)))
            }
            Node::Ip { path, ip } => path.any(ctx.event, &mut |v| event_ip(v) == Some(*ip)),
            Node::Cidr { path, net } => path.any(ctx.event, &mut |v| event_ip(v).is_some_and(|ip| net.contains(&ip))),
            Node::Range { path, lower, upper } => path.any(ctx.event, &mut |v| in_range(v, lower, upper)),
            Node::Exists { path } => leaf_under(ctx.event, &mut String::new(), path.name()),
        }
    }

    fn text_values<'c>(&self, ctx: &'c Ctx<'_>, slot: usize) -> &'c [TokenList] {
        ctx.text[slot].get_or_init(|| {
            self.text_paths[slot]
                .values(ctx.event)
                .into_iter()
                .filter_map(|v| string_form(v).map(|s| TokenList::new(&s)))
                .collect()
        })
    }
}

fn text_slots(field: &Option<String>) -> Vec<usize> {
    match field {
        None => (0..TEXT_FIELDS.len()).collect(),
        Some(f) => TEXT_FIELDS.iter().position(|t| t == f).into_iter().collect(),
    }
}

fn compile(q: &Query) -> Node {
    match q {
        Query::All => Node::All,
        Query::And(qs) => Node::And(qs.iter().map(compile).collect()),
        Query::Or(qs) => Node::Or(qs.iter().map(compile).collect()),
        Query::Not(q) => Node::Not(Box::new(compile(q))),
        Query::Term { field, value } => compile_value(field, value, true),
        Query::Phrase { field, text } => compile_value(field, text, false),
        Query::Wildcard { field, pattern } => match field {
            Some(f) if field_kind(f) != FieldKind::Text => {
                Node::KeywordWildcard { path: FieldPath::new(f), glob: Glob::new(pattern, false) }
            }
            _ => Node::TextWildcard { slots: text_slots(field), glob: Glob::new(pattern, true) },
        },
        Query::Range { field, lower, upper } => {
            Node::Range { path: FieldPath::new(field), lower: lower.clone(), upper: upper.clone() }
        }
        Query::Cidr { field, net } => Node::Cidr { path: FieldPath::new(field), net: *net },
        Query::Exists { field } => Node::Exists { path: FieldPath::new(field) },
    }
}

/// A term (`numeric` allowed) or phrase value.
fn compile_value(field: &Option<String>, value: &str, numeric: bool) -> Node {
    let Some(f) = field else {
        return Node::Text { slots: text_slots(field), tokens: crate::text::token_texts(value) };
    };
    match field_kind(f) {
        FieldKind::Text => Node::Text { slots: text_slots(field), tokens: crate::text::token_texts(value) },
        kind => match value.trim().parse::<IpAddr>() {
            Ok(ip) if kind == FieldKind::Ip => Node::Ip { path: FieldPath::new(f), ip: ip.to_canonical() },
            _ => Node::Keyword {
                path: FieldPath::new(f),
                value: value.to_owned(),
                number: if numeric { Num::parse(value) } else { None },
            },
        },
    }
}

/// Whether some non-null scalar sits at `field` or below it, with keys joined by dots however
/// the event groups them (`{"source": {"ip": ..}}` and `{"source.ip": ..}` both have `source`).
/// This is what "the field has a value" means to the index, which stores dotted leaf paths.
fn leaf_under(v: &Value, prefix: &mut String, field: &str) -> bool {
    match v {
        Value::Object(map) => map.iter().any(|(k, child)| {
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(k);
            // Only descend where the path can still lead to `field` or lies under it.
            let relevant = field.starts_with(prefix.as_str()) || prefix.starts_with(field);
            let found = relevant && leaf_under(child, prefix, field);
            prefix.truncate(len);
            found
        }),
        Value::Array(items) => items.iter().any(|item| leaf_under(item, prefix, field)),
        Value::Null => false,
        _ => prefix == field || (prefix.starts_with(field) && prefix.as_bytes().get(field.len()) == Some(&b'.')),
    }
}

fn keyword_eq(v: &Value, value: &str, number: Option<&Num>) -> bool {
    match v {
        Value::String(s) => s == value,
        Value::Number(n) => number.is_some_and(|q| num_cmp(n, q) == Some(Ordering::Equal)) || n.to_string() == value,
        Value::Bool(b) => value == if *b { "true" } else { "false" },
        _ => false,
    }
}

/// Compares an event number with a query number, exactly for integers.
fn num_cmp(n: &Number, q: &Num) -> Option<Ordering> {
    let event_int = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    if let (Some(a), Some(b)) = (event_int, q.int) {
        return Some(a.cmp(&b));
    }
    n.as_f64()?.partial_cmp(&q.float)
}

fn event_ip(v: &Value) -> Option<IpAddr> {
    v.as_str()?.trim().parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

fn in_range(v: &Value, lower: &Bound<Scalar>, upper: &Bound<Scalar>) -> bool {
    if v.is_null() {
        return false;
    }
    let lower_ok = match lower {
        Bound::Unbounded => true,
        Bound::Included(s) => matches!(compare(v, s), Some(Ordering::Greater | Ordering::Equal)),
        Bound::Excluded(s) => compare(v, s) == Some(Ordering::Greater),
    };
    lower_ok
        && match upper {
            Bound::Unbounded => true,
            Bound::Included(s) => matches!(compare(v, s), Some(Ordering::Less | Ordering::Equal)),
            Bound::Excluded(s) => compare(v, s) == Some(Ordering::Less),
        }
}

/// How an event value compares with a range endpoint; `None` when they are not comparable
/// (a word against a number, a non-address against an IP), which never matches.
fn compare(v: &Value, s: &Scalar) -> Option<Ordering> {
    match s {
        Scalar::Number(x) => {
            let q = Num { float: *x, int: (x.fract() == 0.0 && x.abs() < 1e30).then_some(*x as i128) };
            match v {
                Value::Number(n) => num_cmp(n, &q),
                Value::String(s) => parse_number(s.trim())?.partial_cmp(x),
                _ => None,
            }
        }
        Scalar::Time(t) => Some(event_time(v)?.cmp(t)),
        Scalar::Ip(ip) => Some(event_ip(v)?.cmp(&ip.to_canonical())),
        // Strings only: numbers are ordered by numeric ranges, never as text.
        Scalar::Text(t) => Some(v.as_str()?.cmp(t.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_exactly() {
        let big = json!({"id": 9007199254740993u64});
        let q = Query::Term { field: Some("id".into()), value: "9007199254740993".into() };
        assert!(matches(&q, &big));
        let q = Query::Term { field: Some("id".into()), value: "9007199254740992".into() };
        assert!(!matches(&q, &big));
    }
}
