//! The parsed form of a query.
//!
//! The parser resolves everything that depends on the schema or the clock, so the tree says
//! exactly what to match: IP values are canonical addresses, a CIDR is a [`ipnet::IpNet`] with
//! its host bits cleared, relative times are absolute [`jiff::Timestamp`]s, and a plain value on
//! a time field has become a [`Query::Range`]. Index search (the `logs` crate) and the cold-scan
//! evaluator ([`crate::eval`]) both consume this tree.

use std::net::IpAddr;
use std::ops::Bound;

use ipnet::IpNet;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::schema::TEXT_FIELDS;

/// A query. `field: None` means the full-text fields ([`crate::schema::TEXT_FIELDS`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Query {
    /// Every event (the empty query, `*`).
    All,
    /// A single value: tokenized on text fields (several tokens behave like a phrase), IP
    /// equality on IP fields, exact string (or numeric) equality on keyword fields.
    Term { field: Option<String>, value: String },
    /// A quoted value: consecutive tokens on text fields, exact equality on keyword fields.
    Phrase { field: Option<String>, text: String },
    /// A value with `*` (any run of characters) or `?` (one character). A literal `*`, `?` or
    /// `\` is written with a backslash before it in `pattern`. Per token on text fields, on the
    /// whole string form elsewhere.
    Wildcard { field: Option<String>, pattern: String },
    /// A comparison or range; `Bound::Unbounded` for an open end.
    Range { field: String, lower: Bound<Scalar>, upper: Bound<Scalar> },
    /// An IP field's value lies in the network.
    Cidr { field: String, net: IpNet },
    /// The field has a non-null value.
    Exists { field: String },
    /// All of the clauses (an empty list matches everything).
    And(Vec<Query>),
    /// Any of the clauses (an empty list matches nothing).
    Or(Vec<Query>),
    /// Not the clause.
    Not(Box<Query>),
}

/// A range endpoint, typed by the field (time and IP fields) or by its form (numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    /// Compared numerically with numbers (and numeric strings) in events.
    Number(f64),
    /// Compared with instants in events.
    Time(Timestamp),
    /// Compared with IP addresses in events (IPv4 sorts before IPv6).
    Ip(IpAddr),
    /// Compared lexicographically (by Unicode scalar values) with string values in events.
    Text(String),
}

impl Query {
    /// The fields the query reads, in order of first appearance, without repeats. A bare term or
    /// phrase reads the full-text fields, so they are listed for it.
    pub fn fields(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.visit_fields(&mut |f| {
            if !out.iter().any(|o| o == f) {
                out.push(f.to_owned());
            }
        });
        out
    }

    fn visit_fields(&self, f: &mut impl FnMut(&str)) {
        let optional = |field: &Option<String>, f: &mut dyn FnMut(&str)| match field {
            Some(name) => f(name),
            None => TEXT_FIELDS.iter().for_each(|t| f(t)),
        };
        match self {
            Query::All => {}
            Query::Term { field, .. } | Query::Phrase { field, .. } | Query::Wildcard { field, .. } => {
                optional(field, f)
            }
            Query::Range { field, .. } | Query::Cidr { field, .. } | Query::Exists { field } => f(field),
            Query::And(qs) | Query::Or(qs) => qs.iter().for_each(|q| q.visit_fields(f)),
            Query::Not(q) => q.visit_fields(f),
        }
    }

    /// Whether the query is the match-everything query.
    pub fn is_all(&self) -> bool {
        matches!(self, Query::All)
    }
}

impl std::str::FromStr for Query {
    type Err = crate::ParseError;

    /// Parses with relative times resolved against the current time; use [`crate::parse`] to
    /// pass the time explicitly.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::parse(s, Timestamp::now())
    }
}
