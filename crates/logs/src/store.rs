//! The log store as the rest of mamori sees it: a sink that makes events durable, a search over
//! everything kept, and the background upkeep (archiving, retention).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use mamori_core::config::LogsConfig;
use mamori_core::sink::EventSink;
use serde::Serialize;

use crate::cold::ColdStore;
use crate::error::LogError;
use crate::hot::HotStore;
use crate::indexer::{Indexer, IndexerConfig};
use crate::maintenance::{self, MaintenanceReport};
use crate::retention::RetentionPolicy;
use crate::search::{SearchRequest, SearchResponse};
use crate::sink::LogSink;
use crate::wal::{RecoveryReport, Wal, WalConfig};

/// Where and how the store keeps its data.
#[derive(Debug, Clone)]
pub struct LogStoreConfig {
    /// The store's directory (`<data_dir>/logs`): `wal/`, `hot/`, `archive/`.
    pub dir: PathBuf,
    pub wal_segment_bytes: u64,
    pub min_free_bytes: u64,
    pub indexer: IndexerConfig,
    /// zstd level of archive segments.
    pub archive_level: i32,
    /// How often archiving and retention run in the background (`None`: only when asked).
    pub maintenance_interval: Option<Duration>,
}

impl LogStoreConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LogStoreConfig {
            dir: dir.into(),
            wal_segment_bytes: 64 << 20,
            min_free_bytes: 256 << 20,
            indexer: IndexerConfig::default(),
            archive_level: 9,
            maintenance_interval: None,
        }
    }

    /// Settings from the `[logs]` section of `mamori.toml`.
    pub fn from_config(data_dir: &Path, logs: &LogsConfig) -> Self {
        LogStoreConfig {
            dir: data_dir.join("logs"),
            wal_segment_bytes: logs.wal_segment_mb << 20,
            min_free_bytes: logs.min_free_disk_mb << 20,
            indexer: IndexerConfig {
                commit_interval: Duration::from_millis(logs.commit_interval_ms),
                max_open_writers: 3,
            },
            archive_level: 9,
            maintenance_interval: Some(Duration::from_secs(600)),
        }
    }
}

/// Numbers an operator (and `/api/v1/status`) wants to see.
#[derive(Debug, Clone, Serialize)]
pub struct LogStats {
    pub durable_lsn: u64,
    pub indexed_lsn: u64,
    pub wal_bytes: u64,
    pub hot_partitions: usize,
    pub hot_events: u64,
    pub archive_segments: usize,
    pub archive_bytes: u64,
    pub archive_events: u64,
    pub archive_head: String,
    pub indexer_failed: bool,
}

/// The open store. One process holds it (a lock file says which).
pub struct LogStore {
    dir: PathBuf,
    wal: Arc<Wal>,
    hot: Arc<HotStore>,
    cold: Arc<ColdStore>,
    indexer: Mutex<Option<Indexer>>,
    retention: RwLock<RetentionPolicy>,
    maintenance: Mutex<Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
    /// Live consumers of accepted events (detection), see [`crate::tap`].
    tap: crate::tap::Tap,
    _lock: File,
}

impl LogStore {
    /// Opens the store, repairs a damaged WAL tail, re-indexes what the last run did not
    /// commit, and starts the indexer (and the upkeep thread when configured).
    pub fn open(config: LogStoreConfig) -> Result<(Arc<LogStore>, RecoveryReport), LogError> {
        std::fs::create_dir_all(&config.dir).map_err(|e| LogError::io(&config.dir, e))?;
        let lock = lock_exclusive(&config.dir)?;
        let wal_config = WalConfig {
            dir: config.dir.join("wal"),
            segment_bytes: config.wal_segment_bytes,
            min_free_bytes: config.min_free_bytes,
            queue_depth: 256,
        };
        let (wal, report) = Wal::open(&wal_config)?;
        let wal = Arc::new(wal);
        let hot = Arc::new(HotStore::open(&config.dir.join("hot"))?);
        let cold = Arc::new(ColdStore::open(&config.dir.join("archive"), config.archive_level)?);
        let indexer = Indexer::start(wal.clone(), hot.clone(), config.indexer.clone())?;
        let store = Arc::new(LogStore {
            dir: config.dir.clone(),
            wal,
            hot,
            cold,
            indexer: Mutex::new(Some(indexer)),
            retention: RwLock::new(RetentionPolicy::default()),
            maintenance: Mutex::new(None),
            tap: crate::tap::Tap::default(),
            _lock: lock,
        });
        if let Some(every) = config.maintenance_interval {
            store.start_maintenance(every);
        }
        Ok((store, report))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where receivers hand over events.
    pub fn sink(&self) -> Arc<dyn EventSink> {
        Arc::new(LogSink::with_tap(self.wal.clone(), self.tap.clone()))
    }

    /// Shows every durable batch to `f` (live detection); once per store. `false` when a tap
    /// is installed already.
    pub fn set_tap(&self, f: Arc<crate::tap::TapFn>) -> bool {
        self.tap.set(f)
    }

    /// Searches hot and cold. Blocking.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, LogError> {
        crate::search::search(&self.hot, &self.cold, req)
    }

    /// Waits until everything up to `lsn` is searchable.
    pub fn wait_indexed(&self, lsn: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.indexed_lsn() >= lsn {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn durable_lsn(&self) -> u64 {
        self.wal.durable_lsn()
    }

    pub fn indexed_lsn(&self) -> u64 {
        self.indexer.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map_or(0, |i| i.committed_lsn())
    }

    /// Applies a new retention policy (after a configuration change).
    pub fn set_retention(&self, policy: RetentionPolicy) {
        *self.retention.write().unwrap_or_else(|e| e.into_inner()) = policy;
    }

    pub fn retention(&self) -> RetentionPolicy {
        self.retention.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Archives closed days and applies retention, as the upkeep thread does periodically.
    pub fn run_maintenance(&self, now: Timestamp) -> Result<MaintenanceReport, LogError> {
        let guard = self.indexer.lock().unwrap_or_else(|e| e.into_inner());
        let Some(indexer) = guard.as_ref() else {
            return Err(LogError::Index { path: self.dir.clone(), message: "the store is closed".into() });
        };
        maintenance::run(&self.hot, &self.cold, indexer, &self.retention(), now)
    }

    /// Checks the archive's hash chain and every segment.
    pub fn verify(&self) -> Result<mamori_archive::VerifyReport, LogError> {
        self.cold.verify()
    }

    pub fn stats(&self) -> LogStats {
        let (archive_segments, archive_bytes, archive_events) = self.cold.usage();
        let indexer_failed = self
            .indexer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|i| i.state.failed.load(std::sync::atomic::Ordering::Acquire));
        LogStats {
            durable_lsn: self.durable_lsn(),
            indexed_lsn: self.indexed_lsn(),
            wal_bytes: self.wal.disk_bytes(),
            hot_partitions: self.hot.days().len(),
            hot_events: self.hot.all().iter().map(|p| p.num_docs()).sum(),
            archive_segments,
            archive_bytes,
            archive_events,
            archive_head: self.cold.head(),
            indexer_failed,
        }
    }

    /// Stops upkeep, indexes and commits what is durable, and closes the WAL.
    pub fn close(&self) {
        if let Some((stop, thread)) = self.maintenance.lock().unwrap_or_else(|e| e.into_inner()).take() {
            drop(stop);
            let _ = thread.join();
        }
        if let Some(mut indexer) = self.indexer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            indexer.stop();
        }
        self.wal.close();
    }

    fn start_maintenance(self: &Arc<Self>, every: Duration) {
        let (stop, wake) = std::sync::mpsc::channel::<()>();
        let store = Arc::downgrade(self);
        let thread = std::thread::Builder::new()
            .name("mamori-logs-upkeep".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wake.recv_timeout(every) {
                    let Some(store) = store.upgrade() else { return };
                    match store.run_maintenance(Timestamp::now()) {
                        Ok(r) if r.is_empty() => {}
                        Ok(r) => tracing::info!(report = ?r, "log store upkeep"),
                        Err(e) => tracing::error!(error = %e, "log store upkeep failed; retrying at the next interval"),
                    }
                }
            })
            .expect("spawning a thread");
        *self.maintenance.lock().unwrap_or_else(|e| e.into_inner()) = Some((stop, thread));
    }
}

impl Drop for LogStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// A read-only view for a second process (the CLI next to a running server): searches what
/// the server has committed, never writes.
pub struct LogReader {
    hot: HotStore,
    cold: ColdStore,
}

impl LogReader {
    pub fn open(dir: &Path) -> Result<LogReader, LogError> {
        Ok(LogReader { hot: HotStore::open(&dir.join("hot"))?, cold: ColdStore::open_read_only(&dir.join("archive"))? })
    }

    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, LogError> {
        crate::search::search(&self.hot, &self.cold, req)
    }

    pub fn verify(&self) -> Result<mamori_archive::VerifyReport, LogError> {
        self.cold.verify()
    }
}

/// Takes the store's lock file; a second process gets `LogError::Locked`.
fn lock_exclusive(dir: &Path) -> Result<File, LogError> {
    use std::os::fd::AsRawFd;
    let path = dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LogError::io(&path, e))?;
    // SAFETY: flock on a file descriptor we own; it is released when the file is closed.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(LogError::Locked(dir.to_path_buf()));
    }
    Ok(file)
}

/// Whether another process holds the store at `dir` (a server is running).
pub fn is_locked(dir: &Path) -> bool {
    matches!(lock_exclusive(dir), Err(LogError::Locked(_)))
}
