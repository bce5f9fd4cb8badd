//! Searching one day partition: matching events newest (or oldest) first, the total count and
//! aggregation partials, in one pass of the index.

use jiff::Timestamp;
use mamori_query::Aggregation;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query as TQuery, RangeQuery, TermSetQuery};
use tantivy::schema::Value as _;
use tantivy::{DateTime, Order, TantivyDocument, Term};

use super::aggregate::{AggCollector, HotPartial};
use super::partition::Partition;
use super::schema::{F_TIMESTAMP, Fields, to_datetime};
use crate::error::LogError;

/// What one partition contributed to a search.
pub struct PartitionHits {
    pub total: u64,
    /// (timestamp in microseconds, event), in the requested order.
    pub events: Vec<(i64, serde_json::Value)>,
    pub partials: Vec<HotPartial>,
}

/// The filters every hot query carries: the caller's tenants and the time range.
pub fn scoped(
    fields: &Fields,
    query: Box<dyn TQuery>,
    tenants: Option<&[String]>,
    from: Timestamp,
    to: Timestamp,
) -> Box<dyn TQuery> {
    let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = vec![(Occur::Must, query)];
    // `from_field_date`, not `..._for_search`: the latter truncates to whole seconds (the
    // precision of tantivy's inverted index), but @timestamp is a fast field kept in
    // microseconds and the range runs on it, so a truncated bound would drop (or add) up to a
    // second of events at each end.
    clauses.push((
        Occur::Must,
        Box::new(RangeQuery::new(
            std::ops::Bound::Included(Term::from_field_date(fields.timestamp, to_datetime(from))),
            std::ops::Bound::Excluded(Term::from_field_date(fields.timestamp, to_datetime(to))),
        )),
    ));
    if let Some(ts) = tenants {
        clauses.push((
            Occur::Must,
            Box::new(TermSetQuery::new(ts.iter().map(|t| Term::from_field_text(fields.tenant, t)))),
        ));
    }
    Box::new(BooleanQuery::new(clauses))
}

pub fn search_partition(
    partition: &Partition,
    fields: &Fields,
    query: &dyn TQuery,
    limit: usize,
    newest_first: bool,
    aggs: &[Aggregation],
) -> Result<PartitionHits, LogError> {
    let searcher = partition.reader.searcher();
    let err = |e| LogError::index(&partition.dir, e);
    let order = if newest_first { Order::Desc } else { Order::Asc };
    let top = TopDocs::with_limit(limit.max(1)).order_by_fast_field::<DateTime>(F_TIMESTAMP, order);
    let agg = AggCollector { aggs: aggs.to_vec() };
    let (docs, total, partials) = searcher.search(query, &(top, Count, agg)).map_err(err)?;
    let mut events = Vec::with_capacity(docs.len().min(limit));
    for (ts, addr) in docs.into_iter().take(limit) {
        let doc: TantivyDocument = searcher.doc(addr).map_err(err)?;
        let Some(bytes) = doc.get_first(fields.source).and_then(|v| v.as_bytes()) else {
            continue;
        };
        match serde_json::from_slice(bytes) {
            Ok(v) => events.push((ts.map(|t| t.into_timestamp_micros()).unwrap_or(0), v)),
            Err(e) => {
                tracing::error!(partition = %partition.dir.display(), error = %e, "stored event is not JSON")
            }
        }
    }
    Ok(PartitionHits { total: total as u64, events, partials })
}
