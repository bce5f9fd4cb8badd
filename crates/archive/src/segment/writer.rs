//! Writing a segment.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::format::{self, BlockInfo, Footer, SegmentMeta};
use crate::block::{BlockBuilder, Compression, MAX_WINDOW_LOG};
use crate::error::{Error, Result};

/// When a block is cut and how it is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentOptions {
    /// A block is cut after this many events...
    pub block_events: usize,
    /// ...or once its events take about this many bytes as JSON, which bounds the memory a
    /// writer (and a reader decoding one block) needs.
    pub block_bytes: u64,
    /// zstd long-distance matching with a window of 2^n bytes (see `Compression`).
    pub long_window: Option<u32>,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions { block_events: 16 * 1024, block_bytes: 16 * 1024 * 1024, long_window: None }
    }
}

/// What a finished segment is: what the manifest records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    pub path: PathBuf,
    pub events: u64,
    /// The file's size.
    pub bytes: u64,
    /// SHA-256 of the whole file, lowercase hex.
    pub sha256: String,
    /// The smallest and largest event timestamp (microseconds since the epoch); 0 and 0 for
    /// a segment without events.
    pub min_ts: i64,
    pub max_ts: i64,
}

/// Writes one segment file. Dropping it without [`SegmentWriter::finish`] removes the
/// temporary file.
pub struct SegmentWriter {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
    sha: Sha256,
    offset: u64,
    header_crc: u32,
    compression: Compression,
    options: SegmentOptions,
    builder: BlockBuilder,
    block_range: Option<(i64, i64)>,
    blocks: Vec<BlockInfo>,
    events: u64,
    range: Option<(i64, i64)>,
}

impl SegmentWriter {
    /// Starts `path` (which must not exist yet) with the default options.
    pub fn create(path: impl AsRef<Path>, meta: SegmentMeta) -> Result<Self> {
        Self::create_with(path, meta, SegmentOptions::default())
    }

    pub fn create_with(path: impl AsRef<Path>, meta: SegmentMeta, options: SegmentOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        super::check_tenant(&meta.tenant)?;
        super::check_day(&meta.day)?;
        if !(1..=22).contains(&meta.level) {
            return Err(Error::Invalid(format!("zstd level {} is not 1 to 22", meta.level)));
        }
        if options.block_events == 0
            || options.block_events > u32::MAX as usize
            || options.long_window.is_some_and(|w| !(10..=MAX_WINDOW_LOG).contains(&w))
        {
            return Err(Error::Invalid(format!("segment options {options:?}")));
        }
        if path.exists() {
            return Err(Error::Invalid(format!("{} exists already", path.display())));
        }
        let Some(name) = path.file_name() else {
            return Err(Error::Invalid(format!("{} is not a file path", path.display())));
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut tmp_name = name.to_os_string();
        tmp_name.push(".tmp");
        let tmp = path.with_file_name(tmp_name);
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let header = format::header(&meta)?;
        let mut w = SegmentWriter {
            path,
            tmp,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            sha: Sha256::new(),
            offset: 0,
            header_crc: crc32c::crc32c(&header),
            compression: Compression { level: meta.level, long_window: options.long_window },
            options,
            builder: BlockBuilder::new(),
            block_range: None,
            blocks: Vec::new(),
            events: 0,
            range: None,
        };
        w.write(&header)?;
        Ok(w)
    }

    /// The file this writer will have written once finished.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Events pushed so far.
    pub fn events(&self) -> u64 {
        self.events + self.builder.events() as u64
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let file = self.file.as_mut().ok_or_else(|| Error::Invalid("the segment writer is closed".into()))?;
        file.write_all(bytes).map_err(|e| Error::io(&self.tmp, e))?;
        self.sha.update(bytes);
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Adds one event with its timestamp (microseconds since the epoch).
    pub fn push(&mut self, event: Value, timestamp_micros: i64) -> Result<()> {
        self.push_ref(&event, timestamp_micros)
    }

    /// Like [`SegmentWriter::push`], for an event the caller keeps.
    pub fn push_ref(&mut self, event: &Value, timestamp_micros: i64) -> Result<()> {
        match self.builder.push(event) {
            Err(Error::BlockFull(_)) if self.builder.events() > 0 => {
                self.flush_block()?;
                self.builder.push(event)?;
            }
            other => other?,
        }
        let t = timestamp_micros;
        self.block_range = Some(match self.block_range {
            Some((lo, hi)) => (lo.min(t), hi.max(t)),
            None => (t, t),
        });
        if self.builder.events() >= self.options.block_events || self.builder.json_bytes() >= self.options.block_bytes {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> Result<()> {
        let Some((min_ts, max_ts)) = self.block_range.take() else {
            return Ok(());
        };
        let events = self.builder.events();
        let bytes = self.builder.finish(self.compression)?;
        let info = BlockInfo {
            offset: self.offset,
            len: u32::try_from(bytes.len()).map_err(|_| Error::Encode(format!("a block of {} bytes", bytes.len())))?,
            events: events as u32,
            min_ts,
            max_ts,
            crc32c: crc32c::crc32c(&bytes),
        };
        self.write(&bytes)?;
        self.blocks.push(info);
        self.events += events as u64;
        self.range = Some(match self.range {
            Some((lo, hi)) => (lo.min(min_ts), hi.max(max_ts)),
            None => (min_ts, max_ts),
        });
        Ok(())
    }

    /// Writes the last block and the footer, fsyncs, and renames the file into place.
    pub fn finish(mut self) -> Result<SegmentInfo> {
        self.flush_block()?;
        let (min_ts, max_ts) = self.range.unwrap_or((0, 0));
        let footer = format::footer(&Footer {
            blocks: std::mem::take(&mut self.blocks),
            events: self.events,
            min_ts,
            max_ts,
            header_crc: self.header_crc,
        });
        let footer_offset = self.offset;
        self.write(&footer)?;
        self.write(&format::trailer(footer_offset, &footer))?;
        let file = self.file.take().ok_or_else(|| Error::Invalid("closed".into()))?;
        let file = file.into_inner().map_err(|e| Error::io(&self.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        drop(file);
        fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        sync_dir(&self.path)?;
        Ok(SegmentInfo {
            path: self.path.clone(),
            events: self.events,
            bytes: self.offset,
            sha256: hex::encode(std::mem::take(&mut self.sha).finalize()),
            min_ts,
            max_ts,
        })
    }
}

impl Drop for SegmentWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Makes a rename or a new file in `path`'s directory durable.
pub(crate) fn sync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    Ok(())
}
