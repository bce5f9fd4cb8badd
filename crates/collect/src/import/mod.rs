//! `mamori logs import FILE...`: a streaming reader that turns a log file into batches of
//! events.
//!
//! The format (NDJSON or syslog text) is detected from the first non-empty line unless forced;
//! gzip is recognised by its magic bytes, not the file name, and may hold several members
//! (`cat a.gz b.gz`). Lines are read with a bounded buffer: a longer line is cut and flagged,
//! never a memory blow-up. Progress is reported as bytes taken from the file (compressed bytes
//! for `.gz`), to compare with [`Importer::total_bytes`]. The reader is blocking; an async
//! caller runs it under `spawn_blocking`.

mod lines;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use mamori_core::{Event, TenantDirectory};

use crate::metrics::{Transport, metrics};
use crate::ndjson::{self, NdjsonBatch};
use crate::receiver::attribute;
use crate::syslog::{self, ParseContext};
use crate::tags;
use lines::{CountingReader, read_line_bounded};

/// The format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Decide from the first non-empty line: `{` means NDJSON, anything else syslog.
    Auto,
    Ndjson,
    Syslog,
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: ImportFormat,
    /// `--tenant`: every event belongs to this tenant.
    pub tenant: Option<String>,
    /// `--sender`: the address the logs came from, attributed through `directory` like a live
    /// sender (and shown as `log.source.address` for syslog).
    pub sender: Option<IpAddr>,
    pub directory: Option<Arc<TenantDirectory>>,
    /// Zone of timestamps without an offset.
    pub timezone: TimeZone,
    /// Longer lines are cut and tagged `_truncated`.
    pub max_line_bytes: usize,
    /// Events per batch.
    pub batch_size: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            format: ImportFormat::Auto,
            tenant: None,
            sender: None,
            directory: None,
            timezone: syslog::default_timezone(),
            max_line_bytes: 64 * 1024,
            batch_size: 1000,
        }
    }
}

/// Why an import stopped; names the file and, for read errors, the line.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    /// Includes corrupt or cut-off gzip data.
    #[error("{path}: reading line {line} failed: {source}")]
    Read { path: PathBuf, line: u64, source: io::Error },
}

/// What an import has seen so far, for the CLI's summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportStats {
    pub lines: u64,
    pub events: u64,
    pub parse_failures: u64,
    pub truncated: u64,
}

/// A file being imported; iterate it for batches of events.
pub struct Importer {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    progress: Arc<AtomicU64>,
    total_bytes: u64,
    gzip: bool,
    format: ImportFormat,
    options: ImportOptions,
    /// The file's modification time: the reference for syslog timestamps without a year and
    /// the `@timestamp` of lines without one.
    file_time: Timestamp,
    line_no: u64,
    line: Vec<u8>,
    stats: ImportStats,
    done: bool,
}

impl Importer {
    pub fn open(path: &Path, mut options: ImportOptions) -> Result<Importer, ImportError> {
        options.directory.get_or_insert_with(Default::default);
        let open_error = |source| ImportError::Open { path: path.to_path_buf(), source };
        let file = File::open(path).map_err(open_error)?;
        let meta = file.metadata().map_err(open_error)?;
        let file_time = meta.modified().ok().and_then(|t| Timestamp::try_from(t).ok()).unwrap_or_else(Timestamp::now);
        let progress = Arc::new(AtomicU64::new(0));
        let mut raw = BufReader::new(CountingReader::new(file, progress.clone()));
        let gzip = raw.fill_buf().map_err(open_error)?.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead + Send> =
            if gzip { Box::new(BufReader::new(MultiGzDecoder::new(raw))) } else { Box::new(raw) };
        Ok(Importer {
            path: path.to_path_buf(),
            reader,
            progress,
            total_bytes: meta.len(),
            gzip,
            format: options.format,
            file_time,
            options,
            line_no: 0,
            line: Vec::new(),
            stats: ImportStats::default(),
            done: false,
        })
    }

    /// Size of the file on disk, the end of the progress bar.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Bytes taken from the file so far (compressed bytes for gzip).
    pub fn bytes_read(&self) -> u64 {
        self.progress.load(Ordering::Relaxed)
    }

    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// The format, once known (`Auto` until the first non-empty line has been read).
    pub fn format(&self) -> ImportFormat {
        self.format
    }

    pub fn stats(&self) -> ImportStats {
        self.stats
    }

    /// The next batch of at most `batch_size` events, `None` at the end of the file.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Event>>, ImportError> {
        if self.done {
            return Ok(None);
        }
        let mut events = Vec::new();
        while events.len() < self.options.batch_size.max(1) {
            let max = self.options.max_line_bytes;
            let full_len = match read_line_bounded(&mut self.reader, max, &mut self.line) {
                Ok(Some(n)) => n,
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(source) => {
                    self.done = true;
                    return Err(ImportError::Read { path: self.path.clone(), line: self.line_no + 1, source });
                }
            };
            self.line_no += 1;
            self.stats.lines += 1;
            if let Some(event) = self.line_to_event(full_len) {
                self.count(&event);
                events.push(event);
            }
        }
        Ok((!events.is_empty()).then_some(events))
    }

    fn line_to_event(&mut self, full_len: usize) -> Option<Event> {
        let trimmed = crate::text::trim_terminators(&self.line);
        if trimmed.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        if self.format == ImportFormat::Auto {
            let first = trimmed.iter().find(|b| !b.is_ascii_whitespace());
            self.format = match first {
                Some(b'{') => ImportFormat::Ndjson,
                _ => ImportFormat::Syslog,
            };
        }
        let now = Timestamp::now();
        let original_len = if full_len > self.line.len() { full_len } else { trimmed.len() };
        match self.format {
            ImportFormat::Ndjson => self.ndjson_event(original_len, now),
            _ => Some(self.syslog_event(original_len, now)),
        }
    }

    fn ndjson_event(&self, original_len: usize, now: Timestamp) -> Option<Event> {
        let max = self.options.max_line_bytes;
        let parsed = ndjson::parse_line(&self.line, original_len, max, now)?;
        let mut one = NdjsonBatch::default();
        let line_no = usize::try_from(self.line_no).unwrap_or(usize::MAX);
        one.push(line_no, parsed, self.options.tenant.as_deref(), Transport::Import);
        let mut event = one.events.pop()?;
        if self.options.tenant.is_none() && event.organization.id.is_none() {
            self.attribute(&mut event);
        }
        Some(event)
    }

    fn syslog_event(&self, original_len: usize, now: Timestamp) -> Event {
        let mut ctx = ParseContext::new(self.file_time, self.options.timezone.clone(), self.options.max_line_bytes);
        if let Some(ip) = self.options.sender {
            ctx = ctx.with_sender(SocketAddr::new(ip, 0));
        }
        let raw = crate::text::trim_terminators(&self.line);
        let mut event = syslog::parse_cut(raw, original_len, &ctx);
        match &self.options.tenant {
            Some(tenant) => event.set_tenant(tenant),
            None => self.attribute(&mut event),
        }
        event.stamp_ingestion(now);
        metrics().count_event(Transport::Import, &event);
        event
    }

    /// Attribution by `--sender`; without one (or without a directory) the event is
    /// unassigned and tagged, as a live event from an unknown sender would be.
    fn attribute(&self, event: &mut Event) {
        match (self.options.sender, &self.options.directory) {
            (Some(ip), Some(directory)) => {
                attribute(event, ip, directory);
            }
            _ => {
                event.set_tenant(mamori_core::event::UNASSIGNED);
                event.add_tag(tags::UNASSIGNED_SENDER);
            }
        }
    }

    fn count(&mut self, event: &Event) {
        let has = |tag: &str| event.tags.iter().any(|t| t == tag);
        self.stats.events += 1;
        self.stats.parse_failures += u64::from(has(tags::PARSE_FAILURE));
        self.stats.truncated += u64::from(has(tags::TRUNCATED));
    }
}

impl Iterator for Importer {
    type Item = Result<Vec<Event>, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}
