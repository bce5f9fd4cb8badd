//! Where receivers hand over events. The log store implements it; receivers know nothing of it.

use std::future::Future;
use std::pin::Pin;

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
}
