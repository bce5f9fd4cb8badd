//! Hands a service's events to the log store in batches from one task, so that a request never
//! waits for a disk sync of its own. A full queue slows the service's requests down rather than
//! lose their events, and a refused batch is kept and retried (the sink refuses only while
//! storage is full or failing), so a full disk slows a service instead of emptying its log.
//!
//! Services with many small events (the DNS query log) may instead encode their events as JSON
//! records themselves and hand them over a batch at a time ([`EventWriter::record_encoded`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::event::Event;
use crate::sink::{EncodedEvents, EventSink, SubmitFuture};

const BATCH: usize = 1024;
/// Senders wait (rather than lose an event) once this many events are queued.
const QUEUE: usize = 65_536;
/// Senders of encoded batches wait once this many batches are queued (each holds many events).
const ENCODED_QUEUE: usize = 64;

#[derive(Clone)]
pub struct EventWriter {
    tx: mpsc::Sender<Event>,
    encoded_tx: mpsc::Sender<EncodedEvents>,
    /// Whose events these are, for the log lines about them.
    service: &'static str,
}

impl EventWriter {
    /// Starts the writer; it ends once every clone is dropped and the queue is written.
    pub fn start(sink: Arc<dyn EventSink>, service: &'static str) -> (EventWriter, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Event>(QUEUE);
        let (encoded_tx, mut encoded_rx) = mpsc::channel::<EncodedEvents>(ENCODED_QUEUE);
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let (mut events_open, mut encoded_open) = (true, true);
            while events_open || encoded_open {
                tokio::select! {
                    n = rx.recv_many(&mut batch, BATCH), if events_open => {
                        if n == 0 {
                            events_open = false;
                            continue;
                        }
                        until_accepted(service, batch.len(), || sink.submit(&batch)).await;
                        batch.clear();
                    }
                    encoded = encoded_rx.recv(), if encoded_open => match encoded {
                        Some(encoded) => until_accepted(service, encoded.len(), || sink.submit_encoded(&encoded)).await,
                        None => encoded_open = false,
                    },
                }
            }
        });
        (EventWriter { tx, encoded_tx, service }, task)
    }

    pub async fn record(&self, event: Event) {
        if self.tx.send(event).await.is_err() {
            tracing::error!(service = self.service, "the event writer has stopped; an event is lost");
        }
    }

    /// Hands over events already encoded as complete JSON records (with `event.id` and
    /// `event.ingested` set: the log store takes them as they are).
    pub async fn record_encoded(&self, batch: EncodedEvents) {
        let count = batch.len();
        if count > 0 && self.encoded_tx.send(batch).await.is_err() {
            tracing::error!(service = self.service, count, "the event writer has stopped; events are lost");
        }
    }
}

/// Submits a batch until the sink takes it, pausing longer after each refusal.
async fn until_accepted(service: &'static str, count: usize, submit: impl Fn() -> SubmitFuture) {
    let mut pause = Duration::from_millis(50);
    while let Err(e) = submit().await {
        tracing::warn!(error = %e, events = count, service, "events wait for the log store");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::sink::Receipt;

    /// Keeps what it is given, as events and as encoded records.
    #[derive(Default)]
    struct Kept {
        events: Mutex<Vec<Event>>,
        records: Mutex<Vec<Vec<u8>>>,
    }

    impl EventSink for Kept {
        fn submit(&self, events: &[Event]) -> SubmitFuture {
            self.events.lock().unwrap().extend(events.iter().cloned());
            let count = events.len();
            Box::pin(async move { Ok(Receipt { last_lsn: 0, count }) })
        }

        fn submit_encoded(&self, batch: &EncodedEvents) -> SubmitFuture {
            self.records.lock().unwrap().extend(batch.records().map(<[u8]>::to_vec));
            let count = batch.len();
            Box::pin(async move { Ok(Receipt { last_lsn: 0, count }) })
        }
    }

    #[tokio::test]
    async fn events_and_encoded_batches_both_reach_the_sink_before_the_writer_ends() {
        let sink = Arc::new(Kept::default());
        let (writer, task) = EventWriter::start(sink.clone(), "test");
        writer.record(Event::new(jiff::Timestamp::UNIX_EPOCH, "a")).await;
        let mut encoded = EncodedEvents::new();
        encoded.push_record(br#"{"x":1}"#);
        encoded.push_record(br#"{"x":2}"#);
        writer.record_encoded(encoded).await;
        writer.record_encoded(EncodedEvents::new()).await;
        drop(writer);
        task.await.unwrap();
        assert_eq!(sink.events.lock().unwrap().len(), 1);
        assert_eq!(*sink.records.lock().unwrap(), vec![br#"{"x":1}"#.to_vec(), br#"{"x":2}"#.to_vec()]);
    }
}
