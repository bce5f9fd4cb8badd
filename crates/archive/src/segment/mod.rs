//! Segment files: the blocks of one tenant and one day, with a footer that indexes them.
//!
//! A segment is written once, through a temporary name, fsynced and renamed into place, so a
//! file with the final name is always complete. The footer records each block's offset,
//! length, event count, time range and CRC32C, so a reader can skip the blocks outside a time
//! range and check each block before decoding it. The layout is in [`format`] and in the
//! crate's `FORMAT.md`.

mod format;
mod reader;
mod writer;

pub use format::{BlockInfo, SegmentMeta};
pub use reader::{SegmentEvents, SegmentReader};
pub(crate) use writer::sync_dir;
pub use writer::{SegmentInfo, SegmentOptions, SegmentWriter};

use crate::error::{Error, Result};

/// The file name extension of segments.
pub const EXTENSION: &str = "seg";

/// Tenant ids become directory names: letters, digits, `-`, `_` and `.`, not starting with a
/// dot, at most 128 bytes.
pub fn check_tenant(tenant: &str) -> Result<()> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 128
        && !tenant.starts_with('.')
        && tenant.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "tenant id {tenant:?} is not usable as a file name (letters, digits, '-', '_', '.')"
        )))
    }
}

/// Days are `YYYY-MM-DD` and real dates.
pub fn check_day(day: &str) -> Result<()> {
    let ok = day.len() == 10 && day.parse::<jiff::civil::Date>().is_ok_and(|d| d.to_string() == day);
    if ok { Ok(()) } else { Err(Error::Invalid(format!("day {day:?} is not a date written YYYY-MM-DD"))) }
}
