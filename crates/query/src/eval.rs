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
use std::net::IpAddr;

use serde_json::Value;

use crate::ast::Query;
use crate::path::{FieldPath, string_form};
use crate::schema::{FieldKind, TEXT_FIELDS, field_kind};
use crate::text::{for_each_token, token_matches};
use crate::value::{Num, ValueRef, ValueTest};
use crate::wildcard::Glob;

/// Whether `event` matches `query`. Compiles the query each time: for more than one event,
/// build a [`CompiledQuery`] once.
pub fn matches(query: &Query, event: &Value) -> bool {
    CompiledQuery::new(query).matches(event)
}

/// A query prepared for fast repeated evaluation.
#[derive(Debug, Clone)]
pub struct CompiledQuery {
    root: Clause,
    /// Paths of [`TEXT_FIELDS`], indexed by text slot.
    text_paths: Vec<FieldPath>,
}

/// A compiled clause: what the evaluator (and the hot tier of the `logs` crate) tests.
#[derive(Debug, Clone)]
pub enum Clause {
    All,
    And(Vec<Clause>),
    Or(Vec<Clause>),
    Not(Box<Clause>),
    /// Consecutive tokens in any of the text slots (indexes into [`TEXT_FIELDS`]); empty
    /// `tokens` matches nothing.
    Text {
        slots: Vec<usize>,
        tokens: Vec<String>,
    },
    /// A token of any of the text slots matches the (folded) pattern.
    TextWildcard {
        slots: Vec<usize>,
        glob: Glob,
    },
    /// Some value of the field passes the test.
    Value {
        path: FieldPath,
        test: ValueTest,
    },
    /// Some non-null scalar sits at the field or below it.
    Exists {
        path: FieldPath,
    },
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

    /// The compiled tree.
    pub fn clause(&self) -> &Clause {
        &self.root
    }

    fn eval(&self, node: &Clause, ctx: &Ctx<'_>) -> bool {
        match node {
            Clause::All => true,
            Clause::And(ns) => ns.iter().all(|n| self.eval(n, ctx)),
            Clause::Or(ns) => ns.iter().any(|n| self.eval(n, ctx)),
            Clause::Not(n) => !self.eval(n, ctx),
            Clause::Text { slots, tokens } => {
                !tokens.is_empty()
                    && slots.iter().any(|&s| self.text_values(ctx, s).iter().any(|l| l.contains_phrase(tokens)))
            }
            Clause::TextWildcard { slots, glob } => {
                slots.iter().any(|&s| self.text_values(ctx, s).iter().any(|l| l.any_token(glob)))
            }
            Clause::Value { path, test } => {
                path.any(ctx.event, &mut |v| ValueRef::from_json(v).is_some_and(|v| test.matches(v)))
            }
            Clause::Exists { path } => leaf_under(ctx.event, &mut String::new(), path.name()),
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

fn compile(q: &Query) -> Clause {
    match q {
        Query::All => Clause::All,
        Query::And(qs) => Clause::And(qs.iter().map(compile).collect()),
        Query::Or(qs) => Clause::Or(qs.iter().map(compile).collect()),
        Query::Not(q) => Clause::Not(Box::new(compile(q))),
        Query::Term { field, value } => compile_value(field, value, true),
        Query::Phrase { field, text } => compile_value(field, text, false),
        Query::Wildcard { field, pattern } => match field {
            Some(f) if field_kind(f) != FieldKind::Text => {
                Clause::Value { path: FieldPath::new(f), test: ValueTest::Wildcard(Glob::new(pattern, false)) }
            }
            _ => Clause::TextWildcard { slots: text_slots(field), glob: Glob::new(pattern, true) },
        },
        Query::Range { field, lower, upper } => Clause::Value {
            path: FieldPath::new(field),
            test: ValueTest::Range { lower: lower.clone(), upper: upper.clone() },
        },
        Query::Cidr { field, net } => Clause::Value { path: FieldPath::new(field), test: ValueTest::Cidr(*net) },
        Query::Exists { field } => Clause::Exists { path: FieldPath::new(field) },
    }
}

/// A term (`numeric` allowed) or phrase value.
fn compile_value(field: &Option<String>, value: &str, numeric: bool) -> Clause {
    let Some(f) = field else {
        return Clause::Text { slots: text_slots(field), tokens: crate::text::token_texts(value) };
    };
    match field_kind(f) {
        FieldKind::Text => Clause::Text { slots: text_slots(field), tokens: crate::text::token_texts(value) },
        kind => match value.trim().parse::<IpAddr>() {
            Ok(ip) if kind == FieldKind::Ip => {
                Clause::Value { path: FieldPath::new(f), test: ValueTest::Ip(ip.to_canonical()) }
            }
            _ => Clause::Value {
                path: FieldPath::new(f),
                test: ValueTest::Keyword {
                    value: value.to_owned(),
                    number: if numeric { Num::parse(value) } else { None },
                },
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
