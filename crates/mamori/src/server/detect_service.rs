//! Live detection in `mamori up`: the Sigma rules of `[detect]` and the monitor rules of the
//! revision in force see every batch the log store accepts (through its tap, whichever receiver
//! sent it) on a thread of their own; their alerts go back into the store and to the channels
//! of `[[detect.channels]]`. SIGHUP (`mamori reload`) re-reads the rule files; each revision's
//! monitor rules are handed over by the applier.
//!
//! Ingestion never waits for detection: when the queue is full a batch is left unevaluated,
//! counted (`detect_events_skipped`) and logged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mamori_core::ManagedConfig;
use mamori_core::sink::{EncodedEvents, EventSink, SubmitError};
use mamori_detect::live::{LiveDetector, count_skipped};
use mamori_detect::monitor::Monitors;
use mamori_detect::route::Router;
use mamori_detect::{CompileOptions, Pipeline, RuleSet};
use mamori_logs::LogStore;

use crate::cli::context::Context;

/// How often absence rules are checked.
const TICK: Duration = Duration::from_secs(5);

/// Lets revisions reach the detection thread: the latest revision's configuration waits here
/// until the thread picks it up.
#[derive(Clone, Default)]
pub struct DetectHandle {
    pending: Arc<Mutex<Option<ManagedConfig>>>,
    /// Rules re-read on SIGHUP, waiting for the thread.
    rules: Arc<Mutex<Option<RuleSet>>>,
    /// Whether any rule could use events (the tap copies batches only then).
    active: Arc<AtomicBool>,
}

/// Where the Sigma rules come from (read at start and on SIGHUP).
struct RuleSource {
    paths: Vec<std::path::PathBuf>,
    pipeline: Pipeline,
    placeholders: std::collections::BTreeMap<String, Vec<String>>,
}

impl RuleSource {
    fn load(&self) -> RuleSet {
        let placeholders = |name: &str| self.placeholders.get(name).cloned();
        let options = CompileOptions { placeholders: Some(&placeholders) };
        let rules = RuleSet::load(&self.paths, &self.pipeline, &options);
        for f in &rules.failures {
            tracing::warn!(rule = %f.path.display(), reason = %f.error, "Sigma rule not loaded");
        }
        rules
    }
}

impl DetectHandle {
    pub fn apply(&self, config: &ManagedConfig) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(config.clone());
        // At once, so that no batch after the revision is passed over.
        if !config.detect.monitor.is_empty() {
            self.active.store(true, Ordering::Release);
        }
    }

    fn take(&self) -> Option<ManagedConfig> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Loads the rules, starts the alert channels and installs the tap; `None` when detection is
/// off.
pub fn start(
    ctx: &Context,
    logs: &Arc<LogStore>,
    runtime: tokio::runtime::Handle,
) -> anyhow::Result<Option<DetectHandle>> {
    let config = &ctx.config.file.detect;
    if !config.enabled {
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
    let source = RuleSource {
        paths: config.rules.iter().map(|p| ctx.config.resolve(p)).collect(),
        pipeline,
        placeholders: config.placeholders.clone(),
    };
    let rules = source.load();
    let loaded = rules.rules.len();
    if loaded > 0 {
        println!(
            "detect: {loaded} Sigma rules ({} correlations; {} not loaded, see the log; {} without a log source mamori has)",
            rules.correlations.len(),
            rules.failures.len(),
            rules.unmapped().count()
        );
    }
    let router = Router::start(&config.channels, config.dedup_secs)?;
    if !router.is_empty() {
        let names: Vec<&str> = config.channels.iter().map(|c| c.name.as_str()).collect();
        println!("detect: alerts also go to {}", names.join(", "));
    }
    let handle = DetectHandle::default();
    handle.active.store(!rules.rules.is_empty(), Ordering::Release);
    let active = handle.active.clone();
    let (tx, rx) = sync_channel::<EncodedEvents>(config.queue_batches.max(1));
    let tapped = logs.set_tap(Arc::new(move |batch: &EncodedEvents| {
        // Without rules nothing is copied: the tap sits on the ingestion path.
        if !active.load(Ordering::Acquire) {
            return;
        }
        match tx.try_send(batch.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(b)) => {
                count_skipped(b.len() as u64);
                tracing::warn!(events = b.len(), "detection is behind: a batch was stored but not evaluated");
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }));
    if !tapped {
        anyhow::bail!("the log store already has a live consumer");
    }
    let sink = logs.sink();
    let updates = handle.clone();
    // SIGHUP (`mamori reload`) re-reads the rule files.
    let reloads = handle.clone();
    runtime.spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
        let source = Arc::new(source);
        while hup.recv().await.is_some() {
            let source = source.clone();
            if let Ok(rules) = tokio::task::spawn_blocking(move || source.load()).await {
                tracing::info!(
                    rules = rules.rules.len(),
                    failed = rules.failures.len(),
                    "SIGHUP: Sigma rules reloaded"
                );
                *reloads.rules.lock().unwrap_or_else(|e| e.into_inner()) = Some(rules);
            }
        }
    });
    std::thread::Builder::new()
        .name("detect".into())
        .spawn(move || evaluate(LiveDetector::new(rules), rx, sink, runtime, router, updates))?;
    Ok(Some(handle))
}

fn evaluate(
    mut detector: LiveDetector,
    rx: Receiver<EncodedEvents>,
    sink: Arc<dyn EventSink>,
    rt: tokio::runtime::Handle,
    mut router: Router,
    updates: DetectHandle,
) {
    let mut last_tick = std::time::Instant::now();
    loop {
        let received = rx.recv_timeout(TICK);
        if let Some(rules) = updates.rules.lock().unwrap_or_else(|e| e.into_inner()).take() {
            detector.set_rules(rules);
        }
        // A revision applied while waiting counts for the batch that woke us.
        if let Some(config) = updates.take() {
            let tenants: Vec<String> = config.tenants.iter().map(|t| t.id.clone()).collect();
            match Monitors::new(&config.detect.monitor, &tenants, jiff::Timestamp::now()) {
                Ok(m) => detector.set_monitors(m),
                Err(e) => {
                    tracing::error!(error = %e, "monitor rules of the revision not applied; the previous ones stay")
                }
            }
        }
        let pending = updates.pending.lock().unwrap_or_else(|e| e.into_inner()).is_some();
        updates.active.store(pending || !detector.is_idle(), Ordering::Release);
        let now = jiff::Timestamp::now();
        let mut alerts = match received {
            Ok(batch) => detector.evaluate(batch.iter(), now),
            Err(RecvTimeoutError::Timeout) => Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // Absence rules between batches and under steady traffic alike.
        if last_tick.elapsed() >= TICK {
            last_tick = std::time::Instant::now();
            alerts.extend(detector.tick(now));
        }
        if alerts.is_empty() {
            continue;
        }
        if !router.is_empty() {
            let values: Vec<serde_json::Value> = alerts.iter().filter_map(|a| serde_json::to_value(a).ok()).collect();
            router.route(&values, now);
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
