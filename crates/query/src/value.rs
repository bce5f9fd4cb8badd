//! Tests of one scalar value against one query clause: the single definition of what keyword,
//! IP, range and wildcard clauses mean. The JSON evaluator ([`crate::eval`]) applies them to the
//! values it finds in an event; the hot tier of the `logs` crate applies them once to each
//! distinct value of a column, so both find the same events.

use std::cmp::Ordering;
use std::net::IpAddr;
use std::ops::Bound;

use ipnet::IpNet;
use jiff::Timestamp;
use serde_json::Value;

use crate::ast::Scalar;
use crate::time::{time_from_millis, time_from_millis_f64, time_from_str};
use crate::typed::parse_number;
use crate::wildcard::Glob;

/// A scalar of an event, borrowed. Arrays are seen element by element; null is never a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Str(&'a str),
    Int(i64),
    /// Integers above `i64::MAX`.
    UInt(u64),
    Float(f64),
    Bool(bool),
}

impl<'a> ValueRef<'a> {
    /// The scalar a JSON value is; `None` for null, arrays and objects.
    pub fn from_json(v: &'a Value) -> Option<ValueRef<'a>> {
        Some(match v {
            Value::String(s) => ValueRef::Str(s),
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => ValueRef::Int(i),
                (None, Some(u)) => ValueRef::UInt(u),
                _ => ValueRef::Float(n.as_f64()?),
            },
            _ => return None,
        })
    }

    /// The string form keyword matching and terms aggregations use (see
    /// [`crate::string_form`]): numbers in JSON notation, booleans as `true`/`false`.
    pub fn write_string_form(&self, out: &mut String) {
        use std::fmt::Write;
        out.clear();
        match self {
            ValueRef::Str(s) => out.push_str(s),
            ValueRef::Int(i) => {
                let _ = write!(out, "{i}");
            }
            ValueRef::UInt(u) => {
                let _ = write!(out, "{u}");
            }
            ValueRef::Float(f) => {
                if let Some(n) = serde_json::Number::from_f64(*f) {
                    let _ = write!(out, "{n}");
                }
            }
            ValueRef::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
    }

    /// The instant the value holds: an RFC 3339 string (or a date), or milliseconds since the
    /// epoch (see [`crate::time::event_time`]).
    pub fn time(&self) -> Option<Timestamp> {
        match *self {
            ValueRef::Str(s) => time_from_str(s),
            ValueRef::Int(ms) => time_from_millis(ms),
            ValueRef::UInt(ms) => time_from_millis_f64(ms as f64),
            ValueRef::Float(ms) => time_from_millis_f64(ms),
            ValueRef::Bool(_) => None,
        }
    }

    /// The address the value holds, canonical (IPv4-mapped IPv6 as IPv4).
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            ValueRef::Str(s) => s.trim().parse::<IpAddr>().ok().map(|ip| ip.to_canonical()),
            _ => None,
        }
    }
}

/// A query number, with its exact integer value when it has one (so that large IDs compare
/// exactly rather than through `f64`).
#[derive(Debug, Clone, Copy)]
pub struct Num {
    float: f64,
    int: Option<i128>,
}

impl Num {
    pub fn parse(s: &str) -> Option<Num> {
        let float = parse_number(s)?;
        Some(Num { float, int: s.parse::<i128>().ok() })
    }

    fn of_float(x: f64) -> Num {
        Num { float: x, int: (x.fract() == 0.0 && x.abs() < 1e30).then_some(x as i128) }
    }
}

/// What one value must satisfy for a non-text clause.
#[derive(Debug, Clone)]
pub enum ValueTest {
    /// Exact string form, or numeric equality when the query value is a number.
    Keyword {
        value: String,
        number: Option<Num>,
    },
    /// The string form matches the pattern.
    Wildcard(Glob),
    /// The value is this address.
    Ip(IpAddr),
    /// The value is an address in the network.
    Cidr(IpNet),
    Range {
        lower: Bound<Scalar>,
        upper: Bound<Scalar>,
    },
}

impl ValueTest {
    pub fn matches(&self, v: ValueRef<'_>) -> bool {
        match self {
            ValueTest::Keyword { value, number } => keyword_eq(v, value, number.as_ref()),
            ValueTest::Wildcard(glob) => {
                let mut s = String::new();
                v.write_string_form(&mut s);
                glob.matches(&s)
            }
            ValueTest::Ip(ip) => v.ip() == Some(*ip),
            ValueTest::Cidr(net) => v.ip().is_some_and(|ip| net.contains(&ip)),
            ValueTest::Range { lower, upper } => in_range(v, lower, upper),
        }
    }
}

fn keyword_eq(v: ValueRef<'_>, value: &str, number: Option<&Num>) -> bool {
    match v {
        ValueRef::Str(s) => s == value,
        ValueRef::Bool(b) => value == if b { "true" } else { "false" },
        n => {
            if number.is_some_and(|q| num_cmp(n, q) == Some(Ordering::Equal)) {
                return true;
            }
            let mut s = String::new();
            n.write_string_form(&mut s);
            s == value
        }
    }
}

/// Compares an event number with a query number, exactly for integers.
fn num_cmp(n: ValueRef<'_>, q: &Num) -> Option<Ordering> {
    let (event_int, float) = match n {
        ValueRef::Int(i) => (Some(i as i128), i as f64),
        ValueRef::UInt(u) => (Some(u as i128), u as f64),
        ValueRef::Float(f) => (None, f),
        _ => return None,
    };
    if let (Some(a), Some(b)) = (event_int, q.int) {
        return Some(a.cmp(&b));
    }
    float.partial_cmp(&q.float)
}

fn in_range(v: ValueRef<'_>, lower: &Bound<Scalar>, upper: &Bound<Scalar>) -> bool {
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
fn compare(v: ValueRef<'_>, s: &Scalar) -> Option<Ordering> {
    match s {
        Scalar::Number(x) => match v {
            ValueRef::Str(s) => parse_number(s.trim())?.partial_cmp(x),
            ValueRef::Bool(_) => None,
            n => num_cmp(n, &Num::of_float(*x)),
        },
        Scalar::Time(t) => Some(v.time()?.cmp(t)),
        Scalar::Ip(ip) => Some(v.ip()?.cmp(&ip.to_canonical())),
        // Strings only: numbers are ordered by numeric ranges, never as text.
        Scalar::Text(t) => match v {
            ValueRef::Str(s) => Some(s.cmp(t.as_str())),
            _ => None,
        },
    }
}
