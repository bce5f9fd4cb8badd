//! Where receivers hand over events. The log store implements it; receivers know nothing of it.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use crate::compact;
use crate::event::Event;

/// Why a sink did not take a batch. Receivers turn each into push-back of their own protocol
/// (HTTP 503/507, pausing a TCP connection), never into a silent drop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The disk holding the write-ahead log is full or under its reserve: retry later.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// Writing failed for another reason (I/O error): retry later.
    #[error("storage error: {0}")]
    Storage(String),
    /// The pipeline is shutting down.
    #[error("the event pipeline is shutting down")]
    Closed,
}

/// Proof that a batch is durable: the position of its last record in the write-ahead log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub last_lsn: u64,
    pub count: usize,
}

pub type SubmitFuture = Pin<Box<dyn Future<Output = Result<Receipt, SubmitError>> + Send + 'static>>;

/// Accepts events and resolves once they are durable (written and fsynced). The future waits
/// while the pipeline is saturated: that wait is the back-pressure senders feel.
pub trait EventSink: Send + Sync + 'static {
    /// Takes the batch by reference and encodes it before returning, so a caller keeps its
    /// events for a retry without copying them.
    fn submit(&self, events: &[Event]) -> SubmitFuture;

    /// Takes events already encoded as JSON records. Sinks that store JSON take them as they
    /// are; the default decodes them for [`EventSink::submit`].
    fn submit_encoded(&self, batch: &EncodedEvents) -> SubmitFuture {
        match batch.decode() {
            Ok(events) => self.submit(&events),
            Err(e) => {
                let e = SubmitError::Storage(format!("an encoded event is not valid: {e}"));
                Box::pin(async move { Err(e) })
            }
        }
    }
}

/// Events encoded as their records (JSON, or compact: [`crate::compact`]), back to back in one
/// buffer: what the log store appends. Receivers that write records directly (syslog) fill it
/// without building [`Event`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodedEvents {
    bytes: Vec<u8>,
    /// End of each record in `bytes`.
    ends: Vec<usize>,
}

impl EncodedEvents {
    pub fn new() -> Self {
        EncodedEvents::default()
    }

    /// Encodes the events.
    pub fn from_events(events: &[Event]) -> Self {
        let mut out = EncodedEvents::new();
        events.iter().for_each(|e| out.push_event(e));
        out
    }

    pub fn push_event(&mut self, event: &Event) {
        self.push_with(|out| serde_json::to_writer(out, event).expect("an Event always serializes"));
    }

    /// Appends one record, written by `write` (which must write one JSON object of an event, or
    /// one compact record).
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.bytes);
        self.ends.push(self.bytes.len());
    }

    pub fn push_record(&mut self, record: &[u8]) {
        self.push_with(|out| out.extend_from_slice(record));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Bytes of all records together.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// The records as they are stored: JSON or compact ([`crate::compact`]).
    pub fn records(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(|i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.bytes[start..self.ends[i]]
        })
    }

    /// The records as JSON: compact ones rendered, JSON ones as they are. A compact record that
    /// cannot be read gives its bytes unchanged, which no JSON reader accepts, so the error
    /// surfaces where the JSON is read.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Cow<'_, [u8]>> + '_ {
        self.records().map(|r| {
            if !compact::is_compact(r) {
                return Cow::Borrowed(r);
            }
            let mut json = Vec::with_capacity(r.len() * 2);
            match compact::render_json(r, &mut json) {
                Ok(()) => Cow::Owned(json),
                Err(_) => Cow::Borrowed(r),
            }
        })
    }

    /// Decodes the records (for sinks that keep events, such as test sinks).
    pub fn decode(&self) -> Result<Vec<Event>, serde_json::Error> {
        self.iter().map(|r| serde_json::from_slice(&r)).collect()
    }
}
