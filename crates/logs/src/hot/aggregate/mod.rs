//! Aggregations over the index columns, producing the same exact partials as the archive
//! scanner's `mamori_query::Accumulator`, so hot and cold results merge.
//!
//! Values are counted by their native form (term ordinal, address, number) and merged in that
//! form across segments and partitions; they become strings once, at the end of a search.

mod terms;

use std::net::Ipv6Addr;

use mamori_query::agg::HistogramPartial;
use mamori_query::{AggPartial, Aggregation, FieldKind, field_kind};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DateTime, DocId, Score, SegmentOrdinal, SegmentReader};

use super::schema::{F_DATASET, F_KEYWORD_COLUMNS, F_TENANT};
use crate::error::LogError;
pub use terms::NativeTerms;
use terms::{TermColumns, TermCounter};

/// Checks that an aggregation can run on the index (and so on the archive).
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

/// A partial aggregation of the hot tier, in native form.
#[derive(Debug, Clone)]
pub enum HotPartial {
    Count(u64),
    Terms(NativeTerms),
    Histogram(HistogramPartial),
}

impl HotPartial {
    fn merge(&mut self, other: HotPartial) -> Result<(), LogError> {
        match (self, other) {
            (HotPartial::Count(a), HotPartial::Count(b)) => *a += b,
            (HotPartial::Terms(a), HotPartial::Terms(b)) => a.merge(b),
            (HotPartial::Histogram(a), HotPartial::Histogram(b)) => {
                a.merge(b).map_err(|e| LogError::Query(e.to_string()))?
            }
            _ => return Err(LogError::Query("aggregation partials of different kinds".into())),
        }
        Ok(())
    }

    /// The partial in the form shared with the archive scanner.
    pub fn into_partial(self) -> AggPartial {
        match self {
            HotPartial::Count(count) => AggPartial::Count { count },
            HotPartial::Terms(t) => AggPartial::Terms(t.into_partial()),
            HotPartial::Histogram(h) => AggPartial::DateHistogram(h),
        }
    }
}

/// Merges hot partials of the same aggregations (from segments or partitions).
pub fn merge_hot(aggs: &[Aggregation], fruits: Vec<Vec<HotPartial>>) -> Result<Vec<HotPartial>, LogError> {
    let mut out: Vec<HotPartial> = aggs
        .iter()
        .map(|a| match a {
            Aggregation::Count => HotPartial::Count(0),
            Aggregation::Terms { .. } => HotPartial::Terms(NativeTerms::default()),
            Aggregation::DateHistogram { interval, .. } => HotPartial::Histogram(HistogramPartial::new(*interval)),
        })
        .collect();
    for fruit in fruits {
        for (acc, p) in out.iter_mut().zip(fruit) {
            acc.merge(p)?;
        }
    }
    Ok(out)
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

/// Collects partials of several aggregations.
pub struct AggCollector {
    pub aggs: Vec<Aggregation>,
}

impl Collector for AggCollector {
    type Fruit = Vec<HotPartial>;
    type Child = AggSegment;

    fn for_segment(&self, _ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<AggSegment> {
        let ff = segment.fast_fields();
        let mut parts = Vec::with_capacity(self.aggs.len());
        for agg in &self.aggs {
            parts.push(match agg {
                Aggregation::Count => Part::Count(0),
                Aggregation::Terms { field, .. } => {
                    let mut cols = TermColumns::default();
                    let kw = format!("{F_KEYWORD_COLUMNS}.{field}");
                    match field_kind(field) {
                        FieldKind::Ip => cols.ip = ff.column_opt::<Ipv6Addr>(field)?,
                        FieldKind::Time => cols.time = ff.column_opt::<DateTime>(field)?,
                        _ => {}
                    }
                    cols.str = if field == F_TENANT || field == F_DATASET { ff.str(field)? } else { ff.str(&kw)? };
                    cols.i64 = ff.column_opt::<i64>(&kw)?;
                    cols.u64 = ff.column_opt::<u64>(&kw)?;
                    cols.f64 = ff.column_opt::<f64>(&kw)?;
                    cols.bool = ff.column_opt::<bool>(&kw)?;
                    Part::Terms(Box::new(TermCounter::new(cols)))
                }
                Aggregation::DateHistogram { field, interval } => Part::Histogram {
                    col: ff.column_opt::<DateTime>(field)?,
                    partial: HistogramPartial::new(*interval),
                },
            });
        }
        Ok(AggSegment { parts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<HotPartial>>) -> tantivy::Result<Vec<HotPartial>> {
        merge_hot(&self.aggs, fruits).map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))
    }
}

enum Part {
    Count(u64),
    Terms(Box<TermCounter>),
    Histogram { col: Option<tantivy::columnar::Column<DateTime>>, partial: HistogramPartial },
}

pub struct AggSegment {
    parts: Vec<Part>,
}

impl SegmentCollector for AggSegment {
    type Fruit = Vec<HotPartial>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for part in &mut self.parts {
            match part {
                Part::Count(n) => *n += 1,
                Part::Terms(counter) => counter.collect(doc),
                Part::Histogram { col, partial } => match col.as_ref().and_then(|c| c.first(doc)) {
                    Some(t) => {
                        partial.add(jiff::Timestamp::from_microsecond(t.into_timestamp_micros()).unwrap_or_default())
                    }
                    None => partial.add_missing(),
                },
            }
        }
    }

    fn harvest(self) -> Vec<HotPartial> {
        self.parts
            .into_iter()
            .map(|part| match part {
                Part::Count(count) => HotPartial::Count(count),
                Part::Terms(counter) => HotPartial::Terms(counter.harvest()),
                Part::Histogram { partial, .. } => HotPartial::Histogram(partial),
            })
            .collect()
    }
}
