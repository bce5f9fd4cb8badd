//! Times in request parameters (`from`, `to`, `since`, `until`): RFC 3339, a date, or relative
//! to now, in the same forms the search language accepts on `@timestamp` so a person writes
//! them one way everywhere.

use jiff::Timestamp;

const FORMS: &str =
    "use RFC 3339 (2026-11-21T10:00:00+09:00), a date (2026-11-21, UTC) or a relative time (now, now-24h, now-7d/d)";

/// Parses a time parameter against `now`, in the search language's forms.
pub fn parse_time(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    mamori_query::time::parse_time(s, now).map_err(|why| format!("{why}; {FORMS}"))
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
