//! Query-log records waiting to go to the log store together: a UDP listener keeps one and
//! hands it over when it is full or when no packet is waiting, so a busy listener sends one
//! batch per few hundred queries instead of one channel message per query, and an idle one
//! never holds a record back.

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

#[derive(Default)]
pub struct QueryLogBatch {
    records: EncodedEvents,
}

impl QueryLogBatch {
    pub fn new() -> QueryLogBatch {
        QueryLogBatch::default()
    }

    pub fn push(&mut self, q: &QueryRecord<'_>, answers: LoggedAnswers<'_>, now: Timestamp) {
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

    /// The records so far, leaving the batch empty.
    pub fn take(&mut self) -> EncodedEvents {
        std::mem::take(&mut self.records)
    }
}
