//! Query-log records waiting to go to the log store together: a UDP listener keeps one and
//! hands it over when it is full or when no packet is waiting, so a busy listener sends one
//! batch per few hundred queries instead of one channel message per query, and an idle one
//! never holds a record back.

use jiff::Timestamp;
use mamori_core::sink::EncodedEvents;

use super::answers::AnswerLog;
use super::record::{QueryRecord, write_query_event};

/// A batch this large is handed over before the next packet is read.
const FULL_EVENTS: usize = 256;
const FULL_BYTES: usize = 256 * 1024;

#[derive(Default)]
pub struct QueryLogBatch {
    records: EncodedEvents,
}

impl QueryLogBatch {
    pub fn new() -> QueryLogBatch {
        QueryLogBatch::default()
    }

    pub fn push(&mut self, q: &QueryRecord<'_>, answers: &AnswerLog, now: Timestamp) {
        self.records.push_with(|out| write_query_event(q, answers, now, out));
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
