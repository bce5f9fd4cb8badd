//! Aggregations over the index columns, producing the same exact partials as the archive
//! scanner's `mamori_query::Accumulator`, so hot and cold results merge.

use std::collections::HashMap;
use std::net::Ipv6Addr;

use mamori_query::agg::{HistogramPartial, TermsPartial};
use mamori_query::{AggPartial, Aggregation, FieldKind, field_kind};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DateTime, DocId, Score, SegmentOrdinal, SegmentReader};

use super::schema::{F_DATASET, F_KEYWORD_COLUMNS, F_TENANT, from_v6};
use crate::error::LogError;

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

/// Collects partials of several aggregations.
pub struct AggCollector {
    pub aggs: Vec<Aggregation>,
}

impl Collector for AggCollector {
    type Fruit = Vec<AggPartial>;
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
                    Part::Terms { cols, ord_counts: HashMap::new(), other: TermsPartial::default(), missing: 0 }
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

    fn merge_fruits(&self, fruits: Vec<Vec<AggPartial>>) -> tantivy::Result<Vec<AggPartial>> {
        merge_partials(&self.aggs, fruits).map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))
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

#[derive(Default)]
struct TermColumns {
    str: Option<StrColumn>,
    i64: Option<Column<i64>>,
    u64: Option<Column<u64>>,
    f64: Option<Column<f64>>,
    bool: Option<Column<bool>>,
    ip: Option<Column<Ipv6Addr>>,
    time: Option<Column<DateTime>>,
}

impl TermColumns {
    fn only_strings(&self) -> bool {
        self.i64.is_none()
            && self.u64.is_none()
            && self.f64.is_none()
            && self.bool.is_none()
            && self.ip.is_none()
            && self.time.is_none()
    }
}

enum Part {
    Count(u64),
    Terms { cols: TermColumns, ord_counts: HashMap<u64, u64>, other: TermsPartial, missing: u64 },
    Histogram { col: Option<Column<DateTime>>, partial: HistogramPartial },
}

pub struct AggSegment {
    parts: Vec<Part>,
}

impl SegmentCollector for AggSegment {
    type Fruit = Vec<AggPartial>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for part in &mut self.parts {
            match part {
                Part::Count(n) => *n += 1,
                Part::Terms { cols, ord_counts, other, missing } => {
                    collect_terms(doc, cols, ord_counts, other, missing)
                }
                Part::Histogram { col, partial } => match col.as_ref().and_then(|c| c.first(doc)) {
                    Some(t) => {
                        partial.add(jiff::Timestamp::from_microsecond(t.into_timestamp_micros()).unwrap_or_default())
                    }
                    None => partial.add_missing(),
                },
            }
        }
    }

    fn harvest(self) -> Vec<AggPartial> {
        self.parts
            .into_iter()
            .map(|part| match part {
                Part::Count(count) => AggPartial::Count { count },
                Part::Terms { cols, ord_counts, mut other, missing } => {
                    if let Some(col) = &cols.str {
                        let mut s = String::new();
                        for (ord, n) in ord_counts {
                            s.clear();
                            if col.ord_to_str(ord, &mut s).unwrap_or(false) {
                                other.add_n(&s, n);
                            }
                        }
                    }
                    for _ in 0..missing {
                        other.add_missing();
                    }
                    AggPartial::Terms(other)
                }
                Part::Histogram { partial, .. } => AggPartial::DateHistogram(partial),
            })
            .collect()
    }
}

/// Counts one document's distinct values. With only a string column (the common case) it
/// counts term ordinals and resolves them to strings once per segment.
fn collect_terms(
    doc: DocId,
    cols: &TermColumns,
    ord_counts: &mut HashMap<u64, u64>,
    other: &mut TermsPartial,
    missing: &mut u64,
) {
    if cols.only_strings() {
        let Some(col) = &cols.str else {
            *missing += 1;
            return;
        };
        let mut ords = col.term_ords(doc);
        match (ords.next(), ords.next()) {
            (None, _) => *missing += 1,
            (Some(a), None) => *ord_counts.entry(a).or_default() += 1,
            (Some(a), Some(b)) => {
                let mut all = vec![a, b];
                all.extend(ords);
                all.sort_unstable();
                all.dedup();
                for o in all {
                    *ord_counts.entry(o).or_default() += 1;
                }
            }
        }
        return;
    }
    let mut values: Vec<String> = Vec::new();
    if let Some(col) = &cols.str {
        let mut s = String::new();
        for ord in col.term_ords(doc) {
            s.clear();
            if col.ord_to_str(ord, &mut s).unwrap_or(false) {
                values.push(s.clone());
            }
        }
    }
    if let Some(c) = &cols.i64 {
        values.extend(c.values_for_doc(doc).map(|v| v.to_string()));
    }
    if let Some(c) = &cols.u64 {
        values.extend(c.values_for_doc(doc).map(|v| v.to_string()));
    }
    if let Some(c) = &cols.f64 {
        values.extend(c.values_for_doc(doc).filter_map(|v| serde_json::Number::from_f64(v).map(|n| n.to_string())));
    }
    if let Some(c) = &cols.bool {
        values.extend(c.values_for_doc(doc).map(|v| v.to_string()));
    }
    if let Some(c) = &cols.ip {
        values.extend(c.values_for_doc(doc).map(|v| from_v6(v).to_string()));
    }
    if let Some(c) = &cols.time {
        values.extend(c.values_for_doc(doc).map(|v| {
            jiff::Timestamp::from_microsecond(v.into_timestamp_micros()).map(|t| t.to_string()).unwrap_or_default()
        }));
    }
    if values.is_empty() {
        *missing += 1;
        return;
    }
    values.sort_unstable();
    values.dedup();
    for v in values {
        other.add(&v);
    }
}
