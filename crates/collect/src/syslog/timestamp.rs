//! Timestamps as devices write them: RFC 3339 (RFC 5424 and rsyslog's high-precision format),
//! ISO 8601 without an offset, and the BSD `Mmm dd hh:mm:ss` of RFC 3164 with its variants
//! (year before or after the time, fractions, Cisco's `*`/`.` clock marks and zone names).
//!
//! A timestamp without a year gets the year that puts it closest to the reference time (when
//! the line was received), so `Dec 31 23:59:59` received just after New Year lands in the old
//! year and a clock slightly ahead on New Year's Eve lands in the new one. A timestamp without an
//! offset is read in the configured zone.

use std::cell::Cell;

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// A timestamp, or why the text that looked like one is not one.
pub type Found = Result<Timestamp, String>;

/// The last whole second resolved, for the lines after it: a sender's lines mostly share their
/// second, and applying a zone (and for a BSD timestamp, trying three years) costs far more
/// than reading the fields. Valid for one zone and reference time, so it lives with them in
/// the receiver's parse context (a zone changed in place would need a new cache); the
/// reference is part of the key.
#[derive(Debug, Default)]
pub struct ResolveCache(Cell<Option<(Fields, Option<Timestamp>, Timestamp)>>);

/// A copy starts empty: it may be given another zone or reference.
impl Clone for ResolveCache {
    fn clone(&self) -> Self {
        ResolveCache::default()
    }
}

/// Date and time fields as written, before a zone is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fields {
    year: Option<i16>,
    month: i8,
    day: i8,
    hour: i8,
    minute: i8,
    second: i8,
    nanos: i32,
    offset: Option<i32>,
}

/// Reads an ISO 8601 / RFC 3339 timestamp at the start of `s`: `yyyy-mm-dd`, `T` or a space,
/// `hh:mm:ss`, optional fraction, optional `Z`/`±hh:mm`/`±hhmm`/`±hh`. Returns the result and
/// the number of bytes it spans, or `None` when `s` does not start with one.
pub fn scan_iso(s: &str, tz: &TimeZone) -> Option<(Found, usize)> {
    scan_iso_cached(s, tz, &ResolveCache::default())
}

/// [`scan_iso`] with the resolution of the previous line's second reused.
pub fn scan_iso_cached(s: &str, tz: &TimeZone, cache: &ResolveCache) -> Option<(Found, usize)> {
    let b = s.as_bytes();
    let mut c = Cursor { b, i: 0 };
    let year = c.digits(4, 4)?;
    c.expect(b'-')?;
    let month = c.digits(2, 2)?;
    c.expect(b'-')?;
    let day = c.digits(2, 2)?;
    match c.peek() {
        Some(b'T' | b't' | b' ') => c.i += 1,
        _ => return None,
    }
    let (hour, minute, second) = c.clock()?;
    let nanos = c.fraction();
    let offset = match c.peek() {
        Some(b'Z' | b'z') => {
            c.i += 1;
            Some(0)
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let hh = c.digits(2, 2)?;
            let mm = if c.peek() == Some(b':') {
                c.i += 1;
                c.digits(2, 2)?
            } else {
                c.digits(2, 2).unwrap_or(0)
            };
            let seconds = i32::try_from(hh * 3600 + mm * 60).ok()?;
            Some(if sign == b'-' { -seconds } else { seconds })
        }
        _ => None,
    };
    let fields = Fields {
        year: Some(i16::try_from(year).ok()?),
        month: small(month)?,
        day: small(day)?,
        hour,
        minute,
        second,
        nanos,
        offset,
    };
    Some((resolve_cached(fields, tz, None, cache), c.i))
}

/// Reads a BSD timestamp at the start of `s` (after an optional Cisco `*` or `.`). Returns the
/// result and the bytes it spans, or `None` when `s` does not start with one.
pub fn scan_bsd(s: &str, tz: &TimeZone, reference: Timestamp) -> Option<(Found, usize)> {
    scan_bsd_cached(s, tz, reference, &ResolveCache::default())
}

/// [`scan_bsd`] with the resolution of the previous line's second reused (`cache` belongs to
/// this `tz` and `reference`).
pub fn scan_bsd_cached(s: &str, tz: &TimeZone, reference: Timestamp, cache: &ResolveCache) -> Option<(Found, usize)> {
    let b = s.as_bytes();
    let mut c = Cursor { b, i: 0 };
    if matches!(c.peek(), Some(b'*' | b'.')) {
        c.i += 1;
    }
    let month = month_number(b.get(c.i..c.i + 3)?)?;
    c.i += 3;
    c.spaces()?;
    let day = c.digits(1, 2)?;
    c.spaces()?;
    let mut year = None;
    if let Some(y) = c.year_then(b' ') {
        year = Some(y);
        c.spaces()?;
    }
    let (hour, minute, second) = c.clock()?;
    let nanos = c.fraction();
    if year.is_none() {
        let save = c.i;
        if c.peek() == Some(b' ') {
            c.i += 1;
            match c.year_then_end() {
                Some(y) => year = Some(y),
                None => c.i = save,
            }
        }
    }
    let mut offset = None;
    let save = c.i;
    if c.peek() == Some(b' ') {
        c.i += 1;
        match c.zone_name() {
            Some(z) => offset = z,
            None => c.i = save,
        }
    }
    if !matches!(c.peek(), None | Some(b' ' | b':')) {
        return None;
    }
    let fields = Fields { year, month, day: small(day)?, hour, minute, second, nanos, offset };
    Some((resolve_cached(fields, tz, Some(reference), cache), c.i))
}

fn small(v: u32) -> Option<i8> {
    i8::try_from(v).ok()
}

fn month_number(name: &[u8]) -> Option<i8> {
    const MONTHS: [&[u8; 3]; 12] =
        [b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"];
    let lower = name.to_ascii_lowercase();
    let index = MONTHS.iter().position(|m| m[..] == lower[..])?;
    i8::try_from(index + 1).ok()
}

/// [`resolve`] through the cache: the whole second is resolved (or found in the cache) and the
/// fraction added, which no zone rule can change (transitions fall on whole seconds).
fn resolve_cached(f: Fields, tz: &TimeZone, reference: Option<Timestamp>, cache: &ResolveCache) -> Found {
    if f.second == 60 {
        return resolve(f, tz, reference); // a leap second is not a whole second plus a fraction
    }
    let whole = Fields { nanos: 0, ..f };
    let second = match cache.0.get() {
        Some((cached, at, ts)) if cached == whole && at == reference => ts,
        _ => {
            let ts = resolve(whole, tz, reference)?;
            cache.0.set(Some((whole, reference, ts)));
            ts
        }
    };
    second.checked_add(SignedDuration::from_nanos(i64::from(f.nanos))).map_err(|e| format!("invalid time: {e}"))
}

/// Applies the offset or zone, inferring the year when absent.
fn resolve(f: Fields, tz: &TimeZone, reference: Option<Timestamp>) -> Found {
    // A leap second cannot be represented; it becomes the last instant of the minute before.
    let (second, nanos) = if f.second == 60 { (59, 999_999_999) } else { (f.second, f.nanos) };
    let build = |year: i16| -> Result<Timestamp, String> {
        let dt = DateTime::new(year, f.month, f.day, f.hour, f.minute, second, nanos)
            .map_err(|e| format!("invalid date or time: {e}"))?;
        match f.offset {
            Some(seconds) => Offset::from_seconds(seconds)
                .and_then(|o| o.to_timestamp(dt))
                .map_err(|e| format!("invalid offset: {e}")),
            None => tz.to_ambiguous_timestamp(dt).compatible().map_err(|e| format!("invalid local time: {e}")),
        }
    };
    if let Some(year) = f.year {
        return build(year);
    }
    let reference = reference.unwrap_or_else(Timestamp::now);
    let this_year = tz.to_datetime(reference).year();
    let mut best: Option<(i64, Timestamp)> = None;
    let mut last_error = String::from("no year could be inferred");
    for year in [this_year.checked_sub(1), Some(this_year), this_year.checked_add(1)].into_iter().flatten() {
        match build(year) {
            Ok(ts) => {
                let distance = (ts.as_second() - reference.as_second()).abs();
                if best.is_none_or(|(d, _)| distance < d) {
                    best = Some((distance, ts));
                }
            }
            Err(e) => last_error = e,
        }
    }
    best.map(|(_, ts)| ts).ok_or(last_error)
}

/// A byte cursor for the fixed-shape fields above; every read checks bounds.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.i += 1)
    }

    /// Between `min` and `max` ASCII digits as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let rest = self.b.get(self.i..)?;
        let n = rest.iter().take(max).take_while(|b| b.is_ascii_digit()).count();
        if n < min {
            return None;
        }
        let value = rest[..n].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        self.i += n;
        Some(value)
    }

    /// One or more spaces (BSD pads single-digit days with a space).
    fn spaces(&mut self) -> Option<()> {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        (self.i > start).then_some(())
    }

    /// `h:mm:ss` or `hh:mm:ss`.
    fn clock(&mut self) -> Option<(i8, i8, i8)> {
        let hour = self.digits(1, 2)?;
        self.expect(b':')?;
        let minute = self.digits(2, 2)?;
        self.expect(b':')?;
        let second = self.digits(2, 2)?;
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        Some((small(hour)?, small(minute)?, small(second)?))
    }

    /// `.digits` or `,digits` as nanoseconds; digits past the ninth are skipped.
    fn fraction(&mut self) -> i32 {
        if !matches!(self.peek(), Some(b'.' | b',')) {
            return 0;
        }
        let start = self.i + 1;
        let n = self.b.get(start..).map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
        if n == 0 {
            return 0;
        }
        self.i = start + n;
        let mut nanos: i32 = 0;
        for k in 0..9 {
            let d = self.b.get(start + k).filter(|_| k < n).map_or(0, |d| d - b'0');
            nanos = nanos * 10 + i32::from(d);
        }
        nanos
    }

    /// A four-digit year 1970-2099 followed by `next`.
    fn year_then(&mut self, next: u8) -> Option<i16> {
        let save = self.i;
        let year = self.digits(4, 4).filter(|y| (1970..2100).contains(y));
        match year {
            Some(y) if self.peek() == Some(next) => i16::try_from(y).ok(),
            _ => {
                self.i = save;
                None
            }
        }
    }

    /// A four-digit year followed by a space, a colon or the end.
    fn year_then_end(&mut self) -> Option<i16> {
        let save = self.i;
        let year = self.digits(4, 4).filter(|y| (1970..2100).contains(y));
        match year {
            Some(y) if matches!(self.peek(), None | Some(b' ' | b':')) => i16::try_from(y).ok(),
            _ => {
                self.i = save;
                None
            }
        }
    }

    /// A zone abbreviation directly followed by `:` (Cisco's `show-timezone`): the offset when
    /// known, `Some(None)` when the name is unknown and the configured zone applies.
    fn zone_name(&mut self) -> Option<Option<i32>> {
        let rest = self.b.get(self.i..)?;
        let n = rest.iter().take_while(|b| b.is_ascii_uppercase()).count();
        if !(2..=5).contains(&n) || rest.get(n) != Some(&b':') {
            return None;
        }
        self.i += n;
        Some(match &rest[..n] {
            b"UTC" | b"GMT" | b"UT" => Some(0),
            b"JST" | b"KST" => Some(9 * 3600),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo() -> TimeZone {
        TimeZone::get("Asia/Tokyo").unwrap_or_else(|_| TimeZone::fixed(Offset::constant(9)))
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn bsd(s: &str, reference: &str) -> (Found, usize) {
        scan_bsd(s, &tokyo(), ts(reference)).unwrap()
    }

    #[test]
    fn rfc3339_variants() {
        let tz = tokyo();
        let cases = [
            ("2003-10-11T22:14:15.003Z", "2003-10-11T22:14:15.003Z"),
            ("1985-04-12T23:20:50.52Z", "1985-04-12T23:20:50.52Z"),
            ("1985-04-12T19:20:50.52-04:00", "1985-04-12T23:20:50.52Z"),
            ("2003-08-24T05:14:15.000003-07:00", "2003-08-24T12:14:15.000003Z"),
            ("2024-01-15T10:00:00+0900", "2024-01-15T01:00:00Z"),
            ("2024-01-15T10:00:00+09", "2024-01-15T01:00:00Z"),
            ("2024-01-15 10:00:00", "2024-01-15T01:00:00Z"),
            ("2024-01-15t10:00:00z", "2024-01-15T10:00:00Z"),
            ("2024-01-15T10:00:00,5Z", "2024-01-15T10:00:00.5Z"),
            ("2024-01-15T10:00:00.1234567891Z", "2024-01-15T10:00:00.123456789Z"),
        ];
        for (input, want) in cases {
            let (found, used) = scan_iso(input, &tz).unwrap();
            assert_eq!(found.unwrap(), ts(want), "{input}");
            assert_eq!(used, input.len(), "{input}");
        }
    }

    #[test]
    fn invalid_iso_dates_are_reported_not_panicking() {
        let tz = tokyo();
        let (found, _) = scan_iso("2003-02-30T00:00:00Z", &tz).unwrap();
        assert!(found.unwrap_err().contains("invalid date"));
        assert!(scan_iso("2003-10-11", &tz).is_none());
        assert!(scan_iso("2003-10-11T25:00:00Z", &tz).is_none());
        assert!(scan_iso("20031011", &tz).is_none());
        assert!(scan_iso("", &tz).is_none());
    }

    #[test]
    fn bsd_with_year_inference_in_tokyo() {
        let (found, used) = bsd("Oct 11 22:14:15 mymachine", "2003-10-11T13:20:00Z");
        assert_eq!(found.unwrap(), ts("2003-10-11T13:14:15Z"));
        assert_eq!(used, 15);
        let (found, _) = bsd("Feb  5 01:02:03 host", "2024-02-05T00:00:00Z");
        assert_eq!(found.unwrap(), ts("2024-02-04T16:02:03Z"));
    }

    #[test]
    fn new_year_both_ways() {
        // Sent just before midnight JST on New Year's Eve, received just after.
        let (found, _) = bsd("Dec 31 23:59:59 h", "2024-12-31T15:00:05Z");
        assert_eq!(found.unwrap(), ts("2024-12-31T14:59:59Z"));
        // A sender whose clock is a little ahead, received before midnight JST.
        let (found, _) = bsd("Jan  1 00:00:01 h", "2024-12-31T14:59:58Z");
        assert_eq!(found.unwrap(), ts("2024-12-31T15:00:01Z"));
        // Midnight JST is still 2024 in UTC: the zone, not UTC, decides the year.
        let (found, _) = bsd("Jan  1 08:00:00 h", "2024-12-31T23:30:00Z");
        assert_eq!(found.unwrap(), ts("2024-12-31T23:00:00Z"));
    }

    #[test]
    fn leap_day_without_year_picks_a_leap_year() {
        let (found, _) = bsd("Feb 29 12:00:00 h", "2025-01-10T00:00:00Z");
        assert_eq!(found.unwrap(), ts("2024-02-29T03:00:00Z"));
    }

    #[test]
    fn bsd_variants() {
        let reference = "2024-03-01T00:00:00Z";
        let (found, used) = bsd("Mar 01 2024 10:00:00: %ASA", reference);
        assert_eq!(found.unwrap(), ts("2024-03-01T01:00:00Z"));
        assert_eq!(used, 20);
        let (found, used) = bsd("*Mar  1 18:46:11.123 UTC: %SYS", reference);
        assert_eq!(found.unwrap(), ts("2024-03-01T18:46:11.123Z"));
        assert_eq!(used, 24);
        let (found, _) = bsd(".Mar  1 10:46:11.5 JST: x", reference);
        assert_eq!(found.unwrap(), ts("2024-03-01T01:46:11.5Z"));
        let (found, used) = bsd("Mar  1 10:00:00 2023 host", reference);
        assert_eq!(found.unwrap(), ts("2023-03-01T01:00:00Z"));
        assert_eq!(used, 20);
        let (found, _) = bsd("mar  1 10:00:00 host", reference);
        assert!(found.is_ok());
        let (_, used) = bsd("Mar  1 10:00:00 ABC host", reference);
        assert_eq!(used, 15);
    }

    #[test]
    fn not_bsd() {
        let tz = tokyo();
        let r = ts("2024-03-01T00:00:00Z");
        for s in ["Mar", "Mar 1", "Mar 1 10:00", "Foo  1 10:00:00", "Mar  1 10:00:00x", ""] {
            assert!(scan_bsd(s, &tz, r).is_none(), "{s}");
        }
        let (found, _) = scan_bsd("Feb 31 10:00:00", &tz, r).unwrap();
        assert!(found.is_err());
    }

    #[test]
    fn a_cache_shared_by_lines_gives_what_each_line_gives_alone() {
        // One cache for a run of lines, as a receiver's parse context has: repeated seconds,
        // fractions of one second, a leap second, invalid dates, zones and ISO lines between.
        let tz = tokyo();
        let r = ts("2024-12-31T23:59:00Z");
        let cache = ResolveCache::default();
        let lines = [
            "Dec 31 23:59:59 a",
            "Dec 31 23:59:59 b",
            "Dec 31 23:59:59.25 c",
            "Dec 31 23:59:59.75 d",
            "Jan  1 08:59:59 e",
            "Jun 30 23:59:60 f",
            "Feb 31 10:00:00 g",
            "Feb 31 10:00:00 h",
            "Dec 31 23:59:59 UTC i",
            "Dec 31 23:59:59 2023 j",
            "Dec 31 23:59:59.5 k",
        ];
        for s in lines {
            let alone = scan_bsd(s, &tz, r).unwrap();
            assert_eq!(scan_bsd_cached(s, &tz, r, &cache).unwrap(), alone, "{s}");
        }
        for s in ["2024-12-31T23:59:59", "2024-12-31T23:59:59.5", "2024-12-31T23:59:59+02:00", "2024-02-30T00:00:00"] {
            let alone = scan_iso(s, &tz).unwrap();
            assert_eq!(scan_iso_cached(s, &tz, &cache).unwrap(), alone, "{s}");
        }
    }
}
