//! Times in request parameters (`from`, `to`, `since`, `until`): RFC 3339, a date, or relative
//! to now, in the same forms the search language accepts on `@timestamp` so a person writes
//! them one way everywhere.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, civil};

const FORMS: &str =
    "use RFC 3339 (2026-11-21T10:00:00+09:00), a date (2026-11-21, UTC) or a relative time (now, now-24h, now-7d/d)";

/// Parses a time parameter against `now`.
pub fn parse_time(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("now") {
        return relative(rest, now).map_err(|why| format!("'{s}': {why} ({FORMS})"));
    }
    let absolute = || -> Option<Timestamp> {
        if let Ok(t) = s.parse::<Timestamp>() {
            return Some(t);
        }
        if s.len() == 10 {
            let d: civil::Date = s.parse().ok()?;
            return d.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp());
        }
        let dt: civil::DateTime = s.parse().ok()?;
        dt.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
    };
    absolute().ok_or_else(|| format!("'{s}' is not a time; {FORMS}"))
}

/// `now` followed by any number of `+N<unit>`/`-N<unit>` and an optional final `/<unit>`
/// rounding down in UTC.
fn relative(mut rest: &str, now: Timestamp) -> Result<Timestamp, String> {
    let mut t = now;
    while !rest.is_empty() {
        let (op, tail) = rest.split_at(1);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        match op {
            "/" => {
                let unit = unit_seconds(tail)?;
                let secs = t.as_second().div_euclid(unit) * unit;
                return Timestamp::from_second(secs).map_err(|e| e.to_string());
            }
            "+" | "-" if digits > 0 => {
                let n: i64 = tail[..digits].parse().map_err(|_| "the number is too large".to_string())?;
                let unit_end = digits + tail[digits..].chars().next().map_or(0, char::len_utf8);
                let unit = unit_seconds(&tail[digits..unit_end])?;
                let secs = n.checked_mul(unit).ok_or_else(|| "the offset is too large".to_string())?;
                let d = SignedDuration::from_secs(if op == "-" { -secs } else { secs });
                t = t.checked_add(d).map_err(|_| "the time is out of range".to_string())?;
                rest = &tail[unit_end..];
            }
            _ => return Err(format!("unexpected '{rest}' after now")),
        }
    }
    Ok(t)
}

fn unit_seconds(unit: &str) -> Result<i64, String> {
    Ok(match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        other => return Err(format!("unknown unit '{other}' (use s, m, h, d or w)")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-21T12:34:56Z".parse().unwrap()
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn relative_times() {
        assert_eq!(parse_time("now", now()).unwrap(), now());
        assert_eq!(parse_time("now-24h", now()).unwrap(), t("2026-11-20T12:34:56Z"));
        assert_eq!(parse_time("now-1d-12h", now()).unwrap(), t("2026-11-20T00:34:56Z"));
        assert_eq!(parse_time("now+15m", now()).unwrap(), t("2026-11-21T12:49:56Z"));
        assert_eq!(parse_time("now/d", now()).unwrap(), t("2026-11-21T00:00:00Z"));
        assert_eq!(parse_time("now-7d/d", now()).unwrap(), t("2026-11-14T00:00:00Z"));
    }

    #[test]
    fn absolute_times() {
        assert_eq!(parse_time("2026-11-21T10:00:00+09:00", now()).unwrap(), t("2026-11-21T01:00:00Z"));
        assert_eq!(parse_time("2026-11-21", now()).unwrap(), t("2026-11-21T00:00:00Z"));
        assert_eq!(parse_time("2026-11-21T10:00:00", now()).unwrap(), t("2026-11-21T10:00:00Z"));
    }

    #[test]
    fn errors_explain_the_forms() {
        for bad in ["yesterday", "now-", "now-5x", "now*2", "now-99999999999999999999d", "now-5日"] {
            let e = parse_time(bad, now()).unwrap_err();
            assert!(e.contains("RFC 3339"), "{bad}: {e}");
        }
    }
}
