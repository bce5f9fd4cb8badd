//! Building a block from events as they come out of the write-ahead log.

use jiff::Timestamp;
use mamori_query::schema::TEXT_FIELDS;
use mamori_query::{FieldKind, ValueRef, field_kind};
use rustc_hash::FxHashMap;

use super::bytes::{put_i64, put_u16, put_u32, put_u64};
use super::column::ColumnBuilder;
use super::{HEADER_LEN, MAGIC};
use crate::hot::leaves::for_each_leaf;

/// The events of a block being built.
#[derive(Default)]
pub struct BlockBuilder {
    times: Vec<i64>,
    lsns: Vec<u64>,
    source: Vec<u8>,
    source_ends: Vec<u32>,
    columns: Vec<(Box<str>, ColumnBuilder)>,
    by_path: FxHashMap<Box<str>, usize>,
    scratch: String,
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

    /// Adds an event given as its JSON and returns its `@timestamp`. A malformed event is an
    /// error and leaves the block as it was.
    pub fn add(&mut self, lsn: u64, json: &[u8]) -> Result<Option<Timestamp>, serde_json::Error> {
        let row = self.times.len() as u32;
        let mut time = None;
        let mut touched: Vec<usize> = Vec::new();
        let BlockBuilder { columns, by_path, scratch, .. } = self;
        let walked = for_each_leaf(json, &mut |path, v| {
            if path == "@timestamp" && time.is_none() {
                time = v.time();
            }
            let kind = field_kind(path);
            if kind == FieldKind::StoredOnly {
                return;
            }
            let i = match by_path.get(path) {
                Some(&i) => i,
                None => {
                    let text = kind == FieldKind::Text && TEXT_FIELDS.contains(&path);
                    columns.push((path.into(), ColumnBuilder::new(text)));
                    by_path.insert(path.into(), columns.len() - 1);
                    columns.len() - 1
                }
            };
            if touched.last() != Some(&i) {
                touched.push(i);
            }
            let column = &mut columns[i].1;
            if kind == FieldKind::Text {
                v.write_string_form(scratch);
                column.push_tokens(row, scratch);
            }
            column.push(row, v);
        });
        if let Err(e) = walked {
            for i in touched {
                self.columns[i].1.forget(row);
            }
            return Err(e);
        }
        self.times.push(time.map_or(i64::MIN, |t| t.as_microsecond()));
        self.lsns.push(lsn);
        self.source.extend_from_slice(json);
        self.source_ends.push(self.source.len() as u32);
        Ok(time)
    }

    /// The block's bytes; the builder is empty afterwards.
    pub fn finish(&mut self) -> Vec<u8> {
        let rows = self.rows();
        let mut out = Vec::with_capacity(self.source.len() / 2 + rows * 64);
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

        let mut plain = Vec::with_capacity(rows * 4 + self.source.len());
        self.source_ends.iter().for_each(|&e| put_u32(&mut plain, e));
        plain.extend_from_slice(&self.source);
        let packed = lz4_flex::compress_prepend_size(&plain);
        put_u32(&mut out, packed.len() as u32);
        out.extend_from_slice(&packed);

        let columns: Vec<(Box<str>, ColumnBuilder)> =
            std::mem::take(&mut self.columns).into_iter().filter(|(_, c)| !c.is_empty()).collect();
        put_u32(&mut out, columns.len() as u32);
        let dir_at = out.len();
        for (path, _) in &columns {
            put_u16(&mut out, path.len() as u16);
            out.extend_from_slice(path.as_bytes());
            put_u32(&mut out, 0);
            put_u32(&mut out, 0);
        }
        let mut slot = dir_at;
        for (path, column) in columns {
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
        self.by_path.clear();
        out
    }
}

/// The `@timestamp` of an event's JSON without walking all of it when, as mamori writes its
/// events, it is the first key; otherwise found by a walk.
pub fn event_time(json: &[u8]) -> Result<Option<Timestamp>, serde_json::Error> {
    const PREFIX: &[u8] = br#"{"@timestamp":""#;
    if let Some(rest) = json.strip_prefix(PREFIX)
        && let Some(end) = rest.iter().position(|&b| b == b'"' || b == b'\\')
        && rest[end] == b'"'
        && let Ok(s) = std::str::from_utf8(&rest[..end])
        && let Some(t) = ValueRef::Str(s).time()
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
