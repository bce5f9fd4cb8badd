//! Compact event records: an event as the flat list of its leaves, in binary, for the path from
//! a busy receiver through the write-ahead log to the indexer.
//!
//! A JSON record costs its writer an escape check of every string and its indexer a parse of
//! every byte, and a syslog event carries its line twice (`message` is usually a slice of
//! `event.original`). A compact record keeps each leaf as path, kind and value, lets a string be
//! a slice of an earlier one, and names the common ECS paths by one byte. The indexer takes the
//! leaves as they are; everything else that wants the event gets the JSON that
//! [`render_json`] writes from it, byte for byte what the receiver would have written.
//!
//! Layout (varints are LEB128):
//!
//! ```text
//! record := TAG entry*
//! entry  := head [path] payload
//! head   := u8: kind in the low 4 bits, ARRAY (0x10) when the leaf is an element of an array
//! path   := u8 index into KNOWN_PATHS, or 0xFF then varint length and the dotted path
//! kinds  := STR varint len, bytes        SLICE varint start, varint len (bytes earlier in the record)
//!           UINT varint                  INT zigzag varint            FLOAT 8 bytes LE
//!           FALSE | TRUE                 EMPTY_OBJECT (renders `{}`, no leaf)
//!           BLOB varint len, bytes (no path: text that later SLICEs point into, not a leaf)
//! ```
//!
//! Leaves of one object are written together and in the order their JSON has them, so the
//! nesting can be rebuilt from the dotted paths alone; keys never contain a dot. Records that
//! start with `{` are JSON; [`TAG`] can never start one.

mod read;
mod render;
mod write;

pub use read::{CompactError, for_each_leaf, leading_str};
pub use render::render_json;
pub use write::{CompactWriter, Known};

/// The first byte of every compact record.
pub const TAG: u8 = 0x01;

/// Whether `record` is a compact record (otherwise it is JSON).
pub fn is_compact(record: &[u8]) -> bool {
    record.first() == Some(&TAG)
}

const ARRAY: u8 = 0x10;
const KIND_MASK: u8 = 0x0f;

const STR: u8 = 0;
const SLICE: u8 = 1;
const UINT: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const FALSE: u8 = 5;
const TRUE: u8 = 6;
const EMPTY_OBJECT: u8 = 7;
const BLOB: u8 = 8;

const INLINE_PATH: u8 = 0xFF;

/// Paths named by their index. Records outlive the program that wrote them (the WAL is read
/// after an upgrade), so entries are only ever appended, never reordered or removed.
pub const KNOWN_PATHS: &[&str] = &[
    "@timestamp",
    "message",
    "tags",
    "event.id",
    "event.kind",
    "event.dataset",
    "event.severity",
    "event.original",
    "event.ingested",
    "event.code",
    "event.provider",
    "organization.id",
    "organization",
    "host.hostname",
    "log.level",
    "log.syslog.priority",
    "log.syslog.facility.code",
    "log.syslog.facility.name",
    "log.syslog.severity.code",
    "log.syslog.severity.name",
    "log.syslog.hostname",
    "log.syslog.appname",
    "log.syslog.procid",
    "log.syslog.msgid",
    "log.syslog.version",
    "log.source.address",
    "error.message",
    "mamori.original_base64",
    "process.name",
    "process.pid",
    "log",
];

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests;
