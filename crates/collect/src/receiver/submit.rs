//! Handing a batch to the sink until it is durable.
//!
//! The caller awaits this before it reads more from its socket: that wait is the back-pressure
//! a TCP sender feels (its kernel window closes). When the sink refuses the batch because the
//! disk is full or failing, the batch is kept and retried with a capped exponential backoff, so
//! the sender stays paused instead of losing data.

use std::time::Duration;

use mamori_core::SubmitError;
use mamori_core::sink::EncodedEvents;
use tokio_util::sync::CancellationToken;

use super::CollectContext;
use crate::metrics::{Transport, metrics};

/// Why a batch could not be made durable; its events are lost, and counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotStored {
    /// The sink is shutting down.
    Closed,
    /// Shutdown was requested while the sink kept refusing the batch.
    ShutdownWhileRefused(SubmitError),
}

impl CollectContext {
    /// Submits `events`, retrying refusals until they are durable. Gives up only when the sink
    /// is closed or shutdown is requested during a refusal; then the loss is counted and logged.
    pub(crate) async fn submit_durably(
        &self,
        events: &EncodedEvents,
        transport: Transport,
        shutdown: &CancellationToken,
    ) -> Result<(), NotStored> {
        if events.is_empty() {
            return Ok(());
        }
        let mut backoff = self.options.retry_initial;
        loop {
            let result = self.sink.submit_encoded(events).await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(SubmitError::Closed) => {
                    return Err(self.lost(events.len(), transport, NotStored::Closed));
                }
                Err(e) => e,
            };
            metrics().retry(transport);
            tracing::warn!(
                transport = transport.as_str(),
                events = events.len(),
                error = %error,
                retry_in_ms = backoff.as_millis() as u64,
                "the log store refused a batch; holding the sender and retrying"
            );
            if shutdown.is_cancelled() {
                return Err(self.lost(events.len(), transport, NotStored::ShutdownWhileRefused(error)));
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                // One last attempt once shutdown is asked for.
                _ = shutdown.cancelled() => {}
            }
            backoff = next_backoff(backoff, self.options.retry_max);
        }
    }

    fn lost(&self, count: usize, transport: Transport, why: NotStored) -> NotStored {
        metrics().lost(transport, count);
        tracing::error!(
            transport = transport.as_str(),
            events = count,
            reason = ?why,
            "events could not be stored before shutdown"
        );
        why
    }
}

fn next_backoff(current: Duration, max: Duration) -> Duration {
    current.saturating_mul(2).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let max = Duration::from_secs(5);
        let mut d = Duration::from_millis(50);
        let mut seen = Vec::new();
        for _ in 0..10 {
            seen.push(d.as_millis());
            d = next_backoff(d, max);
        }
        assert_eq!(seen, vec![50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }
}
