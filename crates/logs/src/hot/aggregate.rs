//! Aggregations over the matching rows of blocks, producing the same exact partials as the
//! archive scanner's `mamori_query::Accumulator`, so hot and cold results merge.
//!
//! Terms are counted per distinct value of a block (its dictionary code) and turned into
//! strings once per block, not once per event.

use mamori_query::agg::{HistogramPartial, TermsPartial};
use mamori_query::{AggPartial, Aggregation, FieldKind, ValueRef, field_kind};

use rustc_hash::FxHashMap;

use super::block::{Block, BlockError, RowCodes};
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
    parts: Vec<Part>,
}

enum Part {
    Count(u64),
    Terms(TermCounts),
    Histogram(HistogramPartial),
}

/// Counts by the value's string form as written; addresses become canonical once, at the end,
/// rather than once per distinct value of every block.
#[derive(Default)]
struct TermCounts {
    counts: FxHashMap<String, u64>,
    missing: u64,
    ip_field: bool,
}

impl TermCounts {
    fn add(&mut self, key: &str, n: u64) {
        match self.counts.get_mut(key) {
            Some(c) => *c += n,
            None => {
                self.counts.insert(key.to_owned(), n);
            }
        }
    }

    fn finish(self) -> TermsPartial {
        let mut out = TermsPartial::default();
        for (k, n) in self.counts {
            match self.ip_field.then(|| ValueRef::Str(&k).ip()).flatten() {
                Some(ip) => out.add_n(&ip.to_string(), n),
                None => out.add_n(&k, n),
            }
        }
        out.add_missing_n(self.missing);
        out
    }
}

impl BlockAggregator {
    pub fn new(aggs: &[Aggregation]) -> Self {
        let parts = aggs
            .iter()
            .map(|a| match a {
                Aggregation::Count => Part::Count(0),
                Aggregation::Terms { field, .. } => {
                    Part::Terms(TermCounts { ip_field: field_kind(field) == FieldKind::Ip, ..Default::default() })
                }
                Aggregation::DateHistogram { interval, .. } => Part::Histogram(HistogramPartial::new(*interval)),
            })
            .collect();
        BlockAggregator { aggs: aggs.to_vec(), parts }
    }

    /// Counts the rows `rows` of `block`.
    pub fn add(&mut self, block: &Block, rows: &Rows) -> Result<(), BlockError> {
        for (agg, part) in self.aggs.iter().zip(&mut self.parts) {
            match (agg, part) {
                (Aggregation::Count, Part::Count(count)) => *count += rows.count(),
                (Aggregation::Terms { field, .. }, Part::Terms(t)) => terms(block, rows, field, t)?,
                (Aggregation::DateHistogram { field, .. }, Part::Histogram(h)) => histogram(block, rows, field, h)?,
                _ => {}
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Vec<AggPartial> {
        self.parts
            .into_iter()
            .map(|p| match p {
                Part::Count(count) => AggPartial::Count { count },
                Part::Terms(t) => AggPartial::Terms(t.finish()),
                Part::Histogram(h) => AggPartial::DateHistogram(h),
            })
            .collect()
    }
}

/// The value's string form as the archive scanner counts it, addresses canonical.
fn canonical_key(v: ValueRef<'_>, ip_field: bool) -> String {
    if ip_field && let Some(ip) = v.ip() {
        return ip.to_string();
    }
    let mut s = String::new();
    v.write_string_form(&mut s);
    s
}

fn terms(block: &Block, rows: &Rows, field: &str, out: &mut TermCounts) -> Result<(), BlockError> {
    let Some(col) = block.column(field)? else {
        out.missing += rows.count();
        return Ok(());
    };
    let mut with_value = Rows::none(block.rows());
    match col.rows {
        RowCodes::Dense { .. } => {
            let dict = col.dict()?;
            let mut counts = vec![0u64; dict.len()];
            col.for_each(|row, code| {
                if rows.contains(row) {
                    counts[code] += 1;
                    with_value.insert(row);
                }
            });
            let mut key = String::new();
            for (code, n) in counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                match dict[code] {
                    ValueRef::Str(s) => out.add(s, n),
                    v => {
                        v.write_string_form(&mut key);
                        out.add(&key, n);
                    }
                }
            }
        }
        RowCodes::Sparse { .. } => {
            // Several values in a row: each distinct string form counts once for the event.
            let keys: Vec<String> = col.dict()?.iter().map(|v| canonical_key(*v, out.ip_field)).collect();
            let mut last_row = usize::MAX;
            let mut seen: Vec<&str> = Vec::new();
            let mut found: Vec<(usize, usize)> = Vec::new();
            col.for_each(|row, code| {
                if rows.contains(row) {
                    found.push((row, code));
                }
            });
            for (row, code) in found {
                if row != last_row {
                    last_row = row;
                    seen.clear();
                }
                let k = keys[code].as_str();
                if !seen.contains(&k) {
                    seen.push(k);
                    out.add(k, 1);
                    with_value.insert(row);
                }
            }
        }
    }
    let mut missing = rows.clone();
    with_value.not();
    missing.and(&with_value);
    out.missing += missing.count();
    Ok(())
}

fn histogram(block: &Block, rows: &Rows, field: &str, out: &mut HistogramPartial) -> Result<(), BlockError> {
    let mut found = Rows::none(block.rows());
    if let Some(col) = block.column(field)? {
        let times: Vec<Option<jiff::Timestamp>> = col.dict()?.iter().map(|v| v.time()).collect();
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
