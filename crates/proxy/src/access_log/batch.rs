//! Access-log records waiting to go to the log store together. Every request writes its
//! record into one shared batch (under a lock held only while the record is written), and a
//! flusher task hands the batch to the event writer [`FLUSH_AFTER`] after its first record, so
//! a busy proxy sends one batch of a few hundred records per interval instead of one channel
//! message (and one `Event`) per request, and an idle one never holds a record back for long.
//! The event writer submits each batch and waits for it to be durable before the next, so
//! batches must be large: batches of 64 records made the writer wait for a disk sync every 64
//! requests, its queue filled and requests waited (p99 120 ms in `bench/proxy-throughput`).
//! Only a burst that fills a batch before the flusher comes hands it over from the request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use mamori_core::event_writer::EventWriter;
use mamori_core::sink::EncodedEvents;
use tokio::sync::Notify;

/// A batch this large is handed over by the request that filled it (the event writer's own
/// batches of `Event`s held up to 1,024).
const FULL_EVENTS: usize = 1024;
const FULL_BYTES: usize = 1 << 20;
/// Reserved at a batch's first record, so that a growing batch is rarely copied.
const RESERVE_BYTES: usize = 256 * 1024;
/// The longest a record waits for its batch to be handed over.
pub const FLUSH_AFTER: Duration = Duration::from_millis(10);

struct Shared {
    batch: Mutex<EncodedEvents>,
    /// Told when a record lands in an empty batch, and when the proxy goes away.
    wake: Notify,
    closed: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, EncodedEvents> {
        self.batch.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self) -> EncodedEvents {
        std::mem::take(&mut *self.lock())
    }
}

/// The proxy's access-log batch; dropping it hands over what is left.
pub struct AccessBatch {
    shared: Arc<Shared>,
    writer: EventWriter,
    flusher: OnceLock<()>,
}

impl AccessBatch {
    pub fn new(writer: EventWriter) -> AccessBatch {
        let shared = Shared { batch: Mutex::default(), wake: Notify::new(), closed: AtomicBool::new(false) };
        AccessBatch { shared: Arc::new(shared), writer, flusher: OnceLock::new() }
    }

    /// Appends one record, written by `write` (one JSON object of an event with its id and
    /// ingestion time), and hands the batch over if that filled it.
    pub async fn push(&self, write: impl FnOnce(&mut Vec<u8>)) {
        // Started by the first record, so that a context built outside a runtime still works.
        self.flusher.get_or_init(|| {
            tokio::spawn(flush_quiet_batches(self.shared.clone(), self.writer.clone()));
        });
        let (full, first) = {
            let mut batch = self.shared.lock();
            let first = batch.is_empty();
            batch.push_with(|out| {
                if out.capacity() == 0 {
                    out.reserve(RESERVE_BYTES);
                }
                write(out)
            });
            let full = batch.len() >= FULL_EVENTS || batch.byte_len() >= FULL_BYTES;
            (full.then(|| std::mem::take(&mut *batch)), first)
        };
        match full {
            // Waits while the writer's queue is full: the back-pressure of a slow log store.
            Some(batch) => self.writer.record_encoded(batch).await,
            None if first => self.shared.wake.notify_one(),
            None => {}
        }
    }
}

impl Drop for AccessBatch {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }
}

/// Hands over the batch [`FLUSH_AFTER`] after its first record; ends (handing over the rest)
/// once the proxy's batch is dropped.
async fn flush_quiet_batches(shared: Arc<Shared>, writer: EventWriter) {
    loop {
        shared.wake.notified().await;
        let closed = shared.closed.load(Ordering::Acquire);
        if !closed {
            tokio::time::sleep(FLUSH_AFTER).await;
        }
        let batch = shared.take();
        writer.record_encoded(batch).await;
        if closed || shared.closed.load(Ordering::Acquire) {
            let rest = shared.take();
            writer.record_encoded(rest).await;
            return;
        }
    }
}
