//! `@timestamp` text without formatting a date per event: the date and time of day are
//! formatted once per second (per thread) and only the fraction is written each time, in the
//! form jiff gives a `Timestamp` (RFC 3339, UTC, fraction without trailing zeros). The writers
//! of busy records (access log, query log, syslog) all stamp their events with it.

use std::cell::Cell;

use jiff::Timestamp;

/// `YYYY-MM-DDTHH:MM:SS`
const PREFIX: usize = 19;

thread_local! {
    static SECOND: Cell<(i64, [u8; PREFIX])> = const { Cell::new((i64::MIN, [0; PREFIX])) };
}

/// Appends `ts` as jiff's `Display` writes it.
pub fn write_timestamp(ts: Timestamp, out: &mut Vec<u8>) {
    let (second, nanos) = (ts.as_second(), ts.subsec_nanosecond());
    // Before 1970 or after 9999 the text has another shape: let jiff write it.
    let Some(prefix) = (nanos >= 0).then(|| prefix_of(second)).flatten() else {
        use std::io::Write as _;
        let _ = write!(out, "{ts}");
        return;
    };
    out.extend_from_slice(&prefix);
    if nanos != 0 {
        let mut digits = *b".000000000";
        let mut n = nanos as u32;
        for d in digits[1..].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let end = digits.iter().rposition(|&d| d != b'0').map_or(1, |i| i + 1);
        out.extend_from_slice(&digits[..end]);
    }
    out.push(b'Z');
}

/// The date and time of day of `second`, from the cache when it is the same second.
fn prefix_of(second: i64) -> Option<[u8; PREFIX]> {
    SECOND.with(|cache| {
        let (cached, prefix) = cache.get();
        if cached == second {
            return Some(prefix);
        }
        let text = Timestamp::from_second(second).ok()?.to_string();
        let prefix: [u8; PREFIX] = text.strip_suffix('Z')?.as_bytes().try_into().ok()?;
        cache.set((second, prefix));
        Some(prefix)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_jiff_writes_them() {
        let seconds = [0, 1, 59, 86_399, 1_700_000_000, 1_795_000_000, 253_402_207_000, -1, -86_401];
        let nanos = [0, 1, 10, 100_000_000, 120_000_000, 123_456_789, 999_999_999, 500, 7_000];
        for s in seconds {
            for n in nanos {
                let ts = Timestamp::new(s, n).unwrap();
                let mut out = Vec::new();
                write_timestamp(ts, &mut out);
                assert_eq!(String::from_utf8(out).unwrap(), ts.to_string(), "{s} s {n} ns");
                // A second time from the cache.
                let mut again = Vec::new();
                write_timestamp(ts, &mut again);
                assert_eq!(String::from_utf8(again).unwrap(), ts.to_string());
            }
        }
    }
}
