//! Aggregations over the events a query matches, shared by hot (index) and cold (archive)
//! search.
//!
//! A search runs over several partitions (hot index segments, archive files, machines). Each
//! produces an exact partial ([`AggPartial`]: full per-value counts, not a top-N, so nothing is
//! lost), partials are merged with [`AggPartial::merge`], and the merged partial is turned into
//! the answer with [`AggPartial::finish`]. The cold scanner feeds events one by one into an
//! [`Accumulator`]. All types serialize with serde so partials can cross the network.

mod accumulator;
mod interval;
mod partial;

pub use accumulator::Accumulator;
pub use interval::{Interval, IntervalError, auto_interval};
pub use partial::{
    AggPartial, HistogramBucket, HistogramPartial, HistogramResult, MergeError, TermsBucket, TermsPartial, TermsResult,
};

use serde::{Deserialize, Serialize};

use crate::schema::DEFAULT_TIME_FIELD;

/// What to compute over the matching events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Aggregation {
    /// The number of matching events.
    Count,
    /// The `size` most frequent values of `field` with their counts, plus the count of all
    /// other values and of events without the field. An event with several values (an array)
    /// counts once for each distinct value.
    Terms {
        field: String,
        #[serde(default = "default_size")]
        size: usize,
    },
    /// Events per fixed time bucket of `field` (default `@timestamp`), buckets aligned to UTC.
    DateHistogram {
        #[serde(default = "default_time_field")]
        field: String,
        interval: Interval,
    },
}

fn default_size() -> usize {
    10
}

fn default_time_field() -> String {
    DEFAULT_TIME_FIELD.to_owned()
}

impl Aggregation {
    /// A date histogram on `@timestamp`.
    pub fn date_histogram(interval: Interval) -> Aggregation {
        Aggregation::DateHistogram { field: default_time_field(), interval }
    }

    /// An empty partial of the right kind for this aggregation.
    pub fn empty_partial(&self) -> AggPartial {
        match self {
            Aggregation::Count => AggPartial::Count { count: 0 },
            Aggregation::Terms { .. } => AggPartial::Terms(TermsPartial::default()),
            Aggregation::DateHistogram { interval, .. } => AggPartial::DateHistogram(HistogramPartial::new(*interval)),
        }
    }
}

/// The answer to one [`Aggregation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AggResult {
    Count { count: u64 },
    Terms(TermsResult),
    DateHistogram(HistogramResult),
}
