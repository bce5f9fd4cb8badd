//! Aggregations over the matching rows of blocks, producing the same exact partials as the
//! archive scanner's `mamori_query::Accumulator`, so hot and cold results merge.
//!
//! Terms are counted per distinct value of a block (its dictionary code) and turned into
//! strings once per block, not once per event.

use mamori_query::agg::{HistogramPartial, TermsPartial};
use mamori_query::{AggPartial, Aggregation, FieldKind, ValueRef, field_kind};

use super::block::{Block, BlockError};
use super::eval::Rows;
use crate::error::LogError;

/// Checks that an aggregation can run on the hot tier (and so on the archive).
pub fn check(agg: &Aggregation) -> Result<(), LogError> {
    match agg {
        Aggregation::Count => Ok(()),
        Aggregation::Terms { field, .. } => match field_kind(field) {
            FieldKind::Text | FieldKind::StoredOnly => Err(LogError::Query(format!(
                "cannot count values of {field}: it is full text; aggregate a keyword, IP or time field"
            ))),
            _ => Ok(()),
        },
        Aggregation::DateHistogram { field, .. } => match field_kind(field) {
            FieldKind::Time => Ok(()),
            _ => Err(LogError::Query(format!("a date histogram needs a time field such as @timestamp, not {field}"))),
        },
    }
}

/// Merges partials of the same aggregations from several sources.
pub fn merge_partials(aggs: &[Aggregation], fruits: Vec<Vec<AggPartial>>) -> Result<Vec<AggPartial>, LogError> {
    let mut out: Vec<AggPartial> = aggs.iter().map(Aggregation::empty_partial).collect();
    for fruit in fruits {
        for (acc, p) in out.iter_mut().zip(fruit) {
            acc.merge(p).map_err(|e| LogError::Query(e.to_string()))?;
        }
    }
    Ok(out)
}

/// The running partials of a search's aggregations over blocks.
pub struct BlockAggregator {
    aggs: Vec<Aggregation>,
    partials: Vec<AggPartial>,
}

impl BlockAggregator {
    pub fn new(aggs: &[Aggregation]) -> Self {
        BlockAggregator { aggs: aggs.to_vec(), partials: aggs.iter().map(Aggregation::empty_partial).collect() }
    }

    /// Counts the rows `rows` of `block`.
    pub fn add(&mut self, block: &Block, rows: &Rows) -> Result<(), BlockError> {
        for (agg, partial) in self.aggs.iter().zip(&mut self.partials) {
            match (agg, partial) {
                (Aggregation::Count, AggPartial::Count { count }) => *count += rows.count(),
                (Aggregation::Terms { field, .. }, AggPartial::Terms(t)) => terms(block, rows, field, t)?,
                (Aggregation::DateHistogram { field, .. }, AggPartial::DateHistogram(h)) => {
                    histogram(block, rows, field, h)?
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Vec<AggPartial> {
        self.partials
    }
}

/// The value's string form as the archive scanner counts it (addresses canonical).
fn key(v: ValueRef<'_>, ip_field: bool) -> Option<String> {
    if ip_field && let Some(ip) = v.ip() {
        return Some(ip.to_string());
    }
    let mut s = String::new();
    v.write_string_form(&mut s);
    // A float without a JSON form (NaN) has no string form either.
    (!s.is_empty() || matches!(v, ValueRef::Str(_))).then_some(s)
}

fn terms(block: &Block, rows: &Rows, field: &str, out: &mut TermsPartial) -> Result<(), BlockError> {
    let Some(col) = block.column(field)? else {
        out.add_missing_n(rows.count());
        return Ok(());
    };
    let ip_field = field_kind(field) == FieldKind::Ip;
    let keys: Vec<Option<String>> = col.dict.iter().map(|v| key(*v, ip_field)).collect();
    // Codes with the same string form ("443" and 443) count once per event.
    let mut canon: Vec<usize> = (0..keys.len()).collect();
    {
        let mut first: rustc_hash::FxHashMap<&str, usize> = Default::default();
        for (i, k) in keys.iter().enumerate() {
            if let Some(k) = k {
                canon[i] = *first.entry(k.as_str()).or_insert(i);
            }
        }
    }
    let mut counts = vec![0u64; keys.len()];
    let mut with_value = Rows::none(block.rows());
    let mut last_row = usize::MAX;
    let mut seen: Vec<usize> = Vec::new();
    col.for_each(|row, code| {
        if !rows.contains(row) || keys[code].is_none() {
            return;
        }
        if row != last_row {
            last_row = row;
            seen.clear();
        }
        let c = canon[code];
        if !seen.contains(&c) {
            seen.push(c);
            counts[c] += 1;
            with_value.insert(row);
        }
    });
    for (i, n) in counts.into_iter().enumerate() {
        if n > 0
            && let Some(k) = &keys[i]
        {
            out.add_n(k, n);
        }
    }
    let mut missing = rows.clone();
    with_value.not();
    missing.and(&with_value);
    out.add_missing_n(missing.count());
    Ok(())
}

fn histogram(block: &Block, rows: &Rows, field: &str, out: &mut HistogramPartial) -> Result<(), BlockError> {
    let mut found = Rows::none(block.rows());
    if let Some(col) = block.column(field)? {
        let times: Vec<Option<jiff::Timestamp>> = col.dict.iter().map(|v| v.time()).collect();
        col.for_each(|row, code| {
            if rows.contains(row)
                && !found.contains(row)
                && let Some(t) = times[code]
            {
                found.insert(row);
                out.add(t);
            }
        });
    }
    let mut missing = rows.clone();
    found.not();
    missing.and(&found);
    for _ in 0..missing.count() {
        out.add_missing();
    }
    Ok(())
}
