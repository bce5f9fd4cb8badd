//! Fixed date-histogram intervals (`1m`, `5m`, `1h`, `1d`, `1w`, ...) and choosing one for a
//! time range. Fixed lengths, not calendar units, so that buckets from different partitions and
//! archive files line up and merge exactly.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A fixed bucket length, in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Interval {
    seconds: u64,
}

/// An interval string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("'{0}' is not a valid interval (write a positive whole number and a unit s, m, h, d or w, e.g. 5m or 1h)")]
pub struct IntervalError(pub String);

const UNITS: [(char, u64); 5] = [('w', 604_800), ('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

/// The longest interval accepted: 10 years, far beyond the 5-year retention.
const MAX_SECONDS: u64 = 10 * 366 * 86_400;

impl Interval {
    /// An interval of `seconds` (at least 1, at most about 10 years).
    pub fn from_seconds(seconds: u64) -> Option<Interval> {
        (1..=MAX_SECONDS).contains(&seconds).then_some(Interval { seconds })
    }

    /// Length in seconds.
    pub fn seconds(self) -> u64 {
        self.seconds
    }

    /// Length in milliseconds.
    pub fn millis(self) -> i64 {
        self.seconds as i64 * 1000
    }

    /// The start (epoch milliseconds) of the bucket holding `t`. Buckets are aligned to the Unix
    /// epoch in UTC (days start at 00:00Z); whole-week intervals start on Monday 00:00Z.
    pub fn bucket_start(self, t: Timestamp) -> i64 {
        let ms = t.as_millisecond();
        let offset = self.alignment_offset();
        (ms - offset).div_euclid(self.millis()) * self.millis() + offset
    }

    fn alignment_offset(self) -> i64 {
        // 1970-01-01 was a Thursday; Monday 1970-01-05 is four days later.
        if self.seconds.is_multiple_of(604_800) { 4 * 86_400_000 } else { 0 }
    }
}

impl FromStr for Interval {
    type Err = IntervalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IntervalError(s.to_owned());
        let t = s.trim();
        let unit = t.chars().last().ok_or_else(bad)?;
        let (_, mult) = UNITS.iter().find(|(u, _)| *u == unit).ok_or_else(bad)?;
        let digits = &t[..t.len() - unit.len_utf8()];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        n.checked_mul(*mult).and_then(Interval::from_seconds).ok_or_else(bad)
    }
}

impl TryFrom<String> for Interval {
    type Error = IntervalError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Interval> for String {
    fn from(i: Interval) -> String {
        i.to_string()
    }
}

impl fmt::Display for Interval {
    /// The largest unit that divides the length: `3600s` prints as `1h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, mult) = UNITS.iter().find(|(_, m)| self.seconds.is_multiple_of(*m)).copied().unwrap_or(('s', 1));
        write!(f, "{}{unit}", self.seconds / mult)
    }
}

/// The nice intervals `auto_interval` chooses from.
const LADDER: [u64; 16] =
    [1, 5, 10, 30, 60, 300, 600, 900, 1_800, 3_600, 10_800, 21_600, 43_200, 86_400, 604_800, 2_592_000];

/// The smallest "nice" interval (1s 5s 10s 30s 1m 5m 10m 15m 30m 1h 3h 6h 12h 1d 1w 30d) that
/// divides `range` into at most `target_buckets` buckets; beyond 30-day buckets, whole days.
pub fn auto_interval(range: Range<Timestamp>, target_buckets: u32) -> Interval {
    let span_ms = (range.end.as_millisecond() - range.start.as_millisecond()).max(0) as u64;
    let target = u64::from(target_buckets.max(1));
    let span = span_ms.div_ceil(1000);
    let seconds = LADDER
        .iter()
        .copied()
        .find(|&step| span.div_ceil(step) <= target)
        .unwrap_or_else(|| span.div_ceil(target).div_ceil(86_400) * 86_400);
    Interval::from_seconds(seconds.clamp(1, MAX_SECONDS)).unwrap_or(Interval { seconds: 86_400 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        for (s, secs, shown) in [
            ("1m", 60, "1m"),
            ("5m", 300, "5m"),
            ("90s", 90, "90s"),
            ("60m", 3600, "1h"),
            ("7d", 604_800, "1w"),
            ("1d", 86_400, "1d"),
        ] {
            let i: Interval = s.parse().unwrap();
            assert_eq!(i.seconds(), secs);
            assert_eq!(i.to_string(), shown);
        }
        for s in ["", "m", "0m", "-1m", "1x", "1.5h", "99999999999999999999d", "5000w", "１m", "1 m"] {
            assert!(s.parse::<Interval>().is_err(), "{s}");
        }
        assert_eq!(serde_json::to_string(&"15m".parse::<Interval>().unwrap()).unwrap(), "\"15m\"");
        assert!(serde_json::from_str::<Interval>("\"0s\"").is_err());
    }

    #[test]
    fn alignment() {
        let t: Timestamp = "2026-11-21T10:34:56Z".parse().unwrap();
        let start =
            |i: &str| Timestamp::from_millisecond(i.parse::<Interval>().unwrap().bucket_start(t)).unwrap().to_string();
        assert_eq!(start("5m"), "2026-11-21T10:30:00Z");
        assert_eq!(start("1h"), "2026-11-21T10:00:00Z");
        assert_eq!(start("1d"), "2026-11-21T00:00:00Z");
        assert_eq!(start("1w"), "2026-11-16T00:00:00Z"); // a Monday
        let before: Timestamp = "1969-12-31T23:59:59Z".parse().unwrap();
        assert_eq!("1d".parse::<Interval>().unwrap().bucket_start(before), -86_400_000);
    }

    #[test]
    fn auto() {
        let t0: Timestamp = "2026-11-21T00:00:00Z".parse().unwrap();
        let after = |secs: i64| t0 + jiff::SignedDuration::from_secs(secs);
        assert_eq!(auto_interval(t0..after(3600), 60).to_string(), "1m");
        assert_eq!(auto_interval(t0..after(3600), 100).to_string(), "1m");
        assert_eq!(auto_interval(t0..after(86_400), 100).to_string(), "15m");
        assert_eq!(auto_interval(t0..after(7 * 86_400), 100).to_string(), "3h");
        assert_eq!(auto_interval(t0..after(5 * 365 * 86_400), 100).to_string(), "30d");
        assert_eq!(auto_interval(t0..after(5 * 365 * 86_400), 10).to_string(), "183d");
        assert_eq!(auto_interval(t0..t0, 0).to_string(), "1s");
        assert_eq!(auto_interval(after(10)..t0, 10).to_string(), "1s");
    }
}
