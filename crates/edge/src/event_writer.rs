//! Hands the edge's events to the log store in batches from one task, so that a request never
//! waits for a disk sync of its own; a full queue slows requests down rather than lose events.

use std::sync::Arc;
use std::time::Duration;

use mamori_core::event::Event;
use mamori_core::sink::EventSink;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const BATCH: usize = 1024;
const QUEUE: usize = 65_536;

#[derive(Clone)]
pub struct EventWriter {
    tx: mpsc::Sender<Event>,
}

impl EventWriter {
    /// Starts the writer; it ends once every `EventWriter` is dropped and the queue is written.
    pub fn start(sink: Arc<dyn EventSink>) -> (EventWriter, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Event>(QUEUE);
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let mut pause = Duration::from_millis(50);
                // The sink refuses only while storage is full or failing: keep the batch.
                while let Err(e) = sink.submit(&batch).await {
                    tracing::warn!(error = %e, events = batch.len(), "edge events wait for the log store");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                batch.clear();
            }
        });
        (EventWriter { tx }, task)
    }

    pub async fn record(&self, event: Event) {
        if self.tx.send(event).await.is_err() {
            tracing::error!("the edge event writer has stopped; an event is lost");
        }
    }
}
