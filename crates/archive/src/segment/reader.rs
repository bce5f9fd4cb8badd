//! Reading a segment: trailer, footer and header first, then blocks on demand.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

use super::format::{self, BlockInfo, Footer, SegmentMeta};
use crate::block;
use crate::error::{Error, Result};

/// An open segment file. Opening checks the trailer, footer and header (sizes, CRCs, that the
/// blocks tile the space between header and footer); each block is checked against its CRC
/// when read.
#[derive(Debug)]
pub struct SegmentReader {
    path: PathBuf,
    file: Mutex<File>,
    meta: SegmentMeta,
    footer: Footer,
    len: u64,
}

impl SegmentReader {
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let fail = |m: String| Error::segment(&path, None, m);
        let mut file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        let min = (format::HEADER_FIXED + format::TRAILER_LEN) as u64;
        if len < min {
            return Err(fail(format!("{len} bytes is too short for a segment")));
        }
        let trailer = read_at(&mut file, len - format::TRAILER_LEN as u64, format::TRAILER_LEN)
            .map_err(|e| Error::io(&path, e))?;
        let (footer_offset, footer_len, footer_crc) = format::parse_trailer(&trailer).map_err(fail)?;
        if footer_offset.checked_add(u64::from(footer_len)) != Some(len - format::TRAILER_LEN as u64) {
            return Err(fail(format!(
                "the trailer puts the footer at {footer_offset}+{footer_len}, which does not end where the trailer starts"
            )));
        }
        let footer_bytes = read_at(&mut file, footer_offset, footer_len as usize).map_err(|e| Error::io(&path, e))?;
        if crc32c::crc32c(&footer_bytes) != footer_crc {
            return Err(fail("footer checksum mismatch".into()));
        }
        let footer = format::parse_footer(&footer_bytes).map_err(fail)?;

        let fixed = read_at(&mut file, 0, format::HEADER_FIXED).map_err(|e| Error::io(&path, e))?;
        let meta_len = format::meta_len(&fixed).map_err(fail)?;
        let header_len = format::HEADER_FIXED as u64 + u64::from(meta_len);
        if header_len > footer_offset {
            return Err(fail("the header runs into the footer".into()));
        }
        let meta_bytes =
            read_at(&mut file, format::HEADER_FIXED as u64, meta_len as usize).map_err(|e| Error::io(&path, e))?;
        let mut header = fixed;
        header.extend_from_slice(&meta_bytes);
        if crc32c::crc32c(&header) != footer.header_crc {
            return Err(fail("header checksum mismatch".into()));
        }
        let meta: SegmentMeta = serde_json::from_slice(&meta_bytes).map_err(|e| fail(format!("header meta: {e}")))?;

        check_tiling(&footer, header_len, footer_offset).map_err(fail)?;
        Ok(SegmentReader { path, file: Mutex::new(file), meta, footer, len })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn meta(&self) -> &SegmentMeta {
        &self.meta
    }

    /// The blocks, as the footer indexes them.
    pub fn blocks(&self) -> &[BlockInfo] {
        &self.footer.blocks
    }

    pub fn events(&self) -> u64 {
        self.footer.events
    }

    /// The smallest and largest event timestamp (microseconds); 0 and 0 without events.
    pub fn time_range(&self) -> (i64, i64) {
        (self.footer.min_ts, self.footer.max_ts)
    }

    /// The size of the file.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.footer.events == 0
    }

    /// The numbers of the blocks that may hold events in `from..=to` (microseconds).
    pub fn blocks_in_range(&self, from: i64, to: i64) -> Vec<usize> {
        (0..self.footer.blocks.len())
            .filter(|&i| {
                let b = &self.footer.blocks[i];
                b.max_ts >= from && b.min_ts <= to
            })
            .collect()
    }

    /// Block `i`'s bytes, checked against the footer's CRC.
    pub fn read_block_bytes(&self, i: usize) -> Result<Vec<u8>> {
        let info = self.footer.blocks.get(i).ok_or_else(|| {
            Error::segment(&self.path, Some(i), format!("no such block (of {})", self.footer.blocks.len()))
        })?;
        let bytes = {
            let mut file =
                self.file.lock().map_err(|_| Error::segment(&self.path, Some(i), "the file handle was poisoned"))?;
            read_at(&mut file, info.offset, info.len as usize).map_err(|e| Error::io(&self.path, e))?
        };
        if crc32c::crc32c(&bytes) != info.crc32c {
            return Err(Error::segment(&self.path, Some(i), "checksum mismatch"));
        }
        Ok(bytes)
    }

    /// Block `i`'s events.
    pub fn read_block(&self, i: usize) -> Result<Vec<Value>> {
        let bytes = self.read_block_bytes(i)?;
        let events = block::decode_block(&bytes).map_err(|e| Error::segment(&self.path, Some(i), e.to_string()))?;
        let expected = self.footer.blocks[i].events as usize;
        if events.len() != expected {
            return Err(Error::segment(
                &self.path,
                Some(i),
                format!("{} events, the footer says {expected}", events.len()),
            ));
        }
        Ok(events)
    }

    /// Every event, block after block.
    pub fn iter(&self) -> SegmentEvents<'_> {
        SegmentEvents { reader: self, next_block: 0, current: Vec::new().into_iter(), failed: false }
    }
}

impl<'a> IntoIterator for &'a SegmentReader {
    type Item = Result<Value>;
    type IntoIter = SegmentEvents<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The events of a segment; stops after the first error.
pub struct SegmentEvents<'a> {
    reader: &'a SegmentReader,
    next_block: usize,
    current: std::vec::IntoIter<Value>,
    failed: bool,
}

impl Iterator for SegmentEvents<'_> {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            if let Some(v) = self.current.next() {
                return Some(Ok(v));
            }
            if self.next_block >= self.reader.blocks().len() {
                return None;
            }
            let i = self.next_block;
            self.next_block += 1;
            match self.reader.read_block(i) {
                Ok(events) => self.current = events.into_iter(),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Checks that the blocks follow each other from the end of the header to the footer, and
/// that the footer's totals add up.
fn check_tiling(f: &Footer, header_len: u64, footer_offset: u64) -> Result<(), String> {
    let mut at = header_len;
    let mut events = 0u64;
    let mut range: Option<(i64, i64)> = None;
    for (i, b) in f.blocks.iter().enumerate() {
        if b.offset != at {
            return Err(format!("block {i} starts at {}, expected {at}", b.offset));
        }
        if b.min_ts > b.max_ts || b.events == 0 {
            return Err(format!("block {i} has a bad index entry"));
        }
        at = at.saturating_add(u64::from(b.len));
        events += u64::from(b.events);
        range = Some(match range {
            Some((lo, hi)) => (lo.min(b.min_ts), hi.max(b.max_ts)),
            None => (b.min_ts, b.max_ts),
        });
    }
    if at != footer_offset {
        return Err(format!("the blocks end at {at}, the footer starts at {footer_offset}"));
    }
    if events != f.events || range.unwrap_or((0, 0)) != (f.min_ts, f.max_ts) {
        return Err("the footer's totals do not match its blocks".into());
    }
    Ok(())
}

fn read_at(file: &mut File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0u8; len];
    file.read_exact(&mut buf)?;
    Ok(buf)
}
