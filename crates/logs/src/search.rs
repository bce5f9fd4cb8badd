//! One search over the hot index and the cold archive: the caller never needs to know where
//! an event lives. Every search is scoped to the caller's tenants here, on the server.

use std::time::Instant;

use jiff::Timestamp;
use mamori_query::{AggPartial, AggResult, Aggregation, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cold::ColdStore;
use crate::error::LogError;
use crate::hot::HotStore;
use crate::hot::aggregate::{check, merge_partials};
use crate::hot::search::{HotQuery, search_partition};

/// Which tenants a caller may see. Built by the API from the caller's role, never from the
/// request alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TenantScope {
    All,
    Only(Vec<String>),
}

impl TenantScope {
    pub fn allows(&self, tenant: &str) -> bool {
        match self {
            TenantScope::All => true,
            TenantScope::Only(ts) => ts.iter().any(|t| t == tenant),
        }
    }

    fn list(&self) -> Option<&[String]> {
        match self {
            TenantScope::All => None,
            TenantScope::Only(ts) => Some(ts),
        }
    }
}

/// The largest page of events one search returns.
pub const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: Query,
    /// Inclusive start of the time range.
    pub from: Timestamp,
    /// Exclusive end of the time range.
    pub to: Timestamp,
    pub tenants: TenantScope,
    pub limit: usize,
    pub oldest_first: bool,
    pub aggregations: Vec<Aggregation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Matching events in the range (all of them, not only the returned page).
    pub total: u64,
    pub events: Vec<Value>,
    pub aggregations: Vec<AggResult>,
    pub took_ms: u64,
    pub hot_partitions: usize,
    pub cold_segments: usize,
    pub cold_events_scanned: u64,
}

/// Runs a search. Blocking: call it from a blocking thread.
pub fn search(hot: &HotStore, cold: &ColdStore, req: &SearchRequest) -> Result<SearchResponse, LogError> {
    let started = Instant::now();
    for agg in &req.aggregations {
        check(agg)?;
    }
    if req.from >= req.to {
        return Err(LogError::Query(format!("the time range is empty: from {} is not before to {}", req.from, req.to)));
    }
    let limit = req.limit.min(MAX_LIMIT);
    let query = HotQuery::new(&req.query, req.tenants.list(), req.from, req.to);

    let mut total = 0u64;
    let mut events: Vec<(i64, Value)> = Vec::new();
    let mut partials: Vec<Vec<AggPartial>> = Vec::new();
    let partitions = hot.overlapping(req.from, req.to);
    for p in &partitions {
        let hits = search_partition(p, &query, limit, !req.oldest_first, &req.aggregations)?;
        total += hits.total;
        events.extend(hits.events);
        partials.push(hits.partials);
    }

    let covered = |day: jiff::civil::Date, tenant: &str, lsn_from: u64| hot.covers(day, tenant, lsn_from);
    let cold_hits =
        cold.scan(&req.query, req.from, req.to, &req.tenants, limit, req.oldest_first, &req.aggregations, &covered)?;
    total += cold_hits.total;
    events.extend(cold_hits.events);
    partials.push(cold_hits.partials);

    if req.oldest_first {
        events.sort_by_key(|(t, _)| *t);
    } else {
        events.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    }
    events.truncate(limit);
    let merged = merge_partials(&req.aggregations, partials)?;
    let aggregations = req.aggregations.iter().zip(&merged).map(|(a, p)| finish(a, p, req)).collect();
    Ok(SearchResponse {
        total,
        events: events.into_iter().map(|(_, v)| v).collect(),
        aggregations,
        took_ms: started.elapsed().as_millis() as u64,
        hot_partitions: partitions.len(),
        cold_segments: cold_hits.segments,
        cold_events_scanned: cold_hits.scanned,
    })
}

fn finish(agg: &Aggregation, partial: &AggPartial, req: &SearchRequest) -> AggResult {
    match (agg, partial) {
        // Histograms cover the whole requested range, empty buckets included.
        (Aggregation::DateHistogram { .. }, AggPartial::DateHistogram(h)) => {
            AggResult::DateHistogram(h.finish_within(req.from..req.to))
        }
        _ => partial.finish(agg),
    }
}
