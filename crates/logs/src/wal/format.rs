//! On-disk format of write-ahead log segments.
//!
//! A segment is a 16-byte header followed by records. Each record is
//! `[payload length u32][crc32c u32][lsn u64][payload]`, little-endian, where the CRC covers the
//! LSN and the payload. Segment files are named after the LSN of their first record, so a reader
//! can find where an LSN lives without an index.

use std::path::{Path, PathBuf};

pub const SEGMENT_MAGIC: &[u8; 12] = b"MAMORI-WAL\0\0";
pub const SEGMENT_VERSION: u32 = 1;
pub const SEGMENT_HEADER_LEN: u64 = 16;
pub const RECORD_HEADER_LEN: usize = 16;
/// A single record larger than this is refused: no event is that big, and a length field read
/// from a damaged file must not make the reader allocate gigabytes.
pub const MAX_RECORD_LEN: usize = 64 << 20;

pub fn segment_header() -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut h = [0u8; SEGMENT_HEADER_LEN as usize];
    h[..12].copy_from_slice(SEGMENT_MAGIC);
    h[12..].copy_from_slice(&SEGMENT_VERSION.to_le_bytes());
    h
}

pub fn check_segment_header(h: &[u8]) -> Result<(), String> {
    if h.len() < SEGMENT_HEADER_LEN as usize || &h[..12] != SEGMENT_MAGIC {
        return Err("not a mamori WAL segment (bad magic)".into());
    }
    let version = u32::from_le_bytes(h[12..16].try_into().expect("4 bytes"));
    if version != SEGMENT_VERSION {
        return Err(format!("WAL segment version {version} is not supported (expected {SEGMENT_VERSION})"));
    }
    Ok(())
}

pub fn record_crc(lsn: u64, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&lsn.to_le_bytes()), payload)
}

/// Appends one encoded record to `out`.
pub fn encode_record(out: &mut Vec<u8>, lsn: u64, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&record_crc(lsn, payload).to_le_bytes());
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(payload);
}

/// A record header as read from disk, not yet checked against its payload.
#[derive(Debug, Clone, Copy)]
pub struct RecordHeader {
    pub len: usize,
    pub crc: u32,
    pub lsn: u64,
}

pub fn decode_header(b: &[u8]) -> RecordHeader {
    RecordHeader {
        len: u32::from_le_bytes(b[0..4].try_into().expect("4 bytes")) as usize,
        crc: u32::from_le_bytes(b[4..8].try_into().expect("4 bytes")),
        lsn: u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")),
    }
}

pub fn segment_path(dir: &Path, first_lsn: u64) -> PathBuf {
    dir.join(format!("{first_lsn:020}.wal"))
}

/// The segments in `dir`, sorted by first LSN.
pub fn list_segments(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".wal") else {
            continue;
        };
        if let Ok(lsn) = stem.parse::<u64>() {
            out.push((lsn, path));
        }
    }
    out.sort();
    Ok(out)
}
