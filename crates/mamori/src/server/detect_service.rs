//! Live detection in `mamori up`: the Sigma rules of `[detect]` see every batch the log store
//! accepts (through its tap, whichever receiver sent it) on a thread of their own, and their
//! alerts go back into the store.
//!
//! Ingestion never waits for detection: when the queue is full a batch is left unevaluated,
//! counted (`detect_events_skipped`) and logged.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, TrySendError, sync_channel};
use std::time::Duration;

use mamori_core::sink::{EncodedEvents, EventSink, SubmitError};
use mamori_detect::live::{LiveDetector, count_skipped};
use mamori_detect::{CompileOptions, Pipeline, RuleSet};
use mamori_logs::LogStore;

use crate::cli::context::Context;

/// Loads the rules and installs the tap; `None` when detection is off or has no rules.
pub fn start(ctx: &Context, logs: &Arc<LogStore>, runtime: tokio::runtime::Handle) -> anyhow::Result<Option<usize>> {
    let config = &ctx.config.file.detect;
    if !config.enabled || config.rules.is_empty() {
        return Ok(None);
    }
    let pipeline = match &config.windows_pipeline {
        Some(p) => {
            let path = ctx.config.resolve(p);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("[detect] windows_pipeline {}: {e}", path.display()))?;
            Pipeline::from_yaml(&text)
                .map_err(|e| anyhow::anyhow!("[detect] windows_pipeline {}: {e}", path.display()))?
        }
        None => Pipeline::default(),
    };
    let paths: Vec<_> = config.rules.iter().map(|p| ctx.config.resolve(p)).collect();
    let rules = RuleSet::load(&paths, &pipeline, &CompileOptions::default());
    for f in &rules.failures {
        tracing::warn!(rule = %f.path.display(), reason = %f.error, "Sigma rule not loaded");
    }
    let loaded = rules.rules.len();
    println!(
        "detect: {loaded} Sigma rules ({} correlations; {} not loaded, see the log; {} without a log source mamori has)",
        rules.correlations.len(),
        rules.failures.len(),
        rules.unmapped().count()
    );
    let (tx, rx) = sync_channel::<EncodedEvents>(config.queue_batches.max(1));
    let tapped = logs.set_tap(Arc::new(move |batch: &EncodedEvents| match tx.try_send(batch.clone()) {
        Ok(()) => {}
        Err(TrySendError::Full(b)) => {
            count_skipped(b.len() as u64);
            tracing::warn!(events = b.len(), "detection is behind: a batch was stored but not evaluated");
        }
        Err(TrySendError::Disconnected(_)) => {}
    }));
    if !tapped {
        anyhow::bail!("the log store already has a live consumer");
    }
    let sink = logs.sink();
    std::thread::Builder::new()
        .name("detect".into())
        .spawn(move || evaluate(LiveDetector::new(rules), rx, sink, runtime))?;
    Ok(Some(loaded))
}

fn evaluate(
    mut detector: LiveDetector,
    rx: Receiver<EncodedEvents>,
    sink: Arc<dyn EventSink>,
    rt: tokio::runtime::Handle,
) {
    while let Ok(batch) = rx.recv() {
        let alerts = detector.evaluate(batch.iter(), jiff::Timestamp::now());
        if alerts.is_empty() {
            continue;
        }
        // Alerts are stored like any event: on push-back wait and retry, never drop.
        let mut delay = Duration::from_millis(100);
        loop {
            match rt.block_on(sink.submit(&alerts)) {
                Ok(_) => break,
                Err(SubmitError::Closed) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot store detection alerts yet; retrying");
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}
