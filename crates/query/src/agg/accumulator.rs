//! Feeding events one by one into a set of aggregations, for cold-archive scans.

use serde_json::Value;

use super::{AggPartial, AggResult, Aggregation, MergeError};
use crate::path::{FieldPath, string_form};
use crate::schema::{FieldKind, field_kind};
use crate::time::event_time;

/// An address in its canonical form (`::ffff:192.0.2.7` counts as `192.0.2.7`), so that the
/// same address written two ways is one value, as in the index.
fn canonical_ip(s: std::borrow::Cow<'_, str>) -> std::borrow::Cow<'_, str> {
    match s.trim().parse::<std::net::IpAddr>() {
        Ok(ip) => std::borrow::Cow::Owned(ip.to_canonical().to_string()),
        Err(_) => s,
    }
}

/// The running partials of several aggregations.
#[derive(Debug, Clone)]
pub struct Accumulator {
    aggs: Vec<Aggregation>,
    paths: Vec<Option<FieldPath>>,
    partials: Vec<AggPartial>,
}

impl Accumulator {
    /// Empty partials for `aggs`, in the same order.
    pub fn new(aggs: &[Aggregation]) -> Accumulator {
        Accumulator {
            aggs: aggs.to_vec(),
            paths: aggs
                .iter()
                .map(|a| match a {
                    Aggregation::Count => None,
                    Aggregation::Terms { field, .. } | Aggregation::DateHistogram { field, .. } => {
                        Some(FieldPath::new(field))
                    }
                })
                .collect(),
            partials: aggs.iter().map(Aggregation::empty_partial).collect(),
        }
    }

    /// Counts one (matching) event.
    pub fn add(&mut self, event: &Value) {
        for (partial, path) in self.partials.iter_mut().zip(&self.paths) {
            match (partial, path) {
                (AggPartial::Count { count }, _) => *count += 1,
                (AggPartial::Terms(t), Some(path)) => {
                    let ip_field = field_kind(path.name()) == FieldKind::Ip;
                    let mut seen: Vec<std::borrow::Cow<'_, str>> = Vec::new();
                    for v in path.values(event) {
                        if let Some(s) = string_form(v).map(|s| if ip_field { canonical_ip(s) } else { s })
                            && !seen.contains(&s)
                        {
                            seen.push(s);
                        }
                    }
                    if seen.is_empty() {
                        t.add_missing();
                    }
                    seen.iter().for_each(|s| t.add(s));
                }
                (AggPartial::DateHistogram(h), Some(path)) => {
                    match path.values(event).into_iter().find_map(event_time) {
                        Some(ts) => h.add(ts),
                        None => h.add_missing(),
                    }
                }
                (_, None) => {}
            }
        }
    }

    /// Merges the partials of another partition (in the same order as the aggregations).
    pub fn merge(&mut self, partials: Vec<AggPartial>) -> Result<(), MergeError> {
        if partials.len() != self.partials.len() {
            return Err(MergeError::CountMismatch { expected: self.partials.len(), got: partials.len() });
        }
        for (ours, theirs) in self.partials.iter_mut().zip(partials) {
            ours.merge(theirs)?;
        }
        Ok(())
    }

    /// The aggregations being computed.
    pub fn aggregations(&self) -> &[Aggregation] {
        &self.aggs
    }

    /// The current partials (to send to whoever merges).
    pub fn partials(&self) -> &[AggPartial] {
        &self.partials
    }

    /// Takes the partials.
    pub fn into_partials(self) -> Vec<AggPartial> {
        self.partials
    }

    /// The answers, one per aggregation.
    pub fn finish(&self) -> Vec<AggResult> {
        self.partials.iter().zip(&self.aggs).map(|(p, a)| p.finish(a)).collect()
    }
}
