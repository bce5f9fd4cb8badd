//! Time ranges of the pages (`last=1h` or `from`/`to`) and how times are shown.

use jiff::{SignedDuration, Timestamp};

/// The choices of the time range picker.
pub const RANGES: &[&str] = &["15m", "1h", "6h", "24h", "7d", "30d", "90d"];

/// A time range chosen on a page.
pub struct Range {
    pub from: Timestamp,
    pub to: Timestamp,
    /// The `last` choice, when the range is relative.
    pub last: Option<String>,
}

/// `from`/`to` when given (absolute or relative as the API accepts them), else `last`
/// (default `default_last`).
pub fn range(last: Option<&str>, from: Option<&str>, to: Option<&str>, default_last: &str) -> Result<Range, String> {
    let now = Timestamp::now();
    let from = from.map(str::trim).filter(|s| !s.is_empty());
    let to = to.map(str::trim).filter(|s| !s.is_empty());
    if from.is_some() || to.is_some() {
        let to_t = match to {
            Some(s) => mamori_api::time::parse_time(s, now).map_err(|e| format!("to: {e}"))?,
            None => now,
        };
        let from_t = match from {
            Some(s) => mamori_api::time::parse_time(s, now).map_err(|e| format!("from: {e}"))?,
            None => to_t.checked_sub(SignedDuration::from_hours(24)).unwrap_or(Timestamp::MIN),
        };
        if from_t >= to_t {
            return Err(format!("from {from_t} is not before to {to_t}"));
        }
        return Ok(Range { from: from_t, to: to_t, last: None });
    }
    let last = last.filter(|l| RANGES.contains(l)).unwrap_or(default_last);
    let t = mamori_api::time::parse_time(&format!("now-{last}"), now).map_err(|e| e.to_string())?;
    Ok(Range { from: t, to: now, last: Some(last.to_owned()) })
}

/// A time as operators in Japan read it (JST), to the second.
pub fn show(t: Timestamp) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(tz).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// Hours and minutes only, for chart axes.
pub fn show_short(t: Timestamp) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(tz).strftime("%m-%d %H:%M").to_string()
}
