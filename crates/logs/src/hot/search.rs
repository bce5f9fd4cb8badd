//! Searching one day partition: matching events newest (or oldest) first, the total count and
//! aggregation partials, in one pass over its blocks.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use jiff::Timestamp;
use mamori_query::{AggPartial, Aggregation, Clause, CompiledQuery, Query, ValueRef, ValueTest};

use super::TENANT_FIELD;
use super::aggregate::BlockAggregator;
use super::block::Block;
use super::eval::{Rows, eval, rows_where};
use super::partition::Partition;
use crate::error::LogError;

/// What one partition contributed to a search.
pub struct PartitionHits {
    pub total: u64,
    /// (timestamp in microseconds, event), in the requested order.
    pub events: Vec<(i64, serde_json::Value)>,
    pub partials: Vec<AggPartial>,
}

/// A query with the filters every hot search carries: the caller's tenants and the time range.
pub struct HotQuery {
    clause: Clause,
    tenants: Option<Vec<String>>,
    from: i64,
    to: i64,
}

impl HotQuery {
    pub fn new(query: &Query, tenants: Option<&[String]>, from: Timestamp, to: Timestamp) -> HotQuery {
        HotQuery {
            clause: CompiledQuery::new(query).clause().clone(),
            tenants: tenants.map(|t| t.to_vec()),
            from: from.as_microsecond(),
            to: to.as_microsecond(),
        }
    }

    /// The rows of `block` in scope that match.
    fn rows(&self, block: &Block) -> Result<Rows, LogError> {
        let n = block.rows();
        let err = |e| LogError::index(std::path::Path::new("hot"), e);
        let mut rows = Rows::none(n);
        (0..n).filter(|&r| (self.from..self.to).contains(&block.time(r))).for_each(|r| rows.insert(r));
        if let Some(tenants) = &self.tenants {
            let Some(col) = block.column(TENANT_FIELD).map_err(err)? else { return Ok(Rows::none(n)) };
            let tests: Vec<ValueTest> =
                tenants.iter().map(|t| ValueTest::Keyword { value: t.clone(), number: None }).collect();
            rows.and(
                &rows_where(&col, n, |v| matches!(v, ValueRef::Str(_)) && tests.iter().any(|t| t.matches(v)))
                    .map_err(err)?,
            );
        }
        if !rows.is_empty() {
            rows.and(&eval(block, &self.clause).map_err(err)?);
        }
        Ok(rows)
    }
}

pub fn search_partition(
    partition: &Partition,
    query: &HotQuery,
    limit: usize,
    newest_first: bool,
    aggs: &[Aggregation],
) -> Result<PartitionHits, LogError> {
    let blocks = partition.blocks();
    let mut total = 0u64;
    let mut agg = BlockAggregator::new(aggs);
    // (time, block, row), best first when popped last: a min-heap of the newest (or of the
    // oldest, by negated time).
    let mut best: BinaryHeap<Reverse<(i64, usize, usize)>> = BinaryHeap::new();
    // Blocks with the best events first, so that the heap fills early and later blocks that
    // cannot beat it are only counted.
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    if newest_first {
        order.sort_by_key(|&i| Reverse(blocks[i].max_ts));
    } else {
        order.sort_by_key(|&i| blocks[i].min_ts);
    }
    for bi in order {
        let block = &blocks[bi];
        if block.rows() == 0 || block.max_ts < query.from || block.min_ts >= query.to {
            continue;
        }
        let rows = query.rows(block)?;
        let count = rows.count();
        if count == 0 {
            continue;
        }
        total += count;
        agg.add(block, &rows).map_err(|e| LogError::index(&partition.dir, e))?;
        let bound = if newest_first { block.max_ts } else { block.min_ts.saturating_neg() };
        let full = best.len() >= limit;
        if limit > 0 && !(full && best.peek().is_some_and(|Reverse(w)| (bound, usize::MAX, usize::MAX) < *w)) {
            for row in rows.iter() {
                let t = block.time(row);
                let key = if newest_first { t } else { t.saturating_neg() };
                if best.len() < limit {
                    best.push(Reverse((key, bi, row)));
                } else if best.peek().is_some_and(|Reverse(w)| (key, bi, row) > *w) {
                    best.pop();
                    best.push(Reverse((key, bi, row)));
                }
            }
        }
    }
    let mut winners: Vec<(i64, usize, usize)> = best.into_iter().map(|Reverse(w)| w).collect();
    winners.sort_by_key(|w| (w.1, w.2));
    let mut events = Vec::with_capacity(winners.len());
    let mut i = 0;
    while i < winners.len() {
        let bi = winners[i].1;
        let block = &blocks[bi];
        let sources = block.sources().map_err(|e| LogError::index(&partition.dir, e))?;
        while i < winners.len() && winners[i].1 == bi {
            let row = winners[i].2;
            match serde_json::from_slice(&sources.json(row)) {
                Ok(v) => events.push((block.time(row), v)),
                Err(e) => tracing::error!(partition = %partition.dir.display(), error = %e, "stored event is not JSON"),
            }
            i += 1;
        }
    }
    if newest_first {
        events.sort_by_key(|(t, _)| Reverse(*t));
    } else {
        events.sort_by_key(|(t, _)| *t);
    }
    Ok(PartitionHits { total, events, partials: agg.finish() })
}
