//! Exact partial aggregation states and their merge and finish steps.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{AggResult, Aggregation, Interval};

/// Partials of different shapes were merged: a bug in the caller, reported rather than
/// producing a wrong count.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MergeError {
    #[error("cannot merge a {theirs} partial into a {ours} partial")]
    KindMismatch { ours: &'static str, theirs: &'static str },
    #[error("cannot merge histograms with different intervals ({ours} and {theirs})")]
    IntervalMismatch { ours: Interval, theirs: Interval },
    #[error("expected {expected} partials, got {got}")]
    CountMismatch { expected: usize, got: usize },
}

/// The mergeable state of one aggregation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AggPartial {
    Count { count: u64 },
    Terms(TermsPartial),
    DateHistogram(HistogramPartial),
}

impl AggPartial {
    fn kind(&self) -> &'static str {
        match self {
            AggPartial::Count { .. } => "count",
            AggPartial::Terms(_) => "terms",
            AggPartial::DateHistogram(_) => "date_histogram",
        }
    }

    /// Adds `other` into `self`. Merging is exact, associative and commutative.
    pub fn merge(&mut self, other: AggPartial) -> Result<(), MergeError> {
        let (ours, theirs) = (self.kind(), other.kind());
        match (self, other) {
            (AggPartial::Count { count }, AggPartial::Count { count: c }) => {
                *count += c;
                Ok(())
            }
            (AggPartial::Terms(a), AggPartial::Terms(b)) => {
                a.merge(b);
                Ok(())
            }
            (AggPartial::DateHistogram(a), AggPartial::DateHistogram(b)) => a.merge(b),
            _ => Err(MergeError::KindMismatch { ours, theirs }),
        }
    }

    /// The answer, using the request for what the partial does not hold (the terms size).
    pub fn finish(&self, agg: &Aggregation) -> AggResult {
        match (self, agg) {
            (AggPartial::Count { count }, _) => AggResult::Count { count: *count },
            (AggPartial::Terms(t), Aggregation::Terms { size, .. }) => AggResult::Terms(t.finish(*size)),
            (AggPartial::Terms(t), _) => AggResult::Terms(t.finish(usize::MAX)),
            (AggPartial::DateHistogram(h), _) => AggResult::DateHistogram(h.finish()),
        }
    }
}

/// Full per-value counts of a terms aggregation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsPartial {
    /// Count per value (string form).
    pub counts: HashMap<String, u64>,
    /// Events without the field.
    pub missing: u64,
}

/// One value and how many events had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsBucket {
    pub key: String,
    pub count: u64,
}

/// The top values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsResult {
    /// Most frequent first; ties by value, so results are reproducible.
    pub buckets: Vec<TermsBucket>,
    /// Sum of the counts of the values not in `buckets`.
    pub other_count: u64,
    /// Events without the field.
    pub missing_count: u64,
}

impl TermsPartial {
    /// Counts one occurrence of `value`.
    pub fn add(&mut self, value: &str) {
        self.add_n(value, 1);
    }

    /// Counts `n` occurrences of `value` (an index reports per-term document counts).
    pub fn add_n(&mut self, value: &str, n: u64) {
        match self.counts.get_mut(value) {
            Some(c) => *c += n,
            None => {
                self.counts.insert(value.to_owned(), n);
            }
        }
    }

    /// Counts one event without the field.
    pub fn add_missing(&mut self) {
        self.missing += 1;
    }

    /// Counts `n` events without the field.
    pub fn add_missing_n(&mut self, n: u64) {
        self.missing += n;
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: TermsPartial) {
        for (k, v) in other.counts {
            *self.counts.entry(k).or_insert(0) += v;
        }
        self.missing += other.missing;
    }

    /// The `size` most frequent values.
    pub fn finish(&self, size: usize) -> TermsResult {
        let mut all: Vec<(&String, &u64)> = self.counts.iter().collect();
        all.sort_unstable_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let other_count = all.iter().skip(size).map(|(_, c)| **c).sum();
        TermsResult {
            buckets: all.into_iter().take(size).map(|(k, c)| TermsBucket { key: k.clone(), count: *c }).collect(),
            other_count,
            missing_count: self.missing,
        }
    }
}

/// Counts per bucket of a date histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramPartial {
    pub interval: Interval,
    /// Count per bucket start (epoch milliseconds, see [`Interval::bucket_start`]). In JSON a
    /// list of `[start, count]` pairs, as JSON object keys cannot be numbers.
    #[serde(with = "pairs")]
    pub buckets: BTreeMap<i64, u64>,
    /// Events without a time in the field.
    #[serde(default)]
    pub missing: u64,
}

/// One bucket of a histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramBucket {
    /// Start of the bucket, epoch milliseconds.
    pub key: i64,
    /// Start of the bucket.
    pub start: Timestamp,
    pub count: u64,
}

/// A finished histogram, buckets in time order and without gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramResult {
    pub interval: Interval,
    pub buckets: Vec<HistogramBucket>,
    pub missing_count: u64,
}

/// Gaps are filled with empty buckets only up to this many buckets in total, so a stray
/// timestamp far in the past cannot make a result of millions of zeros.
const MAX_FILLED_BUCKETS: i64 = 10_000;

impl HistogramPartial {
    /// An empty histogram.
    pub fn new(interval: Interval) -> HistogramPartial {
        HistogramPartial { interval, buckets: BTreeMap::new(), missing: 0 }
    }

    /// Counts one event at `t`.
    pub fn add(&mut self, t: Timestamp) {
        *self.buckets.entry(self.interval.bucket_start(t)).or_insert(0) += 1;
    }

    /// Counts one event without a time.
    pub fn add_missing(&mut self) {
        self.missing += 1;
    }

    /// Adds `other` into `self`; both must have the same interval.
    pub fn merge(&mut self, other: HistogramPartial) -> Result<(), MergeError> {
        if self.interval != other.interval {
            return Err(MergeError::IntervalMismatch { ours: self.interval, theirs: other.interval });
        }
        for (k, v) in other.buckets {
            *self.buckets.entry(k).or_insert(0) += v;
        }
        self.missing += other.missing;
        Ok(())
    }

    /// Buckets from the first to the last non-empty one, gaps filled with zeros.
    pub fn finish(&self) -> HistogramResult {
        let first = self.buckets.keys().next().copied();
        let last = self.buckets.keys().next_back().copied();
        match (first, last) {
            (Some(a), Some(b)) => self.fill(a, b),
            _ => self.fill(1, 0),
        }
    }

    /// Buckets covering the whole search `range` (for charts), gaps filled with zeros;
    /// counts outside the range are kept too.
    pub fn finish_within(&self, range: Range<Timestamp>) -> HistogramResult {
        let mut a = self.interval.bucket_start(range.start);
        let mut b = self
            .interval
            .bucket_start(range.end.checked_sub(jiff::SignedDuration::from_millis(1)).unwrap_or(range.end));
        if let Some(&k) = self.buckets.keys().next() {
            a = a.min(k);
        }
        if let Some(&k) = self.buckets.keys().next_back() {
            b = b.max(k);
        }
        self.fill(a, b)
    }

    fn fill(&self, first: i64, last: i64) -> HistogramResult {
        let step = self.interval.millis();
        let n = if last >= first { (last - first) / step + 1 } else { 0 };
        let buckets = if n <= MAX_FILLED_BUCKETS {
            (0..n)
                .map(|i| first + i * step)
                .map(|k| (k, self.buckets.get(&k).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
        } else {
            self.buckets.iter().map(|(&k, &c)| (k, c)).collect()
        };
        HistogramResult {
            interval: self.interval,
            buckets: buckets
                .into_iter()
                .filter_map(|(key, count)| {
                    Timestamp::from_millisecond(key).ok().map(|start| HistogramBucket { key, start, count })
                })
                .collect(),
            missing_count: self.missing,
        }
    }
}

/// `BTreeMap<i64, u64>` as a sequence of pairs.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(map: &BTreeMap<i64, u64>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<i64, u64>, D::Error> {
        let mut map = BTreeMap::new();
        for (k, v) in Vec::<(i64, u64)>::deserialize(d)? {
            *map.entry(k).or_insert(0) += v;
        }
        Ok(map)
    }
}
