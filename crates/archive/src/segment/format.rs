//! The byte layout of a segment file's header, footer and trailer.
//!
//! ```text
//! header   "MAMORISG" | version u8 = 1 | 3 zero bytes | meta_len u32 LE | meta JSON
//! blocks   block 0 | block 1 | ...                      (see the block module)
//! footer   count u32 LE | count × entry | events u64 LE | min_ts i64 LE | max_ts i64 LE
//!          | header_crc u32 LE
//! entry    offset u64 | length u32 | events u32 | min_ts i64 | max_ts i64 | crc32c u32
//!          (36 bytes, all little-endian; timestamps in microseconds since the epoch)
//! trailer  footer_offset u64 LE | footer_len u32 LE | footer_crc u32 LE | "MSEGEND1"
//! ```
//!
//! A reader starts from the fixed-size trailer at the end, so a file cut short (a crash before
//! `finish`) is recognised at once; every part is covered by a CRC32C, and the whole file by
//! the SHA-256 recorded in the manifest.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const MAGIC: [u8; 8] = *b"MAMORISG";
pub const END_MAGIC: [u8; 8] = *b"MSEGEND1";
pub const VERSION: u8 = 1;
pub const HEADER_FIXED: usize = 16;
pub const TRAILER_LEN: usize = 24;
pub const ENTRY_LEN: usize = 36;
/// The longest meta JSON a reader accepts.
pub const MAX_META: u32 = 64 * 1024;

/// What a segment holds: one tenant's events of one day (UTC), and how they were compressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentMeta {
    /// The tenant id (`organization.id`).
    pub tenant: String,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The zstd level of the blocks.
    pub level: i32,
}

/// One block as the footer indexes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Where the block starts in the file.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u32,
    pub events: u32,
    /// The smallest and largest event timestamp in it (microseconds since the epoch).
    pub min_ts: i64,
    pub max_ts: i64,
    /// CRC32C of its bytes.
    pub crc32c: u32,
}

/// The parsed footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    pub blocks: Vec<BlockInfo>,
    pub events: u64,
    pub min_ts: i64,
    pub max_ts: i64,
    pub header_crc: u32,
}

pub fn header(meta: &SegmentMeta) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(meta).map_err(|e| Error::Invalid(e.to_string()))?;
    let mut out = Vec::with_capacity(HEADER_FIXED + json.len());
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&[0; 3]);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    Ok(out)
}

/// Checks the fixed part of a header and returns the length of the meta JSON.
pub fn meta_len(fixed: &[u8]) -> Result<u32, String> {
    if fixed.len() < HEADER_FIXED || fixed[..8] != MAGIC {
        return Err("not a segment file (magic bytes differ)".into());
    }
    if fixed[8] != VERSION {
        return Err(format!("segment format version {}, this build reads {VERSION}", fixed[8]));
    }
    if fixed[9..12] != [0; 3] {
        return Err("reserved header bytes are not zero".into());
    }
    let len = u32::from_le_bytes([fixed[12], fixed[13], fixed[14], fixed[15]]);
    if len > MAX_META {
        return Err(format!("meta of {len} bytes is longer than {MAX_META}"));
    }
    Ok(len)
}

pub fn footer(f: &Footer) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + f.blocks.len() * ENTRY_LEN + 28);
    out.extend_from_slice(&(f.blocks.len() as u32).to_le_bytes());
    for b in &f.blocks {
        out.extend_from_slice(&b.offset.to_le_bytes());
        out.extend_from_slice(&b.len.to_le_bytes());
        out.extend_from_slice(&b.events.to_le_bytes());
        out.extend_from_slice(&b.min_ts.to_le_bytes());
        out.extend_from_slice(&b.max_ts.to_le_bytes());
        out.extend_from_slice(&b.crc32c.to_le_bytes());
    }
    out.extend_from_slice(&f.events.to_le_bytes());
    out.extend_from_slice(&f.min_ts.to_le_bytes());
    out.extend_from_slice(&f.max_ts.to_le_bytes());
    out.extend_from_slice(&f.header_crc.to_le_bytes());
    out
}

/// Little-endian fields from a slice whose length the caller has checked.
struct Le<'a>(&'a [u8]);

impl Le<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        let n = N.min(self.0.len());
        a[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        a
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.take())
    }
}

pub fn parse_footer(bytes: &[u8]) -> Result<Footer, String> {
    if bytes.len() < 4 {
        return Err("footer too short".into());
    }
    let mut r = Le(bytes);
    let count = r.u32() as usize;
    let expected = count.checked_mul(ENTRY_LEN).and_then(|n| n.checked_add(4 + 28));
    if expected != Some(bytes.len()) {
        return Err(format!("footer of {} bytes cannot hold {count} block entries", bytes.len()));
    }
    let mut blocks = Vec::with_capacity(count);
    for _ in 0..count {
        blocks.push(BlockInfo {
            offset: r.u64(),
            len: r.u32(),
            events: r.u32(),
            min_ts: r.i64(),
            max_ts: r.i64(),
            crc32c: r.u32(),
        });
    }
    Ok(Footer { blocks, events: r.u64(), min_ts: r.i64(), max_ts: r.i64(), header_crc: r.u32() })
}

pub fn trailer(footer_offset: u64, footer: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TRAILER_LEN);
    out.extend_from_slice(&footer_offset.to_le_bytes());
    out.extend_from_slice(&(footer.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(footer).to_le_bytes());
    out.extend_from_slice(&END_MAGIC);
    out
}

/// `(footer_offset, footer_len, footer_crc)` from the last [`TRAILER_LEN`] bytes.
pub fn parse_trailer(bytes: &[u8]) -> Result<(u64, u32, u32), String> {
    if bytes.len() != TRAILER_LEN || bytes[16..] != END_MAGIC {
        return Err("no segment trailer at the end (the file is cut short or not a segment)".into());
    }
    let mut r = Le(bytes);
    Ok((r.u64(), r.u32(), r.u32()))
}
