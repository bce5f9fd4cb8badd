//! The block codec: a batch of JSON events as one columnar, zstd-compressed byte string.
//!
//! Logs repeat themselves in two ways a general compressor only half sees: every event has the
//! same keys in the same nesting, and most fields of a parsed event are copies of parts of its
//! raw line. A block therefore stores
//!
//! - each distinct *shape* (keys and nesting; the `shape` module) once;
//! - the scalars in one *column* per key path (the `column` module), each value in the smallest
//!   exact form found for it: a reference into the same event's `event.original` (by token
//!   number when it is whole tokens), a copy of another value of the event, a delta from the
//!   column's previous timestamp or id, a dictionary index, a tokenised string whose numbers
//!   are grouped by the text before them;
//! - the small parts of every value (tags, indexes, positions) event by event in one *row
//!   stream*, where each distinct row is stored once, because they correlate across the
//!   fields of an event; the bulky parts column after column;
//! - all of it compressed as one zstd frame with a checksum, behind a CRC32C.
//!
//! Decoding is safe on any bytes: every length is checked against what remains, the
//! decompressed size and the size of the decoded events are limited by numbers in the header
//! (themselves capped by [`MAX_BODY`] and [`MAX_DECODED`]), and leftovers are errors. The
//! byte layout is in the crate's `FORMAT.md`.

mod column;
mod decode;
mod original;
mod shape;
mod text;

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::varint;
use column::{ColumnWriter, EventState};
use original::Original;
use shape::Shape;

pub use decode::{BlockHeader, BlockLayout, decode_block, inspect, read_header};

/// The first bytes of every block.
pub const BLOCK_MAGIC: [u8; 4] = *b"MBLK";
/// The block format version this code writes and reads.
pub const BLOCK_VERSION: u8 = 1;
/// Where the CRC32C field ends: it covers everything after it.
const CRC_END: usize = 10;
/// The largest decompressed body a block may declare.
pub const MAX_BODY: u64 = 1 << 30;
/// The largest decode cost (about the memory of the decoded events) a block may declare.
pub const MAX_DECODED: u64 = 1 << 30;
/// The compression level used when none is given. Measured on 200k syslog-derived events
/// (`examples/ratio.rs`): level 9 stores 0.86× the bytes of `zstd -3` over the raw lines at
/// about 50 MB/s of JSON on one core; level 12 0.83× at about 42 MB/s; level 3 0.96×.
pub const DEFAULT_LEVEL: i32 = 9;
/// The largest zstd window a block may use (and a reader accepts).
pub const MAX_WINDOW_LOG: u32 = 27;

/// How a block body is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// The zstd level (1 to 22).
    pub level: i32,
    /// With `Some(log)`, zstd's long-distance matching with a window of 2^log bytes
    /// (at most [`MAX_WINDOW_LOG`]). Measured: it saves 0.2% at level 9, because a block's
    /// body (a few MB) already fits the level's own window; off by default.
    pub long_window: Option<u32>,
}

impl Compression {
    pub fn level(level: i32) -> Self {
        Compression { level, long_window: None }
    }
}

impl Default for Compression {
    fn default() -> Self {
        Compression::level(DEFAULT_LEVEL)
    }
}

/// Encodes `events` as one block at zstd `level`.
pub fn encode_block(events: &[Value], level: i32) -> Result<Vec<u8>> {
    let mut b = BlockBuilder::new();
    for e in events {
        b.push(e)?;
    }
    b.finish(Compression::level(level))
}

/// One shape of the block being built.
struct ShapeEntry {
    sig: Vec<u8>,
    /// The column of each leaf.
    columns: Vec<u32>,
    original_leaf: Option<usize>,
    cost: u64,
}

/// Builds a block event by event, so that a writer can cut blocks by size without keeping
/// the events themselves.
pub struct BlockBuilder {
    shape_ids: HashMap<Vec<u8>, u32>,
    shapes: Vec<ShapeEntry>,
    column_ids: HashMap<Vec<String>, u32>,
    columns: Vec<ColumnWriter>,
    rows: Vec<u8>,
    /// The current event's row, and the block's distinct rows by content.
    row: Vec<u8>,
    row_ids: HashMap<Vec<u8>, u64>,
    events: usize,
    json_bytes: u64,
    decoded: u64,
    sig: Vec<u8>,
}

impl Default for BlockBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockBuilder {
    pub fn new() -> Self {
        BlockBuilder {
            shape_ids: HashMap::new(),
            shapes: Vec::new(),
            column_ids: HashMap::new(),
            columns: Vec::new(),
            rows: Vec::new(),
            row: Vec::new(),
            row_ids: HashMap::new(),
            events: 0,
            json_bytes: 0,
            decoded: 0,
            sig: Vec::new(),
        }
    }

    /// Events pushed so far.
    pub fn events(&self) -> usize {
        self.events
    }

    /// About how many bytes the pushed events take as JSON text.
    pub fn json_bytes(&self) -> u64 {
        self.json_bytes
    }

    /// Adds one event. [`Error::BlockFull`] when the block cannot take it (start a new block
    /// and push it there); the builder is unchanged by any error.
    pub fn push(&mut self, event: &Value) -> Result<()> {
        let mut sig = std::mem::take(&mut self.sig);
        sig.clear();
        let mut leaves = Vec::with_capacity(32);
        let walked = shape::signature(event, &mut sig, &mut leaves);
        let id = match walked {
            Ok(()) => match self.shape_ids.get(&sig) {
                Some(&id) => Ok(id),
                None => self.add_shape(&sig),
            },
            Err(e) => Err(e),
        };
        self.sig = sig;
        let id = id?;
        let shape = &self.shapes[id as usize];

        let mut strings = 0u64;
        let mut json = self.sig.len() as u64;
        for leaf in &leaves {
            json += match leaf {
                Value::String(s) => {
                    strings += s.len() as u64;
                    s.len() as u64 + 2
                }
                Value::Number(_) => 8,
                _ => 5,
            };
        }
        let cost = shape.cost + strings;
        if self.decoded + cost > MAX_DECODED {
            return Err(Error::BlockFull(format!(
                "an event of about {json} bytes of JSON does not fit a block (at most {MAX_DECODED} bytes decoded)"
            )));
        }

        self.row.clear();
        varint::put_u64(&mut self.row, u64::from(id));
        // `event.original` first: the other values may refer into it.
        let original_leaf = shape.original_leaf;
        let mut ev = EventState::default();
        if let Some(l) = original_leaf {
            self.columns[shape.columns[l] as usize].push(leaves[l], &mut ev, &[], &mut self.row);
            // References are searched for in lines of a reasonable size only.
            ev.original = leaves[l].as_str().filter(|o| o.len() <= column::MAX_REF_SOURCE).map(Original::new);
            ev.searches = column::REF_SEARCHES;
        }
        for (i, leaf) in leaves.iter().enumerate() {
            if Some(i) != original_leaf {
                self.columns[shape.columns[i] as usize].push(leaf, &mut ev, &leaves[..i], &mut self.row);
            }
        }
        // Events of one line format from one host have the same row: store it once.
        let next = self.row_ids.len() as u64 + 1;
        match self.row_ids.get(&self.row) {
            Some(&id) => varint::put_u64(&mut self.rows, id),
            None => {
                self.rows.push(0);
                self.rows.extend_from_slice(&self.row);
                self.row_ids.insert(self.row.clone(), next);
            }
        }
        self.events += 1;
        self.json_bytes += json;
        self.decoded += cost;
        Ok(())
    }

    fn add_shape(&mut self, sig: &[u8]) -> Result<u32> {
        let parsed = Shape::parse(sig).map_err(|e| Error::Encode(e.to_string()))?;
        let mut columns = Vec::with_capacity(parsed.leaves());
        for path in parsed.leaf_paths {
            let next = self.columns.len() as u32;
            let id = *self.column_ids.entry(path.clone()).or_insert(next);
            if id == next {
                self.columns.push(ColumnWriter::new(path));
            }
            columns.push(id);
        }
        let id = self.shapes.len() as u32;
        self.shapes.push(ShapeEntry {
            sig: sig.to_vec(),
            columns,
            original_leaf: parsed.original_leaf,
            cost: parsed.cost,
        });
        self.shape_ids.insert(sig.to_vec(), id);
        Ok(id)
    }

    /// Encodes the pushed events and starts over with an empty block.
    pub fn finish(&mut self, compression: Compression) -> Result<Vec<u8>> {
        let b = std::mem::take(self);
        if b.decoded > MAX_DECODED {
            return Err(Error::Encode(format!(
                "the block's events take about {} bytes decoded, more than the {MAX_DECODED} a block may hold",
                b.decoded
            )));
        }
        let mut dir = Vec::new();
        varint::put_u64(&mut dir, b.shapes.len() as u64);
        for s in &b.shapes {
            varint::put_u64(&mut dir, s.sig.len() as u64);
            dir.extend_from_slice(&s.sig);
            varint::put_u64(&mut dir, s.columns.len() as u64);
            for c in &s.columns {
                varint::put_u64(&mut dir, u64::from(*c));
            }
        }
        varint::put_u64(&mut dir, b.columns.len() as u64);
        let mut data: Vec<Vec<u8>> = vec![b.rows];
        for c in b.columns {
            let (head, streams) = c.finish();
            varint::put_u64(&mut dir, head.path.len() as u64);
            for k in &head.path {
                varint::put_u64(&mut dir, k.len() as u64);
                dir.extend_from_slice(k.as_bytes());
            }
            dir.extend_from_slice(&[head.flags, head.time_unit, head.hex_shift]);
            for s in &streams {
                varint::put_u64(&mut dir, s.len() as u64);
            }
            data.extend(streams);
        }
        varint::put_u64(&mut dir, data[0].len() as u64);
        let body_len = dir.len() + data.iter().map(Vec::len).sum::<usize>();
        if body_len as u64 > MAX_BODY {
            return Err(Error::Encode(format!(
                "the block body is {body_len} bytes, more than the {MAX_BODY} a block may hold"
            )));
        }
        let mut body = dir;
        body.reserve(body_len - body.len());
        for d in &data {
            body.extend_from_slice(d);
        }
        let frame = compress(&body, compression)?;

        let mut out = Vec::with_capacity(frame.len() + 32);
        out.extend_from_slice(&BLOCK_MAGIC);
        out.push(BLOCK_VERSION);
        out.push(0);
        out.extend_from_slice(&[0; 4]);
        varint::put_u64(&mut out, b.events as u64);
        varint::put_u64(&mut out, body.len() as u64);
        varint::put_u64(&mut out, b.decoded);
        out.extend_from_slice(&frame);
        let crc = crc32c::crc32c(&out[CRC_END..]);
        out[CRC_END - 4..CRC_END].copy_from_slice(&crc.to_le_bytes());
        Ok(out)
    }
}

fn compress(body: &[u8], c: Compression) -> Result<Vec<u8>> {
    use zstd::zstd_safe::CParameter;
    let fail = |e: std::io::Error| Error::Encode(format!("zstd: {e}"));
    let mut z = zstd::bulk::Compressor::new(c.level).map_err(fail)?;
    z.set_parameter(CParameter::ChecksumFlag(true)).map_err(fail)?;
    z.set_parameter(CParameter::ContentSizeFlag(true)).map_err(fail)?;
    if let Some(log) = c.long_window {
        z.set_parameter(CParameter::EnableLongDistanceMatching(true)).map_err(fail)?;
        z.set_parameter(CParameter::WindowLog(log.min(MAX_WINDOW_LOG))).map_err(fail)?;
    }
    z.compress(body).map_err(fail)
}

#[cfg(test)]
mod tests;
