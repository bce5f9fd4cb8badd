//! Query-log records waiting to go to the log store together: a UDP listener keeps one and
//! hands it over when it is full, or when no packet is waiting and its first record is
//! [`HOLD`] old, so a busy listener sends one batch per hundred queries instead of one channel
//! message per query, and an idle one holds a record back no longer than [`HOLD`].

use std::time::{Duration, Instant};

use jiff::Timestamp;
use mamori_core::sink::EncodedEvents;

use super::answers::LoggedAnswers;
use super::record::{QueryRecord, write_query_event};

/// A batch this large is handed over before the next packet is read: small enough to stay in
/// the CPU's cache while it is written.
const FULL_EVENTS: usize = 128;
const FULL_BYTES: usize = 96 * 1024;
/// Reserved at a batch's first record, so that a growing batch is never copied.
const RESERVE_BYTES: usize = FULL_BYTES + 32 * 1024;
/// How long a listener waiting for packets keeps a batch that is not full. Handing a batch over
/// whenever no packet was waiting made batches of a few records at moderate rates, and the
/// hand-over (a fresh buffer, a channel message, the writer task's turn) cost more than
/// writing the records.
pub const HOLD: Duration = Duration::from_millis(10);

#[derive(Default)]
pub struct QueryLogBatch {
    records: EncodedEvents,
    /// When the first record was added.
    first: Option<Instant>,
}

impl QueryLogBatch {
    pub fn new() -> QueryLogBatch {
        QueryLogBatch::default()
    }

    pub fn push(&mut self, q: &QueryRecord<'_>, answers: LoggedAnswers<'_>, now: Timestamp) {
        if self.records.is_empty() {
            self.first = Some(Instant::now());
        }
        self.records.push_with(|out| {
            if out.capacity() == 0 {
                out.reserve(RESERVE_BYTES);
            }
            write_query_event(q, answers, now, out)
        });
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.records.len() >= FULL_EVENTS || self.records.byte_len() >= FULL_BYTES
    }

    /// When a listener with nothing else to do should hand the batch over; `None` when empty.
    pub fn due(&self) -> Option<Instant> {
        self.first.map(|first| first + HOLD)
    }

    /// The records so far, leaving the batch empty.
    pub fn take(&mut self) -> EncodedEvents {
        self.first = None;
        std::mem::take(&mut self.records)
    }
}
