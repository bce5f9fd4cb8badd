//! The indexer: reads the write-ahead log from its checkpoint and files each event into its day
//! partition. Every commit records the WAL position it reflects, in the partitions and in a
//! checkpoint file, so a crash at any point re-indexes exactly what was not yet committed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::error::LogError;
use crate::hot::block::{BlockBuilder, MAX_ROWS, RecordError, TimeCache, event_time_cached};
use crate::hot::compact;
use crate::hot::partition::{CommitPayload, Partition};
use crate::hot::{HotStore, filing_day};
use crate::wal::{Wal, WalBatch};
use jiff::Timestamp;
use jiff::civil::Date;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use rustc_hash::FxHashMap;

#[derive(Debug, Clone)]
pub struct IndexerConfig {
    /// How often new events become searchable.
    pub commit_interval: Duration,
    /// Days with a block being built at once (today, yesterday, a backfill).
    pub max_open_writers: usize,
}

impl Default for IndexerConfig {
    fn default() -> Self {
        IndexerConfig { commit_interval: Duration::from_secs(1), max_open_writers: 3 }
    }
}

#[derive(Clone)]
struct IndexerMetrics {
    docs: Counter,
    commits: Counter,
    bad_records: Counter,
    errors: Counter,
    lag: Gauge,
}

fn metrics() -> &'static IndexerMetrics {
    static M: OnceLock<IndexerMetrics> = OnceLock::new();
    M.get_or_init(|| {
        let m = IndexerMetrics {
            docs: Counter::default(),
            commits: Counter::default(),
            bad_records: Counter::default(),
            errors: Counter::default(),
            lag: Gauge::default(),
        };
        use mamori_core::metrics::register;
        register("index_documents", "Events added to the hot index", m.docs.clone());
        register("index_commits", "Commits of the hot index", m.commits.clone());
        register(
            "index_bad_records",
            "WAL records that could not be read as events (kept in the WAL, not indexed)",
            m.bad_records.clone(),
        );
        register("index_lag_records", "Durable events not yet searchable", m.lag.clone());
        register("index_errors", "Indexing failures (retried from the last commit)", m.errors.clone());
        m
    })
}

/// Progress visible to the rest of the store.
#[derive(Default)]
pub struct IndexerState {
    /// Every record up to this LSN is committed and searchable.
    pub committed_lsn: AtomicU64,
    pub failed: AtomicBool,
}

/// Changes to partitions other than adding events. The indexer thread is the only writer of
/// the hot tier, so retention hands it these instead of opening writers of its own.
pub enum IndexerTask {
    /// Delete one tenant's events from a day (its hot retention ended; they are archived).
    DeleteTenant { day: Date, tenant: String, reply: std::sync::mpsc::Sender<Result<(), LogError>> },
    /// Delete a whole day partition.
    RemovePartition { day: Date, reply: std::sync::mpsc::Sender<Result<(), LogError>> },
}

/// A running indexer thread.
pub struct Indexer {
    stop: Arc<AtomicBool>,
    pub state: Arc<IndexerState>,
    tasks: std::sync::mpsc::Sender<IndexerTask>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Indexer {
    pub fn start(wal: Arc<Wal>, hot: Arc<HotStore>, config: IndexerConfig) -> Result<Indexer, LogError> {
        let checkpoint_path = hot.root().join("checkpoint.json");
        let checkpoint = read_checkpoint(&checkpoint_path)?;
        let state =
            Arc::new(IndexerState { committed_lsn: AtomicU64::new(checkpoint), failed: AtomicBool::new(false) });
        let stop = Arc::new(AtomicBool::new(false));
        let (tasks, task_rx) = std::sync::mpsc::channel();
        let mut worker = Worker {
            tasks: task_rx,
            wal: wal.clone(),
            hot,
            config,
            checkpoint_path,
            writers: FxHashMap::default(),
            indexed: 0,
            state: state.clone(),
            stop: stop.clone(),
            last_lsn: checkpoint,
            times: TimeCache::default(),
        };
        let thread = std::thread::Builder::new()
            .name("mamori-indexer".into())
            .spawn(move || worker.run_until_stopped())
            .map_err(|e| LogError::io(wal.dir(), e))?;
        Ok(Indexer { stop, state, tasks, thread: Some(thread) })
    }

    /// Indexes what is durable, commits, and stops.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn committed_lsn(&self) -> u64 {
        self.state.committed_lsn.load(Ordering::Acquire)
    }

    /// Runs a task on the indexer thread and waits for it.
    pub fn run_task(
        &self,
        make: impl FnOnce(std::sync::mpsc::Sender<Result<(), LogError>>) -> IndexerTask,
    ) -> Result<(), LogError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.tasks
            .send(make(tx))
            .map_err(|_| LogError::Index { path: PathBuf::new(), message: "the indexer has stopped".into() })?;
        rx.recv().map_err(|_| LogError::Index { path: PathBuf::new(), message: "the indexer has stopped".into() })?
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The block being built for one day.
struct OpenWriter {
    partition: Arc<Partition>,
    builder: BlockBuilder,
    /// The partition's committed WAL position when it was opened: records up to it are in it.
    committed: u64,
    /// When it last took an event, as a count of the events indexed (for closing the least
    /// recently used; a count, not a clock, as reading the clock for every event costs more).
    last_used: u64,
}

impl OpenWriter {
    fn dirty(&self) -> bool {
        !self.builder.is_empty()
    }
}

struct Worker {
    tasks: std::sync::mpsc::Receiver<IndexerTask>,
    wal: Arc<Wal>,
    hot: Arc<HotStore>,
    config: IndexerConfig,
    checkpoint_path: PathBuf,
    /// Hashed with Fx rather than SipHash: it is looked up for every event.
    writers: FxHashMap<Date, OpenWriter>,
    /// Events handed to writers so far: the clock of `OpenWriter::last_used`.
    indexed: u64,
    state: Arc<IndexerState>,
    stop: Arc<AtomicBool>,
    /// Last LSN handed to a writer (or skipped).
    last_lsn: u64,
    /// The previous event's `@timestamp`, parsed.
    times: TimeCache,
}

impl Worker {
    /// Indexes until stopped. An error (a full disk, say) drops the uncommitted work and starts
    /// again from the last commit after a pause: the events are still in the WAL, and indexing
    /// resumes by itself once the cause is gone.
    fn run_until_stopped(&mut self) {
        let mut pause = Duration::from_millis(500);
        loop {
            let from = self.committed();
            self.last_lsn = from;
            match self.run(from) {
                Ok(()) => return,
                Err(e) => {
                    self.state.failed.store(true, Ordering::Release);
                    metrics().errors.inc();
                    tracing::error!(error = %e, retry_in_ms = pause.as_millis() as u64, "indexing failed; the events stay in the WAL and indexing resumes from the last commit");
                    self.writers.clear();
                    let deadline = Instant::now() + pause;
                    while Instant::now() < deadline {
                        if self.stop.load(Ordering::Acquire) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    fn run(&mut self, checkpoint: u64) -> Result<(), LogError> {
        let mut reader = self.wal.reader(checkpoint);
        let mut batch = WalBatch::default();
        let mut last_commit = Instant::now();
        let wait = (self.config.commit_interval / 4).max(Duration::from_millis(10));
        loop {
            let stopping = self.stop.load(Ordering::Acquire);
            reader
                .read_into(&mut batch, 4096, if stopping { Duration::ZERO } else { wait })
                .map_err(|e| LogError::io(self.wal.dir(), e))?;
            let caught_up = batch.is_empty();
            // One reading of the clock per batch: it only tells how far in the future an
            // event's time may be before it is filed under today instead.
            let now = Timestamp::now();
            for (lsn, payload) in batch.iter() {
                self.index(lsn, payload, now)?;
            }
            metrics().lag.set(self.wal.durable_lsn().saturating_sub(self.last_lsn) as i64);
            while let Ok(task) = self.tasks.try_recv() {
                self.run_task(task);
            }
            if (last_commit.elapsed() >= self.config.commit_interval || stopping) && self.last_lsn > self.committed() {
                self.commit()?;
                last_commit = Instant::now();
            }
            if stopping && caught_up {
                self.close_all()?;
                return Ok(());
            }
        }
    }

    fn committed(&self) -> u64 {
        self.state.committed_lsn.load(Ordering::Acquire)
    }

    fn index(&mut self, lsn: u64, payload: &[u8], now: Timestamp) -> Result<(), LogError> {
        self.last_lsn = lsn;
        let time = match event_time_cached(payload, &mut self.times) {
            Ok(t) => t,
            Err(e) => {
                bad_record(lsn, &e);
                return Ok(());
            }
        };
        let day = filing_day(time, now);
        let writer = self.writer_for(day)?;
        if lsn <= writer.committed {
            return Ok(()); // already committed in this partition before a restart
        }
        if let Err(e) = writer.builder.add_timed(lsn, payload, time) {
            bad_record(lsn, &e);
            return Ok(());
        }
        metrics().docs.inc();
        if writer.builder.rows() >= MAX_ROWS {
            // A full block is written at once; its partition now reflects the WAL up to here.
            writer.partition.append(&mut writer.builder, lsn)?;
        }
        Ok(())
    }

    fn writer_for(&mut self, day: Date) -> Result<&mut OpenWriter, LogError> {
        if !self.writers.contains_key(&day) {
            if self.writers.len() >= self.config.max_open_writers {
                self.close_least_recent()?;
            }
            let partition = self.hot.get_or_create(day)?;
            partition.remove_strays();
            let committed = partition.committed()?.lsn;
            self.writers.insert(
                day,
                OpenWriter { partition, builder: BlockBuilder::new(), committed, last_used: self.indexed },
            );
        }
        let w = self.writers.get_mut(&day).expect("inserted above");
        self.indexed += 1;
        w.last_used = self.indexed;
        Ok(w)
    }

    /// Writes every day's pending events as a block, then moves the checkpoint and lets the WAL
    /// drop what every partition has. Runs of small blocks are merged afterwards.
    fn commit(&mut self) -> Result<(), LogError> {
        let lsn = self.last_lsn;
        for w in self.writers.values_mut() {
            if w.dirty() {
                w.partition.append(&mut w.builder, lsn)?;
            }
        }
        write_checkpoint(&self.checkpoint_path, lsn)?;
        self.state.committed_lsn.store(lsn, Ordering::Release);
        self.state.failed.store(false, Ordering::Release);
        metrics().commits.inc();
        if let Err(e) = self.wal.release_through(lsn) {
            tracing::warn!(error = %e, "cannot delete consumed WAL segments");
        }
        for w in self.writers.values() {
            compact::merge_small_blocks(&w.partition)?;
        }
        Ok(())
    }

    fn run_task(&mut self, task: IndexerTask) {
        match task {
            IndexerTask::DeleteTenant { day, tenant, reply } => {
                let _ = reply.send(self.delete_tenant(day, &tenant));
            }
            IndexerTask::RemovePartition { day, reply } => {
                let result = self.close_writer(day).and_then(|_| self.hot.remove(day));
                let _ = reply.send(result);
            }
        }
    }

    /// Deletes a tenant's events from a day, keeping the partition's WAL position.
    fn delete_tenant(&mut self, day: Date, tenant: &str) -> Result<(), LogError> {
        self.close_writer(day)?;
        let Some(partition) = self.hot.get(day) else { return Ok(()) };
        compact::delete_tenant(&partition, tenant)?;
        partition.mark_expired(tenant)
    }

    fn close_writer(&mut self, day: Date) -> Result<(), LogError> {
        if self.writers.get(&day).is_some_and(OpenWriter::dirty) {
            self.commit()?;
        }
        self.writers.remove(&day);
        Ok(())
    }

    fn close_least_recent(&mut self) -> Result<(), LogError> {
        if self.writers.values().any(OpenWriter::dirty) {
            self.commit()?;
        }
        if let Some(day) = self.writers.iter().min_by_key(|(_, w)| w.last_used).map(|(d, _)| *d) {
            self.writers.remove(&day);
        }
        Ok(())
    }

    fn close_all(&mut self) -> Result<(), LogError> {
        if self.writers.values().any(OpenWriter::dirty) {
            self.commit()?;
        }
        self.writers.clear();
        Ok(())
    }
}

/// Counts and reports a WAL record that is not an event; it stays in the WAL, unindexed.
fn bad_record(lsn: u64, e: &RecordError) {
    metrics().bad_records.inc();
    tracing::error!(lsn, error = %e, "a WAL record is not an event; it is not indexed");
}

fn read_checkpoint(path: &std::path::Path) -> Result<u64, LogError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(serde_json::from_str::<CommitPayload>(&s).map(|c| c.lsn).unwrap_or_else(|e| {
            tracing::warn!(error = %e, path = %path.display(), "unreadable index checkpoint; re-indexing from the partitions' own positions");
            0
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(LogError::io(path, e)),
    }
}

/// Writes the checkpoint atomically (temporary file, fsync, rename).
fn write_checkpoint(path: &std::path::Path, lsn: u64) -> Result<(), LogError> {
    let tmp = path.with_extension("json.tmp");
    let body = serde_json::to_vec(&CommitPayload { lsn }).expect("serializes");
    (|| -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })()
    .map_err(|e| LogError::io(path, e))
}
