//! Evaluating a compiled query on one block, column by column: each clause is tested once per
//! distinct value of its column, and the rows follow from their codes. The clause semantics are
//! `mamori_query`'s own ([`Clause`], [`mamori_query::ValueTest`]), so the hot tier finds exactly
//! what the JSON evaluator finds.

use mamori_query::schema::TEXT_FIELDS;
use mamori_query::text::{phrase_in, token_matches, token_texts};
use mamori_query::{Clause, ValueRef};

use super::block::{Block, BlockError, ColumnReader};

/// A set of rows of one block.
#[derive(Clone, Debug, PartialEq)]
pub struct Rows {
    words: Vec<u64>,
    len: usize,
}

impl Rows {
    pub fn none(len: usize) -> Rows {
        Rows { words: vec![0; len.div_ceil(64)], len }
    }

    pub fn all(len: usize) -> Rows {
        let mut r = Rows { words: vec![!0; len.div_ceil(64)], len };
        r.trim();
        r
    }

    fn trim(&mut self) {
        if !self.len.is_multiple_of(64)
            && let Some(last) = self.words.last_mut()
        {
            *last &= (1u64 << (self.len % 64)) - 1;
        }
    }

    /// Adds a row; rows beyond the set (a damaged block) are ignored.
    pub fn insert(&mut self, row: usize) {
        if row < self.len {
            self.words[row / 64] |= 1 << (row % 64);
        }
    }

    pub fn contains(&self, row: usize) -> bool {
        row < self.len && self.words[row / 64] & (1 << (row % 64)) != 0
    }

    pub fn and(&mut self, other: &Rows) {
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a &= b);
    }

    pub fn or(&mut self, other: &Rows) {
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a |= b);
    }

    pub fn not(&mut self) {
        self.words.iter_mut().for_each(|w| *w = !*w);
        self.trim();
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    pub fn count(&self) -> u64 {
        self.words.iter().map(|w| w.count_ones() as u64).sum()
    }

    /// The rows in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(i * 64 + bit)
            })
        })
    }
}

/// The rows of `block` that `clause` matches.
pub fn eval(block: &Block, clause: &Clause) -> Result<Rows, BlockError> {
    let n = block.rows();
    Ok(match clause {
        Clause::All => Rows::all(n),
        Clause::And(cs) => {
            let mut acc = Rows::all(n);
            for c in cs {
                acc.and(&eval(block, c)?);
                if acc.is_empty() {
                    break;
                }
            }
            acc
        }
        Clause::Or(cs) => {
            let mut acc = Rows::none(n);
            for c in cs {
                acc.or(&eval(block, c)?);
            }
            acc
        }
        Clause::Not(c) => {
            let mut r = eval(block, c)?;
            r.not();
            r
        }
        Clause::Value { path, test } => match block.column(path.name())? {
            Some(col) => rows_where(&col, n, |v| test.matches(v))?,
            None => Rows::none(n),
        },
        Clause::Exists { path } => {
            let field = path.name();
            let mut acc = Rows::none(n);
            let under = |p: &str| p == field || (p.starts_with(field) && p.as_bytes().get(field.len()) == Some(&b'.'));
            let paths: Vec<&str> = block.column_paths().filter(|p| under(p)).collect();
            for p in paths {
                if let Some(col) = block.column(p)? {
                    col.for_each(|row, _| acc.insert(row));
                }
            }
            acc
        }
        Clause::Text { slots, tokens } => {
            let mut acc = Rows::none(n);
            if !tokens.is_empty() {
                for &slot in slots {
                    if let Some(col) = block.column(TEXT_FIELDS[slot])? {
                        acc.or(&phrase_rows(&col, n, tokens)?);
                    }
                }
            }
            acc
        }
        Clause::TextWildcard { slots, glob } => {
            let mut acc = Rows::none(n);
            for &slot in slots {
                if let Some(col) = block.column(TEXT_FIELDS[slot])? {
                    for t in 0..col.token_count() {
                        if glob.matches(col.token(t)) {
                            col.token_rows(t).for_each(|r| acc.insert(r as usize));
                        }
                    }
                }
            }
            acc
        }
    })
}

/// Rows with a value for which `test` holds; the test runs once per distinct value.
pub fn rows_where(col: &ColumnReader<'_>, n: usize, test: impl Fn(ValueRef<'_>) -> bool) -> Result<Rows, BlockError> {
    let hits: Vec<bool> = col.dict()?.iter().map(|v| test(*v)).collect();
    let mut out = Rows::none(n);
    if hits.iter().any(|&h| h) {
        col.for_each(|row, code| {
            if hits[code] {
                out.insert(row)
            }
        });
    }
    Ok(out)
}

/// Rows whose text holds the tokens consecutively: candidates from the token table, checked
/// against the text itself when the phrase has more than one token.
fn phrase_rows(col: &ColumnReader<'_>, n: usize, tokens: &[String]) -> Result<Rows, BlockError> {
    let mut candidates: Option<Rows> = None;
    for q in tokens {
        let mut rows = Rows::none(n);
        let single_cjk = {
            let mut c = q.chars();
            matches!((c.next(), c.next()), (Some(ch), None) if mamori_query::text::is_cjk(ch))
        };
        if single_cjk {
            for t in 0..col.token_count() {
                if token_matches(q, col.token(t)) {
                    col.token_rows(t).for_each(|r| rows.insert(r as usize));
                }
            }
        } else if let Some(t) = col.find_token(q) {
            col.token_rows(t).for_each(|r| rows.insert(r as usize));
        }
        match &mut candidates {
            Some(c) => c.and(&rows),
            None => candidates = Some(rows),
        }
        if candidates.as_ref().is_some_and(Rows::is_empty) {
            return Ok(Rows::none(n));
        }
    }
    let candidates = candidates.unwrap_or_else(|| Rows::none(n));
    if tokens.len() == 1 {
        return Ok(candidates);
    }
    let dict = col.dict()?;
    let mut out = Rows::none(n);
    let mut text = String::new();
    col.for_each(|row, code| {
        if candidates.contains(row) && !out.contains(row) {
            dict[code].write_string_form(&mut text);
            if phrase_in(tokens, &token_texts(&text)) {
                out.insert(row);
            }
        }
    });
    Ok(out)
}
