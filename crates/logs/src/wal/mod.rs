//! The write-ahead log: every accepted event is here, durable, before its sender is told so.
//!
//! Records carry a CRC and a log sequence number (LSN). A dedicated thread appends with group
//! commit; consumers (the indexer) read the log back from their own checkpoint, so nothing
//! acknowledged is lost when the process dies, and slow consumers never make writers drop.

mod format;
mod reader;
mod recovery;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use mamori_core::sink::{EncodedEvents, Receipt, SubmitError};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{mpsc, oneshot};

pub use reader::{WalBatch, WalReader, WalRecord};
pub use recovery::SegmentScan;
pub use writer::free_bytes;

use format::*;
use writer::{WriteRequest, Writer};

/// How the log is set up.
#[derive(Debug, Clone)]
pub struct WalConfig {
    pub dir: PathBuf,
    /// A segment is closed once it reaches this size.
    pub segment_bytes: u64,
    /// Appends fail with `StorageFull` when less than this is free on the disk.
    pub min_free_bytes: u64,
    /// Batches that may wait for the writer before `append` itself waits (back-pressure).
    pub queue_depth: usize,
}

impl WalConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        WalConfig { dir: dir.into(), segment_bytes: 64 << 20, min_free_bytes: 256 << 20, queue_depth: 256 }
    }
}

/// What opening the log found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub segments: usize,
    pub records: u64,
    pub last_lsn: u64,
    /// One line per segment that was cut, saying where and why.
    pub repairs: Vec<String>,
    pub bytes_cut: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("WAL directory {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Metrics of the log, registered once per process.
#[derive(Clone)]
pub(crate) struct WalMetrics {
    records: Counter,
    bytes: Counter,
    fsyncs: Counter,
    rejected_full: Counter,
    write_errors: Counter,
    durable_lsn: Gauge,
    repaired_bytes: Counter,
}

fn metrics() -> &'static WalMetrics {
    static M: OnceLock<WalMetrics> = OnceLock::new();
    M.get_or_init(|| {
        let m = WalMetrics {
            records: Counter::default(),
            bytes: Counter::default(),
            fsyncs: Counter::default(),
            rejected_full: Counter::default(),
            write_errors: Counter::default(),
            durable_lsn: Gauge::default(),
            repaired_bytes: Counter::default(),
        };
        use mamori_core::metrics::register;
        register("wal_records", "Records appended to the write-ahead log", m.records.clone());
        register("wal_bytes", "Bytes appended to the write-ahead log", m.bytes.clone());
        register("wal_fsyncs", "Group commits (one fdatasync each)", m.fsyncs.clone());
        register("wal_rejected_full", "Batches refused because the log disk is full", m.rejected_full.clone());
        register("wal_write_errors", "Batches refused because of another write error", m.write_errors.clone());
        register("wal_durable_lsn", "Last durable log sequence number", m.durable_lsn.clone());
        register("wal_repaired_bytes", "Bytes cut from damaged WAL tails at startup", m.repaired_bytes.clone());
        m
    })
}

/// State shared by the writer thread, the log handle and readers.
pub(crate) struct Shared {
    durable: Mutex<u64>,
    durable_changed: Condvar,
    durable_watch: tokio::sync::watch::Sender<u64>,
    active_segment: AtomicU64,
}

impl Shared {
    fn publish_durable(&self, lsn: u64) {
        *self.durable.lock().unwrap_or_else(|e| e.into_inner()) = lsn;
        self.durable_changed.notify_all();
        self.durable_watch.send_replace(lsn);
        metrics().durable_lsn.set(lsn as i64);
    }

    fn durable_lsn(&self) -> u64 {
        *self.durable.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the durable LSN exceeds `lsn` or `wait` passes; returns the durable LSN.
    fn wait_durable_beyond(&self, lsn: u64, wait: Duration) -> u64 {
        let guard = self.durable.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) =
            self.durable_changed.wait_timeout_while(guard, wait, |d| *d <= lsn).unwrap_or_else(|e| e.into_inner());
        *guard
    }
}

/// The open log. Appends go through a bounded queue to the writer thread.
pub struct Wal {
    dir: PathBuf,
    tx: Mutex<Option<mpsc::Sender<WriteRequest>>>,
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Wal {
    /// Opens (or creates) the log, repairing damaged tails, and starts the writer thread.
    pub fn open(config: &WalConfig) -> Result<(Wal, RecoveryReport), WalError> {
        let io = |source| WalError::Io { path: config.dir.clone(), source };
        std::fs::create_dir_all(&config.dir).map_err(io)?;
        let report = recover(&config.dir).map_err(io)?;
        let next_lsn = report.last_lsn + 1;
        // Always write into a fresh segment after a restart: the old tail stays as it was read.
        let (file, len) = writer::create_segment(&config.dir, next_lsn).map_err(io)?;
        remove_empty_segments_before(&config.dir, next_lsn).map_err(io)?;
        let (durable_watch, _) = tokio::sync::watch::channel(report.last_lsn);
        let shared = Arc::new(Shared {
            durable: Mutex::new(report.last_lsn),
            durable_changed: Condvar::new(),
            durable_watch,
            active_segment: AtomicU64::new(next_lsn),
        });
        metrics().durable_lsn.set(report.last_lsn as i64);
        metrics().repaired_bytes.inc_by(report.bytes_cut);
        let writer = Writer {
            dir: config.dir.clone(),
            file,
            segment_first_lsn: next_lsn,
            segment_len: len,
            next_lsn,
            segment_bytes: config.segment_bytes.max(4096),
            min_free_bytes: config.min_free_bytes,
            shared: shared.clone(),
            metrics: metrics().clone(),
        };
        let (tx, rx) = mpsc::channel(config.queue_depth.max(1));
        let thread = std::thread::Builder::new().name("mamori-wal".into()).spawn(move || writer.run(rx)).map_err(io)?;
        let wal = Wal { dir: config.dir.clone(), tx: Mutex::new(Some(tx)), shared, thread: Mutex::new(Some(thread)) };
        Ok((wal, report))
    }

    /// Appends records; resolves once all of them are durable. Waits while the writer's queue
    /// is full.
    pub async fn append(&self, payloads: EncodedEvents) -> Result<Receipt, SubmitError> {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone().ok_or(SubmitError::Closed)?;
        let (done, rx) = oneshot::channel();
        tx.send(WriteRequest { payloads, done }).await.map_err(|_| SubmitError::Closed)?;
        rx.await.map_err(|_| SubmitError::Closed)?
    }

    /// Blocking form of [`Wal::append`] for callers outside an async runtime.
    pub fn append_blocking(&self, payloads: EncodedEvents) -> Result<Receipt, SubmitError> {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone().ok_or(SubmitError::Closed)?;
        let (done, rx) = oneshot::channel();
        tx.blocking_send(WriteRequest { payloads, done }).map_err(|_| SubmitError::Closed)?;
        rx.blocking_recv().map_err(|_| SubmitError::Closed)?
    }

    pub fn durable_lsn(&self) -> u64 {
        self.shared.durable_lsn()
    }

    /// A receiver that changes whenever more records become durable.
    pub fn watch_durable(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.durable_watch.subscribe()
    }

    /// A reader returning the durable records after `after_lsn`.
    pub fn reader(&self, after_lsn: u64) -> WalReader {
        WalReader::new(self.dir.clone(), self.shared.clone(), after_lsn)
    }

    /// Deletes whole segments whose records are all at or below `lsn` (every consumer has
    /// them). The segment being written is never deleted.
    pub fn release_through(&self, lsn: u64) -> std::io::Result<usize> {
        let active = self.shared.active_segment.load(Ordering::Acquire);
        let segments = list_segments(&self.dir)?;
        let mut removed = 0;
        for pair in segments.windows(2) {
            let ((first, path), (next_first, _)) = (&pair[0], &pair[1]);
            if *first < active && *next_first <= lsn + 1 {
                std::fs::remove_file(path)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Bytes currently held by segment files.
    pub fn disk_bytes(&self) -> u64 {
        list_segments(&self.dir)
            .map(|s| s.iter().filter_map(|(_, p)| p.metadata().ok()).map(|m| m.len()).sum())
            .unwrap_or(0)
    }

    /// Stops accepting appends, lets the writer finish what is queued, and joins it.
    pub fn close(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.close();
    }
}

/// Scans every segment; cuts each at its first damaged record.
fn recover(dir: &Path) -> std::io::Result<RecoveryReport> {
    let segments = list_segments(dir)?;
    let mut report = RecoveryReport { segments: segments.len(), ..Default::default() };
    for (first, path) in &segments {
        let scan = recovery::scan_segment(path, *first)?;
        if let Some(damage) = &scan.damage {
            let cut = scan.file_len - scan.valid_len.min(scan.file_len);
            let msg = format!("{}: {damage}; cut {cut} bytes, keeping {} good records", path.display(), scan.records);
            tracing::warn!("{msg}");
            report.repairs.push(msg);
            report.bytes_cut += cut;
            if scan.valid_len < SEGMENT_HEADER_LEN {
                std::fs::remove_file(path)?;
            } else {
                let f = std::fs::OpenOptions::new().write(true).open(path)?;
                f.set_len(scan.valid_len)?;
                f.sync_all()?;
            }
        }
        report.records += scan.records;
        if let Some(last) = scan.last_lsn {
            report.last_lsn = report.last_lsn.max(last);
        } else {
            // An empty segment still proves LSNs up to first-1 were used.
            report.last_lsn = report.last_lsn.max(first.saturating_sub(1));
        }
    }
    Ok(report)
}

/// Removes segments holding no records that are older than the fresh active segment.
fn remove_empty_segments_before(dir: &Path, active: u64) -> std::io::Result<()> {
    for (first, path) in list_segments(dir)? {
        if first < active && path.metadata()?.len() <= SEGMENT_HEADER_LEN {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
