//! Building a block from events as they come out of the write-ahead log.

use jiff::Timestamp;
use mamori_core::compact;
use mamori_query::{FieldKind, ValueRef, field_kind};
use rustc_hash::FxHashMap;

use super::bytes::{put_i64, put_u16, put_u32, put_u64};
use super::column_builder::ColumnBuilder;
use super::same::same_bytes;
use super::{HEADER_LEN, MAGIC, MAX_ROWS};
use crate::hot::leaves::for_each_leaf;

/// Room for the end offsets of a full block's events, in front of their texts.
const ENDS_ROOM: usize = MAX_ROWS * 4;

/// Columns a builder keeps between blocks at most; past this (events with ever new field
/// names) they are dropped after each block instead of reused.
const MAX_KEPT_COLUMNS: usize = 1024;

/// The events of a block being built.
#[derive(Default)]
pub struct BlockBuilder {
    times: Vec<i64>,
    lsns: Vec<u64>,
    /// The events' JSON texts behind [`ENDS_ROOM`] bytes kept free for their end offsets, so
    /// that the section to compress ([ends][texts]) is made in place rather than copied.
    source: Vec<u8>,
    source_ends: Vec<u32>,
    /// Every path seen, kept across blocks with their memory; empty ones are not written.
    columns: Vec<(Box<str>, ColumnBuilder)>,
    /// Every path seen with what it is (its column, or stored only), and its index there.
    paths: Vec<(Box<str>, Slot)>,
    by_path: FxHashMap<Box<str>, u32>,
    /// The previous event's leaves as indexes into `paths`. Events of one source repeat their
    /// shape, so the leaf at the same position usually has the same path, and comparing it
    /// costs less than hashing it.
    shape: Vec<u32>,
    /// The columns the event being added has touched, to undo it when it is malformed.
    touched: Vec<usize>,
    scratch: String,
    /// The block being written and, only for an overfull builder, the sources before
    /// compression; kept between blocks:
    /// fresh memory for every block costs page faults.
    out: Vec<u8>,
    plain: Vec<u8>,
}

/// A WAL record that is not an event: JSON that does not parse, or a damaged compact record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Compact(#[from] compact::CompactError),
}

#[derive(Clone, Copy)]
enum Slot {
    Column { index: usize, text: bool },
    StoredOnly,
}

impl BlockBuilder {
    pub fn new() -> Self {
        BlockBuilder::default()
    }

    pub fn rows(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Adds an event given as its record (JSON or compact) and returns its `@timestamp`. A
    /// malformed event is an error and leaves the block as it was. The record is kept as it is;
    /// readers get JSON from [`super::Sources::json`].
    pub fn add(&mut self, lsn: u64, json: &[u8]) -> Result<Option<Timestamp>, RecordError> {
        self.add_inner(lsn, json, None)
    }

    /// [`BlockBuilder::add`] for an event whose [`event_time`] is known already (the indexer
    /// needs it first, to pick the day): its `@timestamp` is not parsed a second time.
    pub fn add_timed(
        &mut self,
        lsn: u64,
        json: &[u8],
        time: Option<Timestamp>,
    ) -> Result<Option<Timestamp>, RecordError> {
        self.add_inner(lsn, json, Some(time))
    }

    fn add_inner(
        &mut self,
        lsn: u64,
        json: &[u8],
        known: Option<Option<Timestamp>>,
    ) -> Result<Option<Timestamp>, RecordError> {
        let row = self.times.len() as u32;
        let looking = known.is_none();
        let mut time = known.flatten();
        let BlockBuilder { columns, paths, by_path, shape, scratch, touched, .. } = self;
        touched.clear();
        let mut leaf = 0;
        let mut visit = |path: &str, v: ValueRef<'_>| {
            if looking && path == "@timestamp" && time.is_none() {
                time = v.time();
            }
            let slot = match shape.get(leaf) {
                Some(&i) if same_bytes(paths[i as usize].0.as_bytes(), path.as_bytes()) => paths[i as usize].1,
                _ => {
                    let i = path_index(path, paths, by_path, columns);
                    match shape.get_mut(leaf) {
                        Some(predicted) => *predicted = i,
                        None => shape.push(i),
                    }
                    paths[i as usize].1
                }
            };
            leaf += 1;
            let Slot::Column { index, text } = slot else { return };
            if touched.last() != Some(&index) {
                touched.push(index);
            }
            let column = &mut columns[index].1;
            if text {
                match v {
                    ValueRef::Str(s) => column.push_tokens(row, s),
                    _ => {
                        v.write_string_form(scratch);
                        column.push_tokens(row, scratch);
                    }
                }
            }
            column.push(row, v);
        };
        let walked = match compact::is_compact(json) {
            true => compact::for_each_leaf(json, &mut visit).map_err(RecordError::from),
            false => for_each_leaf(json, &mut visit).map_err(RecordError::from),
        };
        if self.source.is_empty() {
            self.source.resize(ENDS_ROOM, 0);
        }
        if walked.is_ok() {
            // Kept as it came: a compact record is rendered only when it is read.
            self.source.extend_from_slice(json);
        }
        if let Err(e) = walked {
            for &i in &self.touched {
                self.columns[i].1.forget(row);
            }
            return Err(e);
        }
        self.times.push(time.map_or(i64::MIN, |t| t.as_microsecond()));
        self.lsns.push(lsn);
        self.source_ends.push((self.source.len() - ENDS_ROOM) as u32);
        Ok(time)
    }

    /// The block's bytes, valid until the next call; the builder is empty afterwards.
    pub fn finish(&mut self) -> &[u8] {
        let rows = self.rows();
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        // Room for the usual block at once (the compressor's worst case for the sources, then
        // about half their size again for the columns): growing by doubling copies into fresh
        // memory. What is reserved but never written does not become resident.
        let texts_len = self.source.len().saturating_sub(ENDS_ROOM);
        out.reserve(rows * 24 + lz4_flex::block::get_maximum_output_size(rows * 4 + texts_len) + texts_len / 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[0; HEADER_LEN - 4]);
        put_u32(&mut out, rows as u32);
        let known = self.times.iter().copied().filter(|&t| t != i64::MIN);
        put_i64(&mut out, known.clone().min().unwrap_or(i64::MAX));
        put_i64(&mut out, known.max().unwrap_or(i64::MIN));
        put_u64(&mut out, self.lsns.iter().copied().min().unwrap_or(0));
        put_u64(&mut out, self.lsns.iter().copied().max().unwrap_or(0));
        self.times.iter().for_each(|&t| put_i64(&mut out, t));
        self.lsns.iter().for_each(|&l| put_u64(&mut out, l));

        let plain: &[u8] = if rows * 4 <= ENDS_ROOM && !self.source.is_empty() {
            let start = ENDS_ROOM - rows * 4;
            for (i, &e) in self.source_ends.iter().enumerate() {
                self.source[start + i * 4..start + i * 4 + 4].copy_from_slice(&e.to_le_bytes());
            }
            &self.source[start..]
        } else {
            // More rows than the room was made for (a builder filled past `MAX_ROWS`).
            let texts = self.source.get(ENDS_ROOM..).unwrap_or_default();
            let plain = &mut self.plain;
            plain.clear();
            plain.reserve(rows * 4 + texts.len());
            self.source_ends.iter().for_each(|&e| put_u32(plain, e));
            plain.extend_from_slice(texts);
            plain
        };
        // Compressed behind its length, in lz4_flex's size-prepended form, straight into the
        // block: no buffer of its own to keep resident between blocks, and no copy.
        let len_at = out.len();
        put_u32(&mut out, 0);
        put_u32(&mut out, plain.len() as u32);
        let bound = lz4_flex::block::get_maximum_output_size(plain.len());
        let packed_at = out.len();
        out.resize(packed_at + bound, 0);
        let packed = lz4_flex::block::compress_into(plain, &mut out[packed_at..])
            .expect("the output has room for the worst case");
        out.truncate(packed_at + packed);
        let packed_len = (4 + packed) as u32;
        out[len_at..len_at + 4].copy_from_slice(&packed_len.to_le_bytes());

        let written: Vec<usize> = (0..self.columns.len()).filter(|&i| !self.columns[i].1.is_empty()).collect();
        put_u32(&mut out, written.len() as u32);
        let dir_at = out.len();
        for &i in &written {
            let path = &self.columns[i].0;
            put_u16(&mut out, path.len() as u16);
            out.extend_from_slice(path.as_bytes());
            put_u32(&mut out, 0);
            put_u32(&mut out, 0);
        }
        let mut slot = dir_at;
        for &i in &written {
            let (path, column) = &mut self.columns[i];
            let start = out.len();
            column.write(rows, &mut out);
            let len = out.len() - start;
            slot += 2 + path.len();
            out[slot..slot + 4].copy_from_slice(&(start as u32).to_le_bytes());
            out[slot + 4..slot + 8].copy_from_slice(&(len as u32).to_le_bytes());
            slot += 8;
        }
        let len = out.len() as u32;
        out[8..12].copy_from_slice(&len.to_le_bytes());
        let crc = crc32c::crc32c(&out[8..]);
        out[4..8].copy_from_slice(&crc.to_le_bytes());
        // Keep the buffers: fresh memory for every block costs page faults.
        self.times.clear();
        self.lsns.clear();
        self.source.clear();
        self.source_ends.clear();
        if self.columns.len() > MAX_KEPT_COLUMNS {
            self.columns.clear();
            self.paths.clear();
            self.by_path.clear();
            self.shape.clear();
        } else {
            self.columns.iter_mut().for_each(|(_, c)| c.clear());
        }
        self.out = out;
        &self.out
    }
}

/// The index of `path` in `paths`, added (with a new column unless it is stored only) when it
/// is new.
fn path_index(
    path: &str,
    paths: &mut Vec<(Box<str>, Slot)>,
    by_path: &mut FxHashMap<Box<str>, u32>,
    columns: &mut Vec<(Box<str>, ColumnBuilder)>,
) -> u32 {
    if let Some(&i) = by_path.get(path) {
        return i;
    }
    let slot = match field_kind(path) {
        FieldKind::StoredOnly => Slot::StoredOnly,
        kind => {
            let text = kind == FieldKind::Text;
            columns.push((path.into(), ColumnBuilder::new(text)));
            Slot::Column { index: columns.len() - 1, text }
        }
    };
    let i = paths.len() as u32;
    paths.push((path.into(), slot));
    by_path.insert(path.into(), i);
    i
}

/// The `@timestamp` of an event's record without reading all of it when, as mamori writes its
/// events, it is the first leaf; otherwise found by a walk.
pub fn event_time(json: &[u8]) -> Result<Option<Timestamp>, RecordError> {
    event_time_cached(json, &mut TimeCache::default())
}

/// The last `@timestamp` text read and its instant: events come in runs of one second, and
/// comparing a few dozen bytes costs far less than parsing them again.
#[derive(Default)]
pub struct TimeCache {
    text: String,
    time: Option<Timestamp>,
}

impl TimeCache {
    fn time_of(&mut self, s: &str) -> Option<Timestamp> {
        if !same_bytes(self.text.as_bytes(), s.as_bytes()) {
            self.time = ValueRef::Str(s).time();
            self.text.clear();
            self.text.push_str(s);
        }
        self.time
    }
}

/// [`event_time`], reusing the previous event's parse when its leading `@timestamp` text is
/// the same.
pub fn event_time_cached(json: &[u8], cache: &mut TimeCache) -> Result<Option<Timestamp>, RecordError> {
    if compact::is_compact(json) {
        if let Some(t) = compact::leading_str(json, "@timestamp").and_then(|s| cache.time_of(s)) {
            return Ok(Some(t));
        }
        let mut time = None;
        compact::for_each_leaf(json, |path, leaf| {
            if path == "@timestamp" && time.is_none() {
                time = leaf.time();
            }
        })?;
        return Ok(time);
    }
    const PREFIX: &[u8] = br#"{"@timestamp":""#;
    if let Some(rest) = json.strip_prefix(PREFIX)
        && let Some(end) = rest.iter().position(|&b| b == b'"' || b == b'\\')
        && rest[end] == b'"'
        && let Ok(s) = std::str::from_utf8(&rest[..end])
        && let Some(t) = cache.time_of(s)
    {
        return Ok(Some(t));
    }
    let mut time = None;
    for_each_leaf(json, &mut |path, leaf| {
        if path == "@timestamp" && time.is_none() {
            time = leaf.time();
        }
    })?;
    Ok(time)
}
