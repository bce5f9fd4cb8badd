//! Live detection in `mamori up`: the Sigma rules of `[detect]` and the monitor rules of the
//! revision in force see every batch the log store accepts (through its tap, whichever receiver
//! sent it) on a thread of their own; their alerts go back into the store and to the channels
//! of `[[detect.channels]]`.
//!
//! Following changes without a restart: each revision's monitor rules are handed over by the
//! applier; SIGHUP (`mamori reload`) re-reads the file, and once the whole file is accepted
//! [`DetectHandle::reload`] re-reads the rule files with the file's `rules`, `windows_pipeline`
//! and `[detect.placeholders]`, and starts the file's channels with its `dedup_secs` when they
//! changed. A file that is refused, a pipeline that does not load or a channel that cannot be
//! built leaves everything running as it was. Turning `enabled` on or off and `queue_batches`
//! take a restart.
//!
//! Ingestion never waits for detection: when the queue is full a batch is left unevaluated,
//! counted (`detect_events_skipped`) and logged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mamori_core::ManagedConfig;
use mamori_core::config::LoadedConfig;
use mamori_core::config::detect::AlertChannel;
use mamori_core::sink::{EncodedEvents, EventSink, SubmitError};
use mamori_detect::live::{LiveDetector, count_skipped};
use mamori_detect::monitor::Monitors;
use mamori_detect::route::Router;
use mamori_detect::{CompileOptions, Pipeline, RuleSet};
use mamori_logs::LogStore;

use crate::cli::context::Context;

/// How often absence rules are checked.
const TICK: Duration = Duration::from_secs(5);

/// Lets revisions and reloads reach the detection thread: what changed waits here until the
/// thread picks it up (before its next batch).
#[derive(Clone, Default)]
pub struct DetectHandle {
    pending: Arc<Mutex<Option<ManagedConfig>>>,
    /// Rules re-read on reload, waiting for the thread.
    rules: Arc<Mutex<Option<RuleSet>>>,
    /// The channels of a reloaded file, waiting for the thread.
    router: Arc<Mutex<Option<Router>>>,
    /// The `[detect]` settings in force (what a reload compares with and falls back to).
    settings: Arc<Mutex<Option<Settings>>>,
    /// Whether any rule could use events (the tap copies batches only then).
    active: Arc<AtomicBool>,
}

/// The file's `[detect]` settings that a reload can change.
#[derive(Clone)]
struct Settings {
    source: Arc<RuleSource>,
    /// With `ca_file` resolved against the file's directory.
    channels: Vec<AlertChannel>,
    dedup_secs: u64,
}

/// Where the Sigma rules come from (read at start and on reload).
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

impl Settings {
    /// The settings of `config`; fails when the Windows pipeline does not load.
    fn of(config: &LoadedConfig) -> anyhow::Result<Settings> {
        let detect = &config.file.detect;
        let pipeline = match &detect.windows_pipeline {
            Some(p) => {
                let path = config.resolve(p);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("[detect] windows_pipeline {}: {e}", path.display()))?;
                Pipeline::from_yaml(&text)
                    .map_err(|e| anyhow::anyhow!("[detect] windows_pipeline {}: {e}", path.display()))?
            }
            None => Pipeline::default(),
        };
        let source = RuleSource {
            paths: detect.rules.iter().map(|p| config.resolve(p)).collect(),
            pipeline,
            placeholders: detect.placeholders.clone(),
        };
        let mut channels = detect.channels.clone();
        for c in &mut channels {
            c.ca_file = c.ca_file.as_deref().map(|p| config.resolve(p));
        }
        Ok(Settings { source: Arc::new(source), channels, dedup_secs: detect.dedup_secs })
    }

    fn start_router(&self) -> anyhow::Result<Router> {
        Router::start(&self.channels, self.dedup_secs).map_err(|e| anyhow::anyhow!("[detect] {e}"))
    }
}

/// Problems `[detect]` of `config` would meet when put in force (a Windows pipeline that does not
/// load, a channel that cannot be built): what `mamori reload` checks before telling the server.
pub fn check(config: &LoadedConfig) -> anyhow::Result<()> {
    let settings = Settings::of(config)?;
    mamori_detect::route::check(&settings.channels).map_err(|e| anyhow::anyhow!("[detect] {e}"))
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

    /// Puts the `[detect]` settings of an accepted file in force (call off the async threads):
    /// the rule files are re-read with its rules, pipeline and placeholders; its channels and
    /// de-duplication window replace the running ones when they differ. When the pipeline does
    /// not load or a channel cannot be built nothing changes and the error says why. Returns a
    /// summary for the log.
    pub fn reload(&self, config: &LoadedConfig) -> anyhow::Result<String> {
        anyhow::ensure!(config.file.detect.enabled, "[detect] enabled = false takes effect at the next start");
        let settings = Settings::of(config)?;
        let previous = self.settings.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let same_channels =
            previous.as_ref().is_some_and(|p| p.channels == settings.channels && p.dedup_secs == settings.dedup_secs);
        let router = match same_channels {
            true => None,
            false => Some(settings.start_router()?),
        };
        let rules = settings.source.load();
        let mut summary = format!(
            "Sigma rules reloaded: {} rules ({} correlations), {} not loaded",
            rules.rules.len(),
            rules.correlations.len(),
            rules.failures.len()
        );
        if let Some(r) = &router {
            let names = r.names();
            summary += &match names.is_empty() {
                true => "; no alert channels".to_string(),
                false => format!("; alert channels {} (de-duplication {} s)", names.join(", "), settings.dedup_secs),
            };
        }
        // At once, so that no batch after the reload is passed over.
        if !rules.rules.is_empty() {
            self.active.store(true, Ordering::Release);
        }
        *self.rules.lock().unwrap_or_else(|e| e.into_inner()) = Some(rules);
        if let Some(r) = router {
            *self.router.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        }
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = Some(settings);
        Ok(summary)
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
    let settings = Settings::of(&ctx.config)?;
    let rules = settings.source.load();
    let loaded = rules.rules.len();
    if loaded > 0 {
        println!(
            "detect: {loaded} Sigma rules ({} correlations; {} not loaded, see the log; {} without a log source mamori has)",
            rules.correlations.len(),
            rules.failures.len(),
            rules.unmapped().count()
        );
    }
    let router = settings.start_router()?;
    if !router.is_empty() {
        println!("detect: alerts also go to {}", router.names().join(", "));
    }
    let handle = DetectHandle::default();
    *handle.settings.lock().unwrap_or_else(|e| e.into_inner()) = Some(settings);
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
        if let Some(mut reloaded) = updates.router.lock().unwrap_or_else(|e| e.into_inner()).take() {
            // The old channels' threads deliver what they hold, then end.
            reloaded.take_over(&mut router);
            router = reloaded;
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
