//! Hands a service's events to the log store in batches from one task, so that a request never
//! waits for a disk sync of its own. A full queue slows the service's requests down rather than
//! lose their events, and a refused batch is kept and retried (the sink refuses only while
//! storage is full or failing), so a full disk slows a service instead of emptying its log.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::event::Event;
use crate::sink::EventSink;

const BATCH: usize = 1024;
/// Senders wait (rather than lose an event) once this many events are queued.
const QUEUE: usize = 65_536;

#[derive(Clone)]
pub struct EventWriter {
    tx: mpsc::Sender<Event>,
    /// Whose events these are, for the log lines about them.
    service: &'static str,
}

impl EventWriter {
    /// Starts the writer; it ends once every clone is dropped and the queue is written.
    pub fn start(sink: Arc<dyn EventSink>, service: &'static str) -> (EventWriter, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Event>(QUEUE);
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let mut pause = Duration::from_millis(50);
                while let Err(e) = sink.submit(&batch).await {
                    tracing::warn!(error = %e, events = batch.len(), service, "events wait for the log store");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                batch.clear();
            }
        });
        (EventWriter { tx, service }, task)
    }

    pub async fn record(&self, event: Event) {
        if self.tx.send(event).await.is_err() {
            tracing::error!(service = self.service, "the event writer has stopped; an event is lost");
        }
    }
}
