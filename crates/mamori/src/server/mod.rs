//! `mamori up`: every enabled service in one process, on the embedded default.

mod apply;
mod bootstrap;
pub(crate) mod detect_service;
mod listeners;
mod quarantine_api;
mod scan_service;
mod watch;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use mamori_control::ConfigService;
use mamori_logs::{LogStore, LogStoreConfig};
use tokio_util::sync::CancellationToken;

use crate::cli::context::{Context, describe, file_author};
use apply::Applier;

/// Services `--only` can select.
const SERVICES: &[&str] = &["api", "syslog", "proxy", "edge", "scan", "mail", "dns"];

pub fn run(config_path: &Path, only: &[String]) -> anyhow::Result<ExitCode> {
    for s in only {
        if !SERVICES.contains(&s.as_str()) {
            anyhow::bail!("--only: unknown service '{s}'; services are {}", SERVICES.join(", "));
        }
    }
    let ctx = match Context::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("mamori did not start: fix the configuration (mamori check-config) and try again");
            return Ok(ExitCode::FAILURE);
        }
    };
    if ctx.is_embedded() {
        println!(
            "no {} here: running the embedded demo configuration (write it out with `mamori init`)",
            config_path.display()
        );
    }
    std::fs::create_dir_all(&ctx.data_dir)
        .with_context(|| format!("cannot create the data directory {}", ctx.data_dir.display()))?;
    if let Some(pid) = ctx.server_pid() {
        anyhow::bail!("mamori is already running with the data directory {} (pid {pid})", ctx.data_dir.display());
    }
    let store = ctx.open_store()?;
    let service = ConfigService::new(store.clone());
    let outcome = service.offer_file(&ctx.config.managed(), &file_author(&ctx.config.path), "mamori up")?;
    println!("configuration: {}", describe(&outcome).lines().next().unwrap_or_default());
    let (revision, managed) = service.current()?.context("no configuration revision after offering the file")?;
    if let Some(path) = bootstrap::initial_admin(store.as_ref(), &ctx.data_dir)? {
        println!(
            "first start: created the administrator 'admin'; its password is in {} (readable by you only)",
            path.display()
        );
    }
    let (logs, report) = LogStore::open(LogStoreConfig::from_config(&ctx.data_dir, &ctx.config.file.logs))?;
    for r in &report.repairs {
        eprintln!("warning: write-ahead log repaired: {r}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("mamori").build()?;
    // Before any receiver starts, so that every accepted event is evaluated.
    let detect = detect_service::start(&ctx, &logs, runtime.handle().clone())?;
    let result = runtime.block_on(serve(ctx, service, logs.clone(), revision, managed, only, detect));
    let logs_for_close = logs.clone();
    runtime.block_on(async move {
        let _ = tokio::task::spawn_blocking(move || logs_for_close.close()).await;
    });
    result
}

async fn serve(
    ctx: Context,
    service: ConfigService,
    logs: Arc<LogStore>,
    revision: mamori_store::Revision,
    managed: mamori_core::ManagedConfig,
    only: &[String],
    detect: Option<detect_service::DetectHandle>,
) -> anyhow::Result<ExitCode> {
    let enabled = |s: &str| only.is_empty() || only.iter().any(|o| o == s);
    let file = &ctx.config.file;
    let timezone = jiff::tz::TimeZone::get(&file.mamori.timezone)?;
    let shutdown = CancellationToken::new();
    let collect = enabled("syslog").then(|| {
        mamori_collect::CollectContext::new(
            logs.sink(),
            mamori_collect::CollectPolicy::new(
                Arc::new(managed.directory()),
                timezone.clone(),
                file.collect.syslog.max_message_bytes,
            ),
        )
    });
    let applier = Arc::new(Applier::new(
        managed.clone(),
        collect.clone(),
        logs.clone(),
        timezone,
        file.collect.syslog.max_message_bytes,
    ));
    if let Some(d) = &detect {
        applier.attach_detect(d.clone());
    }
    applier.apply(&revision, &managed);

    let mut running = listeners::Running::default();
    if let Some(collect) = &collect {
        running.start_syslog(&ctx, collect.clone(), shutdown.clone()).await?;
    }
    // The scanning engine first: the web proxy and the mail relay scan with it too.
    let scan = match enabled("scan") {
        true => Some(scan_service::start(&ctx, logs.sink(), shutdown.clone()).await?),
        false => None,
    };
    let engine = scan.as_ref().map(|s| s.engine.clone());
    if enabled("proxy")
        && let Some((proxy, hook)) =
            running.start_proxy(&ctx, &logs, &managed, engine.clone(), shutdown.clone()).await?
    {
        applier.attach_proxy(proxy, hook);
    }
    let mut mail_context = None;
    if enabled("mail")
        && let Some(mail) = running.start_mail(&ctx, &logs, &managed, engine, shutdown.clone()).await?
    {
        mail_context = Some(mail.clone());
        applier.attach_mail(mail, file.mail.clone());
    }
    let edge = match enabled("edge") {
        true => running.start_edge(&ctx, &logs, shutdown.clone()).await?,
        false => None,
    };
    let dns = match enabled("dns") {
        true => running.start_dns(&ctx, &logs, shutdown.clone()).await?,
        false => None,
    };
    let api_state = if enabled("api") && file.api.enabled {
        Some(
            running
                .start_api(
                    &ctx,
                    service.store().clone(),
                    logs.clone(),
                    applier.clone(),
                    &revision,
                    &managed,
                    edge.clone(),
                    shutdown.clone(),
                )
                .await?,
        )
    } else {
        None
    };
    if let (Some(api), Some(mail)) = (&api_state, mail_context) {
        api.set_quarantine(std::sync::Arc::new(quarantine_api::RelayQuarantine(mail)));
    }
    if let Some(scan) = scan
        && scan.listener.is_some()
    {
        running.spawn("icap", scan.url.clone(), scan_service::serve_icap(scan, logs.sink(), shutdown.clone()));
    }
    let local_token = bootstrap::local_token(service.store().as_ref(), &ctx.local_token_file())?;
    bootstrap::write_private(&ctx.pid_file(), &std::process::id().to_string())?;
    running.print_banner(&ctx);

    let watcher = tokio::spawn(watch::revisions_and_signals(
        ctx.config.path.clone(),
        service.clone(),
        applier,
        api_state,
        edge,
        dns,
        detect,
        shutdown.clone(),
    ));
    watcher.await.context("the signal watcher stopped")?;
    println!("mamori is stopping: finishing what was received");
    running.wait().await;
    let _ = service.store().revoke_token(&local_token);
    let _ = std::fs::remove_file(ctx.pid_file());
    let _ = std::fs::remove_file(ctx.local_token_file());
    Ok(ExitCode::SUCCESS)
}
