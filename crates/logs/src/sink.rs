//! The event sink receivers hand events to: stamp, serialize, append durably.

use std::sync::{Arc, OnceLock};

use jiff::Timestamp;
use mamori_core::event::Event;
use mamori_core::sink::{EncodedEvents, EventSink, SubmitError, SubmitFuture};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::tap::Tap;
use crate::wal::Wal;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

struct SinkMetrics {
    accepted: Counter,
    refused: Family<ReasonLabel, Counter>,
}

fn metrics() -> &'static SinkMetrics {
    static M: OnceLock<SinkMetrics> = OnceLock::new();
    M.get_or_init(|| {
        let m = SinkMetrics { accepted: Counter::default(), refused: Family::default() };
        mamori_core::metrics::register(
            "events_accepted",
            "Events durably accepted into the log store",
            m.accepted.clone(),
        );
        mamori_core::metrics::register(
            "events_refused",
            "Event batches refused with push-back (by reason); senders retry, nothing is dropped",
            m.refused.clone(),
        );
        m
    })
}

/// Appends events to the write-ahead log.
#[derive(Clone)]
pub struct LogSink {
    wal: Arc<Wal>,
    tap: Tap,
}

impl LogSink {
    pub fn new(wal: Arc<Wal>) -> Self {
        LogSink { wal, tap: Tap::default() }
    }

    /// A sink whose durable batches are also shown to `tap` (live detection).
    pub fn with_tap(wal: Arc<Wal>, tap: Tap) -> Self {
        LogSink { wal, tap }
    }
}

impl EventSink for LogSink {
    fn submit(&self, events: &[Event]) -> SubmitFuture {
        let now = Timestamp::now();
        let mut batch = EncodedEvents::new();
        events.iter().for_each(|e| encode(e, now, &mut batch));
        self.append(batch)
    }

    fn submit_encoded(&self, batch: &EncodedEvents) -> SubmitFuture {
        self.append(batch.clone())
    }
}

impl LogSink {
    fn append(&self, batch: EncodedEvents) -> SubmitFuture {
        let wal = self.wal.clone();
        let tap = self.tap.clone();
        Box::pin(async move {
            let n = batch.len() as u64;
            // The WAL takes the batch; a tap needs its own copy.
            let copy = tap.is_set().then(|| batch.clone());
            match wal.append(batch).await {
                Ok(receipt) => {
                    metrics().accepted.inc_by(n);
                    if let Some(copy) = copy {
                        tap.notify(&copy);
                    }
                    Ok(receipt)
                }
                Err(e) => {
                    let reason = match &e {
                        SubmitError::StorageFull(_) => "storage_full",
                        SubmitError::Storage(_) => "storage_error",
                        SubmitError::Closed => "closed",
                    };
                    metrics().refused.get_or_create(&ReasonLabel { reason: reason.into() }).inc();
                    Err(e)
                }
            }
        })
    }
}

/// Appends the WAL record of an event, with the id and ingestion time every stored event
/// carries (receivers stamp them already; the copy is only for events that come without).
fn encode(event: &Event, now: Timestamp, out: &mut EncodedEvents) {
    if event.event.id.is_some() && event.event.ingested.is_some() {
        return out.push_event(event);
    }
    let mut e = event.clone();
    e.stamp_ingestion(now);
    out.push_event(&e);
}
