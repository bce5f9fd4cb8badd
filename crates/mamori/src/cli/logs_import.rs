//! `mamori logs import`: files into the log store, directly or through a running server.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use mamori_collect::import::{ImportFormat, ImportOptions, Importer};
use mamori_core::Event;
use mamori_core::sink::{EventSink, SubmitError};

use super::context::Context;

/// Where imported batches go.
enum Destination {
    /// This process holds the store.
    Local { store: Arc<mamori_logs::LogStore>, sink: Arc<dyn EventSink>, rt: tokio::runtime::Runtime },
    /// A running server, through its ingestion API.
    Server { url: String, token: String, agent: ureq::Agent },
}

impl Destination {
    fn submit(&self, events: Vec<Event>) -> anyhow::Result<()> {
        let mut delay = Duration::from_millis(200);
        loop {
            let outcome = match self {
                Destination::Local { sink, rt, .. } => match rt.block_on(sink.submit(&events)) {
                    Ok(_) => return Ok(()),
                    Err(SubmitError::Closed) => anyhow::bail!("the log store closed"),
                    Err(e) => e.to_string(),
                },
                Destination::Server { url, token, agent } => {
                    let body: String = events.iter().map(|e| e.to_json() + "\n").collect();
                    match agent
                        .post(url)
                        .header("Authorization", &format!("Bearer {token}"))
                        .header("Content-Type", "application/x-ndjson")
                        .send(body.as_bytes())
                    {
                        Ok(r) if r.status().is_success() => return Ok(()),
                        Ok(r) if matches!(r.status().as_u16(), 503 | 507 | 429) => {
                            format!("server pushes back ({})", r.status())
                        }
                        Ok(mut r) => {
                            let status = r.status();
                            let text = r.body_mut().read_to_string().unwrap_or_default();
                            anyhow::bail!("the server refused the batch: {status} {text}")
                        }
                        Err(e) => anyhow::bail!("cannot reach the running mamori at {url}: {e}"),
                    }
                }
            };
            // Push-back (disk full, pipeline saturated): wait and retry, never drop.
            eprintln!("waiting: {outcome}; retrying in {} ms", delay.as_millis());
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_secs(10));
        }
    }
}

pub fn run(
    ctx: &Context,
    files: &[PathBuf],
    tenant: Option<String>,
    format: &str,
    sender: Option<IpAddr>,
) -> anyhow::Result<ExitCode> {
    let format = match format {
        "auto" => ImportFormat::Auto,
        "ndjson" | "json" => ImportFormat::Ndjson,
        "syslog" => ImportFormat::Syslog,
        other => anyhow::bail!("--format '{other}' is not one of auto, ndjson, syslog"),
    };
    let service = ctx.config_service()?;
    let (_, managed) = ctx.current_managed(&service)?;
    if let Some(t) = &tenant
        && managed.tenant(t).is_none()
    {
        anyhow::bail!("--tenant '{t}' is not a tenant (see mamori tenant list)");
    }
    let timezone = jiff::tz::TimeZone::get(&ctx.config.file.mamori.timezone)?;
    let directory = Arc::new(managed.directory());
    let dest = destination(ctx)?;
    let mut total = mamori_collect::import::ImportStats::default();
    for path in files {
        let options = ImportOptions {
            format,
            tenant: tenant.clone(),
            sender,
            directory: Some(directory.clone()),
            timezone: timezone.clone(),
            ..Default::default()
        };
        let mut importer = Importer::open(path, options)?;
        let bar = ProgressBar::new(importer.total_bytes());
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(path.display().to_string());
        while let Some(batch) = importer.next_batch()? {
            dest.submit(batch)?;
            bar.set_position(importer.bytes_read());
        }
        bar.finish();
        let s = importer.stats();
        println!(
            "{}: {} events ({} unparsable lines kept raw, {} truncated)",
            path.display(),
            s.events,
            s.parse_failures,
            s.truncated
        );
        total.events += s.events;
        total.parse_failures += s.parse_failures;
        total.truncated += s.truncated;
    }
    if let Destination::Local { store, .. } = &dest {
        let bar = ProgressBar::new_spinner();
        bar.set_message("indexing");
        bar.enable_steady_tick(Duration::from_millis(200));
        store.wait_indexed(store.durable_lsn(), Duration::from_secs(3600));
        bar.finish_and_clear();
        store.close();
    }
    println!("imported {} events", total.events);
    Ok(ExitCode::SUCCESS)
}

fn destination(ctx: &Context) -> anyhow::Result<Destination> {
    if !mamori_logs::is_locked(&ctx.logs_dir()) {
        let store = super::logs_cmd::open_store(ctx)?;
        let sink = store.sink();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        return Ok(Destination::Local { store, sink, rt });
    }
    let token_file = ctx.local_token_file();
    let token = std::fs::read_to_string(&token_file)
        .with_context(|| {
            format!("a mamori server is running but its local token {} is not readable", token_file.display())
        })?
        .trim()
        .to_string();
    let api = &ctx.config.file.api;
    let scheme = if api.tls_cert.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}/api/v1/ingest", api.listen);
    let agent = if let Some(cert) = &api.tls_cert {
        let pem = std::fs::read(ctx.config.resolve(cert))?;
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&certs)).build();
        ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).build().new_agent()
    } else {
        ureq::Agent::config_builder().http_status_as_error(false).build().new_agent()
    };
    Ok(Destination::Server { url, token, agent })
}
