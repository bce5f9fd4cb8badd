//! Helpers shared by the integration tests: a fixed clock, query builders and a tiny
//! deterministic random generator (no dependency needed).

#![allow(dead_code)]

pub mod generate;

use std::ops::Bound;

use jiff::Timestamp;
use mamori_query::{ParseError, Query, Scalar, parse};

pub fn now() -> Timestamp {
    "2026-11-21T12:00:00Z".parse().unwrap()
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn p(s: &str) -> Query {
    match parse(s, now()) {
        Ok(q) => q,
        Err(e) => panic!("{s:?} failed: {e}\n{}", e.render(s)),
    }
}

pub fn e(s: &str) -> ParseError {
    match parse(s, now()) {
        Ok(q) => panic!("{s:?} parsed as {q:?}"),
        Err(e) => e,
    }
}

pub fn term(field: &str, value: &str) -> Query {
    Query::Term { field: Some(field.into()), value: value.into() }
}

pub fn bare(value: &str) -> Query {
    Query::Term { field: None, value: value.into() }
}

pub fn phrase(field: Option<&str>, text: &str) -> Query {
    Query::Phrase { field: field.map(Into::into), text: text.into() }
}

pub fn wild(field: Option<&str>, pattern: &str) -> Query {
    Query::Wildcard { field: field.map(Into::into), pattern: pattern.into() }
}

pub fn range(field: &str, lower: Bound<Scalar>, upper: Bound<Scalar>) -> Query {
    Query::Range { field: field.into(), lower, upper }
}

pub fn num(n: f64) -> Scalar {
    Scalar::Number(n)
}

pub fn time(s: &str) -> Scalar {
    Scalar::Time(ts(s))
}

pub fn ip(s: &str) -> Scalar {
    Scalar::Ip(s.parse().unwrap())
}

pub fn text(s: &str) -> Scalar {
    Scalar::Text(s.into())
}

pub fn cidr(field: &str, net: &str) -> Query {
    Query::Cidr { field: field.into(), net: net.parse().unwrap() }
}

pub fn exists(field: &str) -> Query {
    Query::Exists { field: field.into() }
}

pub fn and(qs: Vec<Query>) -> Query {
    Query::And(qs)
}

pub fn or(qs: Vec<Query>) -> Query {
    Query::Or(qs)
}

pub fn not(q: Query) -> Query {
    Query::Not(Box::new(q))
}

/// SplitMix64: small, fast, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
