//! A block: up to [`MAX_ROWS`] events of one day partition, laid out by column so that a search
//! reads only the columns its query names.
//!
//! Every leaf path of the events (`source.ip`, `dns.answers.type`, ...) becomes a column: a
//! dictionary of the distinct scalar values in the block and, per row, the codes of its values.
//! A query clause is tested once per distinct value, then the rows are found by code, so a
//! search costs a pass over small integer arrays rather than over events. The full-text fields
//! also get a sorted token table with the rows of each token. The events themselves are kept
//! as their JSON, LZ4-compressed, for returning results and for archiving.
//!
//! Layout (integers little-endian; offsets relative to the start of the block):
//!
//! ```text
//! "MHB1" | crc32c u32 of the rest | len u32 (whole block)
//! rows u32 | min_ts i64 | max_ts i64 | min_lsn u64 | max_lsn u64
//! times: rows × i64 (microseconds; i64::MIN when the event has no @timestamp)
//! lsns:  rows × u64
//! source: u32 len, LZ4 (size-prepended) of [rows × u32 end offsets][the JSON texts]
//! n_columns u32, then per column: u16 path len, path, u32 offset, u32 len
//! column data (see `column.rs`)
//! ```
//!
//! Blocks are built in memory by the indexer ([`BlockBuilder`]), written whole to their own
//! file and never changed; merging and tenant deletion write new blocks.

mod builder;
mod bytes;
mod column;
mod column_builder;
mod reader;
mod same;
mod token_builder;

pub use builder::{BlockBuilder, RecordError, TimeCache, event_time, event_time_cached};
pub use column::{ColumnReader, RowCodes};
pub use reader::{Block, Sources};

/// Rows in a block at most: the indexer seals a block when it is full.
pub const MAX_ROWS: usize = 32_768;

const MAGIC: &[u8; 4] = b"MHB1";
const HEADER_LEN: usize = 12;

/// A block that cannot be read: damaged or not a block.
#[derive(Debug, thiserror::Error)]
#[error("hot block: {0}")]
pub struct BlockError(pub String);

#[cfg(test)]
mod tests;
