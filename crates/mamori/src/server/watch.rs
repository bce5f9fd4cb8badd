//! Keeping the running services on the latest configuration revision: revisions recorded by
//! other processes (the CLI) are picked up by polling the store, `SIGHUP` re-reads the file
//! (and, when the whole file is accepted, hands its service settings to the edge, DNS and live
//! detection), `SIGUSR1` applies the latest revision at once, `SIGINT`/`SIGTERM` stop mamori.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mamori_control::ConfigService;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::apply::Applier;
use crate::cli::context::{Context, describe, file_author};

const POLL: Duration = Duration::from_secs(2);

pub async fn revisions_and_signals(
    config_path: PathBuf,
    service: ConfigService,
    applier: Arc<Applier>,
    api: Option<mamori_api::AppState>,
    edge: Option<Arc<mamori_edge::EdgeContext>>,
    dns: Option<Arc<mamori_dns::DnsService>>,
    detect: Option<super::detect_service::DetectHandle>,
    shutdown: CancellationToken,
) {
    let (Ok(mut hup), Ok(mut usr1), Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        shutdown.cancel();
        return;
    };
    let mut tick = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                tracing::info!("SIGHUP: re-reading the configuration file");
                let path = config_path.clone();
                let svc = service.clone();
                let outcome = tokio::task::spawn_blocking(move || reload_file(&path, &svc)).await;
                match outcome {
                    Ok(Ok((msg, loaded))) => {
                        tracing::info!("{msg}");
                        if let Some(edge) = &edge {
                            reload_edge(edge, loaded.file.edge.clone(), &config_path).await;
                        }
                        if let Some(detect) = &detect {
                            reload_detect(detect.clone(), loaded.clone()).await;
                        }
                        if let Some(dns) = &dns {
                            reload_dns(dns.clone(), loaded.file, &config_path).await;
                        }
                    }
                    Ok(Err(e)) => tracing::error!("the configuration was refused; the running one stays: {e:#}"),
                    Err(e) => tracing::error!(error = %e, "reload task failed"),
                }
                catch_up(&service, &applier, api.as_ref()).await;
            }
            _ = usr1.recv() => catch_up(&service, &applier, api.as_ref()).await,
            _ = tick.tick() => catch_up(&service, &applier, api.as_ref()).await,
        }
    }
    shutdown.cancel();
}

fn reload_file(
    path: &std::path::Path,
    service: &ConfigService,
) -> anyhow::Result<(String, mamori_core::config::LoadedConfig)> {
    let ctx = Context::load(path)?;
    let outcome = service.offer_file(&ctx.config.managed(), &file_author(path), "SIGHUP")?;
    Ok((describe(&outcome), ctx.config))
}

/// Sigma rules, placeholders and alert channels from the file, put in force only when the
/// pipeline loads and every channel can be built.
async fn reload_detect(detect: super::detect_service::DetectHandle, config: mamori_core::config::LoadedConfig) {
    match tokio::task::spawn_blocking(move || detect.reload(&config)).await {
        Ok(Ok(summary)) => tracing::info!("detection reloaded: {summary}"),
        Ok(Err(e)) => tracing::error!("detection keeps its running rules and alert channels: {e:#}"),
        Err(e) => tracing::error!(error = %e, "detection reload task failed"),
    }
}

/// Zones and policy zones from the file, put in force only when every one of them loads.
async fn reload_dns(dns: Arc<mamori_dns::DnsService>, file: mamori_core::config::ConfigFile, path: &Path) {
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let outcome =
        tokio::task::spawn_blocking(move || mamori_dns::build::reload(&dns, &file.dns, &file.tenants, &base)).await;
    match outcome {
        Ok(Ok(summary)) => tracing::info!("DNS reloaded: {summary}"),
        Ok(Err(e)) => tracing::error!("DNS keeps its running zones and policy zones: {e}"),
        Err(e) => tracing::error!(error = %e, "DNS reload task failed"),
    }
}

/// Sites, rulesets, certificates and listen addresses from the file: compiled and bound first,
/// put in force only when all of it loads (a listener that moves lets its connections finish).
async fn reload_edge(edge: &Arc<mamori_edge::EdgeContext>, config: mamori_core::config::edge::EdgeConfig, path: &Path) {
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if let Err(e) = edge.reload(config, &base).await {
        tracing::error!("the edge keeps its running sites and rulesets: {e}");
    }
}

/// Applies the latest revision when it is not the one in force.
async fn catch_up(service: &ConfigService, applier: &Arc<Applier>, api: Option<&mamori_api::AppState>) {
    let svc = service.clone();
    let latest = match tokio::task::spawn_blocking(move || svc.current()).await {
        Ok(Ok(Some(latest))) => latest,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot read the latest configuration revision");
            return;
        }
        Err(_) => return,
    };
    let (rev, config) = latest;
    if rev.number == applier.current_revision() {
        return;
    }
    applier.apply(&rev, &config);
    if let Some(api) = api {
        api.set_current(Some(rev.number), config);
    }
}
