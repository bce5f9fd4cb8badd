//! Reading a block in place (from a memory map or a buffer).

use std::borrow::Cow;
use std::sync::Arc;

use mamori_core::compact;

use super::bytes::{Cursor, U32s};
use super::column::ColumnReader;
use super::{BlockError, HEADER_LEN, MAGIC};

/// The bytes a block lives in.
pub type Bytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// A checked block.
pub struct Block {
    bytes: Bytes,
    rows: usize,
    pub min_ts: i64,
    pub max_ts: i64,
    pub min_lsn: u64,
    pub max_lsn: u64,
    times_at: usize,
    lsns_at: usize,
    source: (usize, usize),
    /// Column paths and their byte ranges.
    columns: Vec<(Box<str>, usize, usize)>,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Block({} rows, lsn {}..={})", self.rows, self.min_lsn, self.max_lsn)
    }
}

impl Block {
    /// Checks the block's checksum and structure.
    pub fn open(bytes: Bytes) -> Result<Block, BlockError> {
        let block = Block::open_unverified(bytes)?;
        block.verify()?;
        Ok(block)
    }

    /// Checks the structure only. Opening a large hot tier must not read every byte of it;
    /// the accessors check their bounds, so damage can make results wrong but never crashes.
    pub fn open_unverified(bytes: Bytes) -> Result<Block, BlockError> {
        let b: &[u8] = (*bytes).as_ref();
        if b.len() < HEADER_LEN || &b[..4] != MAGIC {
            return Err(BlockError("not a hot block (bad magic)".into()));
        }
        let len = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes")) as usize;
        if len != b.len() {
            return Err(BlockError(format!("length {len} recorded, {} present", b.len())));
        }
        let mut c = Cursor::new(b);
        c.pos = HEADER_LEN;
        let rows = c.u32()? as usize;
        let (min_ts, max_ts, min_lsn, max_lsn) = (c.i64()?, c.i64()?, c.u64()?, c.u64()?);
        let times_at = c.pos;
        c.take(rows * 8)?;
        let lsns_at = c.pos;
        c.take(rows * 8)?;
        let source_len = c.u32()? as usize;
        let source = (c.pos, source_len);
        c.take(source_len)?;
        let n = c.u32()? as usize;
        let mut columns = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let plen = c.u16()? as usize;
            let path: Box<str> = c.str(plen)?.into();
            let (off, len) = (c.u32()? as usize, c.u32()? as usize);
            if off.checked_add(len).is_none_or(|end| end > b.len()) {
                return Err(BlockError(format!("column {path} lies outside the block")));
            }
            columns.push((path, off, len));
        }
        Ok(Block { bytes, rows, min_ts, max_ts, min_lsn, max_lsn, times_at, lsns_at, source, columns })
    }

    /// Checks the block's checksum.
    pub fn verify(&self) -> Result<(), BlockError> {
        let b = self.raw();
        let crc = u32::from_le_bytes(b[4..8].try_into().expect("4 bytes"));
        if crc32c::crc32c(&b[8..]) != crc {
            return Err(BlockError("checksum mismatch".into()));
        }
        Ok(())
    }

    fn raw(&self) -> &[u8] {
        (*self.bytes).as_ref()
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The `@timestamp` of each row in microseconds (`i64::MIN` when absent).
    pub fn time(&self, row: usize) -> i64 {
        let at = self.times_at + row * 8;
        i64::from_le_bytes(self.raw()[at..at + 8].try_into().expect("8 bytes"))
    }

    pub fn lsn(&self, row: usize) -> u64 {
        let at = self.lsns_at + row * 8;
        u64::from_le_bytes(self.raw()[at..at + 8].try_into().expect("8 bytes"))
    }

    /// The column of a dotted field path, if any event of the block has it.
    pub fn column(&self, path: &str) -> Result<Option<ColumnReader<'_>>, BlockError> {
        match self.columns.iter().find(|(p, _, _)| &**p == path) {
            Some(&(_, off, len)) => ColumnReader::parse(&self.raw()[off..off + len], self.rows)
                .map(Some)
                .map_err(|e| BlockError(format!("column {path}: {}", e.0))),
            None => Ok(None),
        }
    }

    /// Every column path.
    pub fn column_paths(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(p, _, _)| &**p)
    }

    /// The section of column `path`, as written (for tests comparing builds).
    #[cfg(test)]
    pub fn column_section(&self, path: &str) -> Option<&[u8]> {
        let &(_, off, len) = self.columns.iter().find(|(p, _, _)| &**p == path)?;
        Some(&self.raw()[off..off + len])
    }

    /// The events' records, decompressed.
    pub fn sources(&self) -> Result<Sources, BlockError> {
        let (at, len) = self.source;
        let packed = &self.raw()[at..at + len];
        // LZ4 expands at most 255 times: a larger size in the prefix is damage, not data, and
        // must not become an allocation.
        let declared = packed.get(..4).map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize);
        if declared > len.saturating_mul(255) + 64 {
            return Err(BlockError(format!("events: {declared} bytes declared in {len}")));
        }
        let plain = lz4_flex::decompress_size_prepended(packed).map_err(|e| BlockError(format!("events: {e}")))?;
        if plain.len() < self.rows * 4 {
            return Err(BlockError("events: too short".into()));
        }
        let ends = U32s(&plain[..self.rows * 4]);
        let body = plain.len() - self.rows * 4;
        let mut prev = 0;
        for e in ends.iter() {
            if e < prev || e as usize > body {
                return Err(BlockError("events: damaged offsets".into()));
            }
            prev = e;
        }
        Ok(Sources { plain, rows: self.rows })
    }
}

/// The decompressed events of a block.
pub struct Sources {
    plain: Vec<u8>,
    rows: usize,
}

impl Sources {
    /// The JSON of row `row`: compact records rendered. A damaged compact record gives its
    /// bytes, which no JSON reader accepts, so the row is skipped or reported where it is read.
    pub fn json(&self, row: usize) -> Cow<'_, [u8]> {
        let record = self.get(row);
        if !compact::is_compact(record) {
            return Cow::Borrowed(record);
        }
        let mut json = Vec::with_capacity(record.len() * 2);
        match compact::render_json(record, &mut json) {
            Ok(()) => Cow::Owned(json),
            Err(_) => Cow::Borrowed(record),
        }
    }

    /// The record of row `row` as it was added: JSON or compact.
    pub fn get(&self, row: usize) -> &[u8] {
        let ends = U32s(&self.plain[..self.rows * 4]);
        let body = &self.plain[self.rows * 4..];
        let start = if row == 0 { 0 } else { ends.get(row - 1) as usize };
        &body[start..ends.get(row) as usize]
    }
}
