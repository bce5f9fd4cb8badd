//! Decoding blocks: header, decompression, directory, then event by event.

use std::io::Read;

use serde_json::Value;

use super::column::{ColumnHead, ColumnReader, EventState, STREAMS};
use super::original::Original;
use super::shape::Shape;
use super::{BLOCK_MAGIC, BLOCK_VERSION, MAX_BODY, MAX_DECODED, MAX_WINDOW_LOG};
use crate::error::{Error, Result};
use crate::varint::Reader;

/// What a block's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    pub events: u64,
    /// The size of the decompressed body.
    pub body_len: u64,
    /// The decode cost of the events (about their size in memory): a limit for the decoder
    /// while it works, and a check when it is done.
    pub decoded: u64,
    /// Where the zstd frame starts.
    pub frame_at: usize,
}

/// Reads and checks a block's header without decompressing anything.
pub fn read_header(bytes: &[u8]) -> Result<BlockHeader> {
    let mut r = Reader::new(bytes, "block header");
    if r.bytes(4)? != BLOCK_MAGIC {
        return Err(Error::damaged("not a block (magic bytes differ)"));
    }
    let version = r.u8()?;
    if version != BLOCK_VERSION {
        return Err(Error::damaged(format!("block format version {version}, this build reads {BLOCK_VERSION}")));
    }
    let flags = r.u8()?;
    if flags != 0 {
        return Err(Error::damaged(format!("unknown block flags {flags:#04x}")));
    }
    let crc = u32::from_le_bytes(r.bytes(4)?.try_into().unwrap_or_default());
    let actual = crc32c::crc32c(&bytes[r.position()..]);
    if crc != actual {
        return Err(Error::damaged(format!("checksum mismatch (stored {crc:08x}, computed {actual:08x})")));
    }
    let events = r.u64()?;
    let body_len = r.bounded(MAX_BODY, "body size")?;
    let decoded = r.bounded(MAX_DECODED, "decoded size")?;
    // Every event has at least a one-byte shape id and one node.
    if events > body_len || events.saturating_mul(super::shape::NODE_COST) > decoded {
        return Err(Error::damaged(format!(
            "{events} events cannot fit a {body_len}-byte body decoding to {decoded} bytes"
        )));
    }
    Ok(BlockHeader { events, body_len, decoded, frame_at: r.position() })
}

/// Decodes a block made by [`super::encode_block`] or [`super::BlockBuilder`].
pub fn decode_block(bytes: &[u8]) -> Result<Vec<Value>> {
    let header = read_header(bytes)?;
    let body = decompress(&bytes[header.frame_at..], header.body_len)?;
    decode_body(&body, &header)
}

fn decompress(frame: &[u8], body_len: u64) -> Result<Vec<u8>> {
    use zstd::zstd_safe;
    let size = zstd_safe::find_frame_compressed_size(frame)
        .map_err(|_| Error::damaged("the compressed body is not a zstd frame"))?;
    if size != frame.len() {
        return Err(Error::damaged(format!(
            "the zstd frame is {size} bytes but the block has {} after its header",
            frame.len()
        )));
    }
    match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) if n == body_len => {}
        _ => {
            return Err(Error::damaged("the zstd frame does not declare the body size of the block header"));
        }
    }
    let fail = |e: std::io::Error| Error::damaged(format!("decompressing: {e}"));
    let mut dec = zstd::stream::read::Decoder::with_buffer(frame).map_err(fail)?.single_frame();
    dec.window_log_max(MAX_WINDOW_LOG).map_err(fail)?;
    // Grow with what really decompresses rather than trusting the declared size.
    let mut body = Vec::with_capacity((body_len as usize).min(frame.len().saturating_mul(8)));
    dec.take(body_len + 1).read_to_end(&mut body).map_err(fail)?;
    if body.len() as u64 != body_len {
        return Err(Error::damaged(format!(
            "the body decompresses to {} bytes, the header says {body_len}",
            body.len()
        )));
    }
    Ok(body)
}

/// One shape and the column of each of its leaves.
struct ShapeRef {
    shape: Shape,
    columns: Vec<usize>,
}

/// Decodes a decompressed body. Public to the crate for tests that damage bodies directly.
pub(crate) fn decode_body(body: &[u8], header: &BlockHeader) -> Result<Vec<Value>> {
    let mut r = Reader::new(body, "block directory");
    let n_shapes = r.len("shape count")?;
    let mut shapes = Vec::with_capacity(n_shapes.min(1024));
    let mut max_column = None;
    for i in 0..n_shapes {
        let len = r.len("shape size")?;
        let shape = Shape::parse(r.bytes(len)?).map_err(|e| Error::damaged(format!("shape {i}: {e}")))?;
        let leaves = r.len("leaf count")?;
        if leaves != shape.leaves() {
            return Err(Error::damaged(format!("shape {i} has {} leaves, its column list {leaves}", shape.leaves())));
        }
        let mut columns = Vec::with_capacity(leaves);
        for _ in 0..leaves {
            let c = r.bounded(u64::from(u32::MAX), "column id")? as usize;
            max_column = max_column.max(Some(c));
            columns.push(c);
        }
        shapes.push(ShapeRef { shape, columns });
    }
    let n_columns = r.len("column count")?;
    if let Some(c) = max_column.filter(|c| *c >= n_columns) {
        return Err(Error::damaged(format!("a shape names column {c} of {n_columns}")));
    }
    let mut heads = Vec::with_capacity(n_columns);
    let mut lens = Vec::with_capacity(n_columns);
    for _ in 0..n_columns {
        let n_keys = r.len("path length")?;
        let mut path = Vec::with_capacity(n_keys);
        for _ in 0..n_keys {
            let len = r.len("key length")?;
            let key = std::str::from_utf8(r.bytes(len)?).map_err(|_| Error::damaged("a column path is not UTF-8"))?;
            path.push(key.to_string());
        }
        let flags = r.u8()?;
        let time_unit = r.u8()?;
        let hex_shift = r.u8()?;
        let mut l = [0u64; STREAMS];
        for x in &mut l {
            *x = r.u64()?;
        }
        let head = ColumnHead { path, flags, time_unit, hex_shift };
        if !head.is_valid() {
            return Err(Error::damaged(format!(
                "column {}: unknown parameters {flags}/{time_unit}/{hex_shift}",
                head.path.join(".")
            )));
        }
        heads.push(head);
        lens.push(l);
    }
    let rows_len = r.u64()?;
    let mut data = Reader::new(r.rest(), "block data");
    let rows_bytes = data.bytes(usize::try_from(rows_len).unwrap_or(usize::MAX))?;
    let mut columns = Vec::with_capacity(n_columns);
    for (head, l) in heads.into_iter().zip(lens) {
        let mut streams = Vec::with_capacity(STREAMS);
        for (len, name) in l.iter().zip(super::column::STREAM_NAMES) {
            let b = data.bytes(usize::try_from(*len).unwrap_or(usize::MAX))?;
            streams.push(Reader::new(b, name));
        }
        let streams: [Reader<'_>; STREAMS] = streams.try_into().map_err(|_| Error::damaged("column streams"))?;
        columns.push(ColumnReader::new(head, streams)?);
    }
    if !data.is_empty() {
        return Err(Error::damaged(format!("{} bytes after the last column", data.remaining())));
    }

    let mut rows = Reader::new(rows_bytes, "row stream");
    let mut distinct: Vec<(usize, usize)> = Vec::new();
    let mut events = Vec::with_capacity((header.events as usize).min(4096));
    let mut decoded = 0u64;
    let mut values = Vec::new();
    for e in 0..header.events {
        let id = rows.u64()?;
        let (mut row, new_at) = if id == 0 {
            (rows.clone(), Some(rows.position()))
        } else {
            let (a, b) = usize::try_from(id - 1)
                .ok()
                .and_then(|i| distinct.get(i))
                .copied()
                .ok_or_else(|| Error::damaged(format!("event {e}: row {id} of {}", distinct.len())))?;
            (Reader::new(&rows_bytes[a..b], "row"), None)
        };
        let event = decode_event(e, &mut row, &shapes, &mut columns, &mut values, &mut decoded, header)?;
        events.push(event);
        match new_at {
            Some(start) => {
                // `row` read on from where `rows` stands, through this event's cells.
                let end = row.position();
                distinct.push((start, end));
                rows.bytes(end - start)?;
            }
            None if !row.is_empty() => {
                return Err(Error::damaged(format!("event {e}: {} bytes left in its row", row.remaining())));
            }
            None => {}
        }
    }
    if !rows.is_empty() {
        return Err(Error::damaged(format!(
            "{} bytes left in the row stream after {} events",
            rows.remaining(),
            header.events
        )));
    }
    for c in &columns {
        c.finish()?;
    }
    if decoded != header.decoded {
        return Err(Error::damaged(format!(
            "the events decode to {decoded} bytes, the header says {}",
            header.decoded
        )));
    }
    Ok(events)
}

/// Decodes event number `e`, whose shape id and cells are in `row`.
#[allow(clippy::too_many_arguments)]
fn decode_event(
    e: u64,
    row: &mut Reader<'_>,
    shapes: &[ShapeRef],
    columns: &mut [ColumnReader<'_>],
    values: &mut Vec<Value>,
    decoded: &mut u64,
    header: &BlockHeader,
) -> Result<Value> {
    let id = row.u64()?;
    let s = usize::try_from(id)
        .ok()
        .and_then(|i| shapes.get(i))
        .ok_or_else(|| Error::damaged(format!("event {e}: shape {id} of {}", shapes.len())))?;
    let over = |decoded: u64| -> Result<()> {
        if decoded > header.decoded {
            return Err(Error::damaged(format!(
                "event {e}: the events decode to more than the {} bytes the header allows",
                header.decoded
            )));
        }
        Ok(())
    };
    *decoded += s.shape.cost;
    over(*decoded)?;
    values.clear();
    let mut ev = EventState::default();
    let mut original_value = None;
    if let Some(l) = s.shape.original_leaf {
        original_value = Some(columns[s.columns[l]].next(&mut ev, &[], row)?);
    }
    let original_text = match &original_value {
        Some(Value::String(o)) => Some(o.clone()),
        _ => None,
    };
    ev.original = original_text.as_deref().map(Original::new);
    for (i, &c) in s.columns.iter().enumerate() {
        let v = if Some(i) == s.shape.original_leaf {
            original_value.take().unwrap_or(Value::Null)
        } else {
            columns[c].next(&mut ev, values, row)?
        };
        if let Value::String(s) = &v {
            *decoded += s.len() as u64;
        }
        over(*decoded)?;
        values.push(v);
    }
    s.shape.build(&mut values.drain(..))
}

/// Where the parts of a block's body are, for tuning and diagnostics (`ratio` example).
#[derive(Debug, Clone)]
pub struct BlockLayout {
    /// The decompressed body.
    pub body: Vec<u8>,
    /// Bytes of the directory (shapes and column heads) at the start of the body.
    pub directory: usize,
    pub shapes: usize,
    /// Bytes of the row stream (shape ids, tags and small numbers).
    pub rows: usize,
    /// Each column's dotted path and the sizes of its streams, in body order.
    pub columns: Vec<(String, [usize; STREAMS])>,
}

/// Decompresses a block and reports its layout.
pub fn inspect(bytes: &[u8]) -> Result<BlockLayout> {
    let header = read_header(bytes)?;
    let body = decompress(&bytes[header.frame_at..], header.body_len)?;
    let mut r = Reader::new(&body, "block directory");
    let shapes = r.len("shape count")?;
    for _ in 0..shapes {
        let n = r.len("shape size")?;
        r.bytes(n)?;
        for _ in 0..r.len("leaf count")? {
            r.u64()?;
        }
    }
    let mut columns = Vec::new();
    for _ in 0..r.len("column count")? {
        let mut path = Vec::new();
        for _ in 0..r.len("path length")? {
            let n = r.len("key length")?;
            path.push(String::from_utf8_lossy(r.bytes(n)?).into_owned());
        }
        r.bytes(3)?;
        let mut l = [0usize; STREAMS];
        for x in &mut l {
            *x = r.u64()? as usize;
        }
        columns.push((path.join("."), l));
    }
    let rows = r.u64()? as usize;
    let directory = r.position();
    Ok(BlockLayout { body, directory, shapes, rows, columns })
}
