//! Times in queries and in events.
//!
//! Query forms accepted on time fields (all resolved to a [`jiff::Timestamp`] by the parser,
//! against the `now` it is given, so a parsed [`crate::Query`] is absolute and its `Display`
//! re-parses to the same query whenever it is run):
//!
//! - `2026-11-21`: a date alone is the start of that day in UTC. As a plain value
//!   (`@timestamp:2026-11-21`) it means the whole day, `[2026-11-21 TO 2026-11-22}`.
//! - `2026-11-21T10:00:00Z`, `2026-11-21T10:00:00.250+09:00`, `2026-11-21T10:00Z`: RFC 3339 /
//!   ISO 8601 with an offset. Without an offset (`2026-11-21T10:00:00`) the time is UTC.
//! - `now`, `now-15m`, `now+1h`, `now-7d`, `now-1d-12h`: now, moved by whole units `s` `m` `h`
//!   `d` `w` (a day is 24 hours).
//! - `now/d`, `now-1d/d`, `now/h`: rounded down to the start of the UTC second, minute, hour or
//!   day (`/s` `/m` `/h` `/d`).
//!
//! Event values: RFC 3339 strings (and the offset-less and date-only forms above, as UTC), or
//! numbers, read as milliseconds since the Unix epoch.

use jiff::{SignedDuration, Timestamp, civil, tz::TimeZone};
use serde_json::Value;

/// A time written in a query, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryTime {
    /// A date without a time: the start of that UTC day.
    Day(Timestamp),
    /// Any other form: one instant.
    Instant(Timestamp),
}

impl QueryTime {
    pub(crate) fn timestamp(self) -> Timestamp {
        match self {
            QueryTime::Day(t) | QueryTime::Instant(t) => t,
        }
    }
}

/// Why a query time was rejected, completed by the parser with the field name and position.
const FORMS: &str = "use 2026-11-21, 2026-11-21T10:00:00Z, 2026-11-21T10:00:00+09:00 or now-1h";

/// Parses a time written in a query.
pub(crate) fn parse_query_time(s: &str, now: Timestamp) -> Result<QueryTime, String> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("now") {
        return parse_relative(rest, now).map(QueryTime::Instant);
    }
    if is_date_only(s) {
        let date: civil::Date = s.parse().map_err(|_| format!("'{s}' is not a valid date ({FORMS})"))?;
        return utc(date.to_datetime(civil::Time::midnight()))
            .map(QueryTime::Day)
            .ok_or_else(|| format!("'{s}' is out of range"));
    }
    parse_absolute(s).map(QueryTime::Instant).ok_or_else(|| format!("'{s}' is not a valid time ({FORMS})"))
}

/// Parses a time as people write it in a query, a request parameter or a CLI option
/// (`2026-11-21`, `2026-11-21T10:00:00+09:00`, `now-24h`, `now-7d/d`) into an instant; a date
/// alone is the start of that day in UTC.
pub fn parse_time(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    parse_query_time(s, now).map(QueryTime::timestamp)
}

/// `YYYY-MM-DD` exactly.
fn is_date_only(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// An absolute time with or without offset (without = UTC).
fn parse_absolute(s: &str) -> Option<Timestamp> {
    // jiff's parsers are total (they return errors, never panic) but accept some shapes that
    // are not times at all, such as bare digits; insist on a date first.
    if s.len() < 10 || !s.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    s.parse::<civil::DateTime>().ok().and_then(utc)
}

fn utc(dt: civil::DateTime) -> Option<Timestamp> {
    dt.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// The part after `now`: `(+|-)N unit` steps, then an optional `/unit` rounding.
fn parse_relative(rest: &str, now: Timestamp) -> Result<Timestamp, String> {
    let bad = || format!("'now{rest}' is not a valid relative time (use now, now-15m, now-1h, now-7d or now/d)");
    let (steps, round) = match rest.split_once('/') {
        Some((steps, unit)) => (steps, Some(unit)),
        None => (rest, None),
    };
    let mut t = now;
    let mut chars = steps.char_indices().peekable();
    while let Some((_, sign)) = chars.next() {
        let negative = match sign {
            '-' => true,
            '+' => false,
            _ => return Err(bad()),
        };
        let mut n: i64 = 0;
        let mut digits = 0;
        while let Some(&(_, d)) = chars.peek() {
            let Some(v) = d.to_digit(10) else { break };
            n = n.checked_mul(10).and_then(|n| n.checked_add(i64::from(v))).ok_or_else(bad)?;
            digits += 1;
            chars.next();
        }
        let Some((_, unit)) = chars.next() else {
            return Err(bad());
        };
        let secs = unit_seconds(unit).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let delta = n.checked_mul(secs).ok_or_else(bad)?;
        let delta = SignedDuration::from_secs(if negative { -delta } else { delta });
        t = t.checked_add(delta).map_err(|_| format!("'now{rest}' is out of range"))?;
    }
    if let Some(unit) = round {
        let mut u = unit.chars();
        let secs = match (u.next(), u.next()) {
            (Some(c), None) if c != 'w' => unit_seconds(c).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        let rounded = t.as_second().div_euclid(secs) * secs;
        t = Timestamp::from_second(rounded).map_err(|_| format!("'now{rest}' is out of range"))?;
    }
    Ok(t)
}

fn unit_seconds(unit: char) -> Option<i64> {
    Some(match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    })
}

/// The instant of an event value, if it holds one (see the module documentation).
pub fn event_time(value: &Value) -> Option<Timestamp> {
    match value {
        Value::String(s) => time_from_str(s),
        Value::Number(n) => match n.as_i64() {
            Some(ms) => time_from_millis(ms),
            None => time_from_millis_f64(n.as_f64()?),
        },
        _ => None,
    }
}

/// The instant a string value of an event holds (RFC 3339, or a date meaning its start in UTC).
pub fn time_from_str(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if is_date_only(s) {
        let date: civil::Date = s.parse().ok()?;
        utc(date.to_datetime(civil::Time::midnight()))
    } else {
        parse_absolute(s)
    }
}

/// The instant of an integer value: milliseconds since the epoch.
pub fn time_from_millis(ms: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(ms).ok()
}

/// The instant of a fractional value: milliseconds since the epoch.
pub fn time_from_millis_f64(ms: f64) -> Option<Timestamp> {
    if !ms.is_finite() || ms.abs() > 1e15 {
        return None;
    }
    Timestamp::from_nanosecond((ms * 1e6).round() as i128).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-21T10:34:56Z".parse().unwrap()
    }

    fn t(s: &str) -> Timestamp {
        parse_query_time(s, now()).unwrap().timestamp()
    }

    #[test]
    fn absolute_and_relative() {
        assert_eq!(t("2026-11-21").to_string(), "2026-11-21T00:00:00Z");
        assert!(matches!(parse_query_time("2026-11-21", now()), Ok(QueryTime::Day(_))));
        assert_eq!(t("2026-11-21T19:00:00+09:00").to_string(), "2026-11-21T10:00:00Z");
        assert_eq!(t("2026-11-21T10:00:00").to_string(), "2026-11-21T10:00:00Z");
        assert_eq!(t("now").to_string(), "2026-11-21T10:34:56Z");
        assert_eq!(t("now-15m").to_string(), "2026-11-21T10:19:56Z");
        assert_eq!(t("now-1h").to_string(), "2026-11-21T09:34:56Z");
        assert_eq!(t("now-7d").to_string(), "2026-11-14T10:34:56Z");
        assert_eq!(t("now+1w").to_string(), "2026-11-28T10:34:56Z");
        assert_eq!(t("now/d").to_string(), "2026-11-21T00:00:00Z");
        assert_eq!(t("now-1d/d").to_string(), "2026-11-20T00:00:00Z");
        assert_eq!(t("now-1d-12h").to_string(), "2026-11-19T22:34:56Z");
        for bad in [
            "now-",
            "now-h",
            "now-1x",
            "now/w",
            "now/",
            "now1h",
            "2026-13-01",
            "2026",
            "yesterday",
            "now-99999999999999999999d",
            "now-9999999999999d",
            "",
        ] {
            assert!(parse_query_time(bad, now()).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_values() {
        let v = |j: serde_json::Value| event_time(&j).map(|t| t.to_string());
        assert_eq!(v("2026-11-21T10:00:00.5Z".into()).unwrap(), "2026-11-21T10:00:00.5Z");
        assert_eq!(v(1_700_000_000_000i64.into()).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(v(1.5f64.into()).unwrap(), "1970-01-01T00:00:00.0015Z");
        assert_eq!(v("2026-11-21".into()).unwrap(), "2026-11-21T00:00:00Z");
        assert!(v("garbage".into()).is_none());
        assert!(v(true.into()).is_none());
    }
}
