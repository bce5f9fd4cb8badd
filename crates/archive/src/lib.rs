//! The cold tier of mamori's log store: years of events in little space, tamper-evident.
//!
//! - [`block`]: a batch of JSON events as one columnar, zstd-compressed block;
//! - [`segment`]: the blocks of one tenant and one day in one file, with an index of blocks
//!   by time;
//! - [`manifest`]: the append-only, hash-chained list of segments, watermarks and expiries,
//!   and [`verify`] which checks the whole archive against it.
//!
//! The byte layouts are described in `FORMAT.md` beside this crate's `Cargo.toml`.

pub mod block;
pub mod error;
pub mod manifest;
pub mod segment;
mod varint;
mod verify;

pub use block::{BlockBuilder, Compression, decode_block, encode_block};
pub use error::{Error, Result};
pub use manifest::{Entry, Manifest, Record};
pub use segment::{BlockInfo, SegmentInfo, SegmentMeta, SegmentOptions, SegmentReader, SegmentWriter};
pub use verify::{VerifyOptions, VerifyReport, verify, verify_with};
