//! The scanning engine inside `mamori up`: loads signatures, serves ICAP for proxies, reloads
//! signatures when their files change or on SIGHUP (`mamori reload`), records every
//! detection in the log store, and raises an alarm when a signature source is stale.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context as _;
use mamori_core::EventSink;
use mamori_core::event::Event;
use mamori_scan::icap::IcapServer;
use mamori_scan::{Engine, Limits, SignatureConfig, SignatureStore};
use tokio_util::sync::CancellationToken;

use crate::cli::context::Context;

const WATCH_INTERVAL: Duration = Duration::from_secs(10);
const FRESHNESS_INTERVAL: Duration = Duration::from_secs(600);

pub struct ScanService {
    pub engine: Arc<Engine>,
    /// The ICAP listener, when `scan.icap` is set.
    pub listener: Option<tokio::net::TcpListener>,
    pub url: String,
}

/// Loads the engine (the web proxy scans with it too) and binds the ICAP listener if asked.
pub async fn start(
    ctx: &Context,
    sink: Arc<dyn EventSink>,
    shutdown: CancellationToken,
) -> anyhow::Result<ScanService> {
    let scan = &ctx.config.file.scan;
    let config = SignatureConfig {
        clamav: scan.clamav_db.iter().map(|p| ctx.config.resolve(p)).collect(),
        yara: scan.rules.iter().map(|p| ctx.config.resolve(p)).collect(),
    };
    let store = tokio::task::spawn_blocking(move || Arc::new(SignatureStore::open(config))).await?;
    let set = store.snapshot();
    println!(
        "signatures: {} ClamAV ({} unsupported), {} YARA rules ({} files failed)",
        set.clamav.len(),
        set.report.clamav.unsupported_total(),
        set.report.yara_rules,
        set.report.yara_failures.len()
    );
    let mut engine = Engine::new(store.clone(), Limits::default());
    engine.clamd = scan.clamd.as_deref().map(mamori_scan::clamd::Clamd::parse);
    let engine = Arc::new(engine);
    let listener = match scan.icap {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("scan.icap: cannot listen on TCP {addr}"))?,
        ),
        None => None,
    };
    let url = scan.icap.map(|addr| format!("icap://{addr}/respmod (and /reqmod)")).unwrap_or_default();

    let stop_watch = Arc::new(AtomicBool::new(false));
    {
        let store = store.clone();
        let stop = stop_watch.clone();
        std::thread::Builder::new().name("signature-watch".into()).spawn(move || store.watch(WATCH_INTERVAL, stop))?;
    }
    let max_age = Duration::from_secs(scan.max_signature_age_hours.saturating_mul(3600));
    tokio::spawn(upkeep(store, sink, max_age, shutdown, stop_watch));
    Ok(ScanService { engine, listener, url })
}

/// The ICAP server; every detection becomes an alert in the log store.
pub async fn serve_icap(
    service: ScanService,
    sink: Arc<dyn EventSink>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let hook: mamori_scan::icap::ReportHook = Arc::new(move |report, peer| {
        let events = mamori_scan::events::detection_events(report, "icap", None, jiff::Timestamp::now());
        if events.is_empty() {
            return;
        }
        let mut events = events;
        for event in &mut events {
            event.source = Some(mamori_core::event::Endpoint { ip: Some(peer.ip()), ..Default::default() });
        }
        submit(sink.clone(), events);
    });
    let Some(listener) = service.listener else { return Ok(()) };
    let server = IcapServer::new(service.engine, Some(hook));
    tokio::select! {
        result = server.serve(listener) => result,
        _ = shutdown.cancelled() => Ok(()),
    }
}

fn submit(sink: Arc<dyn EventSink>, events: Vec<Event>) {
    tokio::spawn(async move {
        if let Err(e) = sink.submit(&events).await {
            tracing::error!(error = %e, "cannot store scan events");
        }
    });
}

/// SIGHUP reloads; every few minutes, stale sources raise an alarm (once per version).
async fn upkeep(
    store: Arc<SignatureStore>,
    sink: Arc<dyn EventSink>,
    max_age: Duration,
    shutdown: CancellationToken,
    stop_watch: Arc<AtomicBool>,
) {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(FRESHNESS_INTERVAL);
    let mut alarmed: HashSet<(String, String)> = HashSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = async { match hup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending().await } } => {
                let store = store.clone();
                let _ = tokio::task::spawn_blocking(move || store.reload()).await;
            }
            _ = tick.tick() => {
                let set = store.snapshot();
                let now = jiff::Timestamp::now();
                let events: Vec<Event> = set
                    .stale_sources(now, max_age)
                    .into_iter()
                    .filter(|s| alarmed.insert((s.name.clone(), s.version.clone())))
                    .map(|s| mamori_scan::events::stale_signature_alarm(s, max_age, now))
                    .collect();
                if !events.is_empty() {
                    submit(sink.clone(), events);
                }
            }
        }
    }
    stop_watch.store(true, std::sync::atomic::Ordering::Relaxed);
}
