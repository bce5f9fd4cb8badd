//! One column: the scalars found at one key path, in event order, each as a tag and the
//! smallest exact encoding the encoder found for it.
//!
//! The small parts of every value (its tag byte and small varints: dictionary indexes, copy
//! distances, positions in `event.original`, small integers) go to the block's *row stream*,
//! event after event, because they are what correlates across the fields of one event: one
//! line format gives the same tags, the same token numbers and the same dictionary entries in
//! every field, and zstd finds the whole run as one match. The bulky parts go to five streams
//! per column, where each meets its own kind:
//!
//! | stream | holds |
//! |---|---|
//! | `bytes` | literal strings and templates, each ended by the byte 0xFD (never in UTF-8); `f64` as 8 bytes little-endian; number texts |
//! | `ints`  | zigzag varints of integers too big for the row stream |
//! | `times` | zigzag varints of timestamp deltas in units of 10^`time_unit` ns, from the column's previous timestamp or from the previous timestamp of the same event ([`TIME_IN_EVENT`]) |
//! | `hexes` | 32-char hex ids (see the `hex` module) |
//! | `toks`  | the numbers taken out of tokenised strings, by context (see the `toks` module) |
//!
//! Integers are coded as deltas from the column's previous integer while that has been
//! smaller so far (both sides keep the running sizes), so counters cost one byte.
//!
//! The string dictionary is implicit: every literal string (tags `STR`, `TOK_STR`) of at most
//! [`DICT_MAX_LEN`] bytes is appended to the column's dictionary, on both sides, until it holds
//! [`DICT_CAP`] entries; `DICT` then names an earlier one by index.

mod hex;
mod reader;
mod toks;
mod writer;

pub use reader::ColumnReader;
pub use writer::ColumnWriter;

use super::original::Original;

/// Value tags.
pub mod tag {
    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    /// An integer whose zigzag (value or delta) is below 128: one byte in the row stream.
    pub const INT: u8 = 3;
    /// `u64` above `i64::MAX`: a varint in the row stream.
    pub const U64: u8 = 4;
    /// `f64` in `bytes`.
    pub const F64: u8 = 5;
    /// Any other number, as its JSON text in `bytes`.
    pub const NUM_TEXT: u8 = 6;
    /// A string in `bytes`.
    pub const STR: u8 = 7;
    /// A string with its digit runs taken out: the template in `bytes`, the numbers in
    /// `toks` (see `text::tokenize`).
    pub const TOK_STR: u8 = 8;
    /// An earlier literal string of this column: its index follows.
    pub const DICT: u8 = 9;
    /// The same string as an earlier value of the same event: how many values back follows.
    pub const COPY: u8 = 10;
    /// A part of the event's `event.original`: byte offset and length follow.
    pub const REF: u8 = 11;
    /// The end of the event's `event.original` from a byte offset that follows.
    pub const REF_END: u8 = 12;
    /// A part of `event.original` between two boundaries: the first boundary's number and
    /// how many boundaries further the part ends follow.
    pub const REF_B: u8 = 13;
    /// The end of `event.original` from a boundary, whose number follows.
    pub const REF_END_B: u8 = 14;
    /// An integer written in `event.original` at a byte offset that follows.
    pub const INT_REF: u8 = 15;
    /// An integer written in `event.original` at a boundary, whose number follows.
    pub const INT_REF_B: u8 = 16;
    /// A 32-character lowercase hex string, in `hexes` (see `hex`).
    pub const HEX32: u8 = 17;
    /// A timestamp as `jiff::Timestamp` displays it, in `times`.
    pub const TS: u8 = 18;
    /// A timestamp with 0 to 9 fraction digits: `TS_FIXED + digits`, in `times`.
    pub const TS_FIXED: u8 = 19;
    pub const LAST: u8 = TS_FIXED + 9;
    /// An integer (value or delta) in `ints`.
    pub const INT_WIDE: u8 = 29;
    /// A UUIDv7 coded from the event's timestamp, in `hexes` (see `hex`).
    pub const HEX_V7: u8 = 30;
}

pub const STREAMS: usize = 5;
pub const STREAM_NAMES: [&str; STREAMS] = ["bytes", "ints", "times", "hexes", "toks"];
const BYTES: usize = 0;
const INTS: usize = 1;
const TIMES: usize = 2;
const HEXES: usize = 3;
const TOKS: usize = 4;

/// Ends every literal string in `bytes`; UTF-8 never contains it.
pub const END: u8 = 0xfd;

/// Column flag: `times` holds deltas from the previous timestamp of the same event.
pub const TIME_IN_EVENT: u8 = 1;
const KNOWN_FLAGS: u8 = TIME_IN_EVENT;

/// Literal strings up to this length go into the column's dictionary.
pub const DICT_MAX_LEN: usize = 64;
/// Entries a column's dictionary holds at most.
pub const DICT_CAP: usize = 1 << 16;
/// Strings at least this long are looked for in `event.original`.
pub const MIN_REF_LEN: usize = 3;
/// Integers at least this far from zero are looked for in `event.original` anywhere; smaller
/// ones only where the column's previous one was found.
pub const MIN_INT_REF: u64 = 100;
/// Strings at least this long have their digit runs taken out.
pub const MIN_TOK_LEN: usize = 16;
/// How many values back the encoder looks for a `COPY` (bounds its work per value).
pub const COPY_WINDOW: usize = 64;
/// The encoder only searches originals up to this size for references...
pub const MAX_REF_SOURCE: usize = 64 * 1024;
/// ...and at most this many times per event, so that no event costs more than linear time.
pub const REF_SEARCHES: u32 = 256;

/// The encoding parameters of a finished column, stored in the block's column directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnHead {
    pub path: Vec<String>,
    pub flags: u8,
    /// Timestamps are stored in units of 10^time_unit nanoseconds (0..=9).
    pub time_unit: u8,
    /// Deltas of the high half of hex ids are shifted right by this (0..=63).
    pub hex_shift: u8,
}

impl ColumnHead {
    /// Whether the parameters are ones this code writes.
    pub fn is_valid(&self) -> bool {
        self.flags & !KNOWN_FLAGS == 0 && self.time_unit <= 9 && self.hex_shift <= 63
    }
}

/// The running choice between plain integers and deltas, kept alike by writer and reader.
#[derive(Default, Clone, Copy)]
pub struct IntState {
    prev: i64,
    plain: u64,
    delta: u64,
}

impl IntState {
    /// Whether the next integer is coded as a delta.
    pub fn delta(&self) -> bool {
        self.delta < self.plain
    }

    /// Records an integer coded.
    pub fn update(&mut self, v: i64) {
        self.plain += crate::varint::len_u64(crate::varint::zigzag(v)) as u64;
        self.delta += crate::varint::len_u64(crate::varint::zigzag(v.wrapping_sub(self.prev))) as u64;
        self.prev = v;
    }

    /// What is stored for `v`.
    pub fn code(&self, v: i64) -> i64 {
        if self.delta() { v.wrapping_sub(self.prev) } else { v }
    }

    /// The integer a stored `x` stands for.
    pub fn value(&self, x: i64) -> i64 {
        if self.delta() { self.prev.wrapping_add(x) } else { x }
    }
}

/// What the values of one event share while it is encoded or decoded.
#[derive(Default)]
pub struct EventState<'a> {
    /// The event's `event.original`, once it has been coded.
    pub original: Option<Original<'a>>,
    /// The last timestamp coded in this event.
    pub last_ts: Option<i128>,
    /// Searches of `original` the encoder may still make for this event.
    pub searches: u32,
}
