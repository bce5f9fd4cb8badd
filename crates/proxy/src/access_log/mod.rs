//! The access log: one ECS event (`proxy.access`) per request. Each record is written as its
//! JSON straight into a batch that goes to the log store whole (`batch`), through the shared
//! batching event writer ([`mamori_core::event_writer`]), so that the request path never waits
//! for a disk sync of its own. Building an `Event` (serde_json maps, a dozen small strings) and
//! encoding it cost more per request than the URL filter, so the record is written field by
//! field instead (`record`); its fields and values are those of the `Event` form it replaced
//! (`tests.rs` compares the two).

mod batch;
mod record;
#[cfg(test)]
mod tests;

use std::time::Duration;

use mamori_core::event::Event;
use mamori_core::sink::{EncodedEvents, EventSink};

use crate::client::Client;

pub(crate) use batch::AccessBatch;
pub(crate) use record::write_access_event;

/// The writer of the access log (and the proxy's alerts): the shared batching event writer.
pub type AccessLog = mamori_core::event_writer::EventWriter;

/// A sink that keeps nothing: for measuring the proxy apart from the log store
/// (`bench/proxy-throughput`'s diagnostic run), never for use. Events (the proxy's alerts) are
/// serialized as the log store would; access-log records arrive already encoded.
pub struct DiscardSink;

impl EventSink for DiscardSink {
    fn submit(&self, events: &[Event]) -> mamori_core::sink::SubmitFuture {
        let bytes: usize = events.iter().map(|e| serde_json::to_vec(e).map(|v| v.len()).unwrap_or(0)).sum();
        std::hint::black_box(bytes);
        let count = events.len();
        Box::pin(async move { Ok(mamori_core::sink::Receipt { last_lsn: 0, count }) })
    }

    fn submit_encoded(&self, batch: &EncodedEvents) -> mamori_core::sink::SubmitFuture {
        std::hint::black_box(batch.byte_len());
        let count = batch.len();
        Box::pin(async move { Ok(mamori_core::sink::Receipt { last_lsn: 0, count }) })
    }
}

/// What the access log says about one request.
pub struct AccessRecord<'a> {
    pub client: &'a Client,
    pub request_id: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    pub host: &'a str,
    pub status: u16,
    /// `allowed`, `blocked`, `bypassed` or `error`.
    pub action: &'a str,
    /// The list or category behind the decision, and what kind of rule it was.
    pub rule: Option<(&'a str, &'a str)>,
    pub categories: &'a [String],
    pub duration: Duration,
    pub error: Option<&'a str>,
    /// What the malware scan said (`clean`, `infected: NAME`, `not scanned: WHY`).
    pub scan: Option<&'a str>,
}
