//! Binding and running the network listeners, each named by its configuration key in errors.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use mamori_collect::CollectContext;
use mamori_collect::receiver::{tcp, tls, udp};
use mamori_logs::LogStore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::apply::Applier;
use crate::cli::context::Context;

/// The listeners started, for the banner, the status endpoint and an orderly shutdown.
#[derive(Default)]
pub struct Running {
    pub endpoints: Vec<(String, String)>,
    tasks: Vec<(String, JoinHandle<std::io::Result<()>>)>,
}

impl Running {
    pub async fn start_syslog(
        &mut self,
        ctx: &Context,
        collect: Arc<CollectContext>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let syslog = &ctx.config.file.collect.syslog;
        if let Some(addr) = syslog.udp {
            let socket = tokio::net::UdpSocket::bind(addr)
                .await
                .with_context(|| bind_error("collect.syslog.udp", "UDP", addr))?;
            self.spawn("syslog udp", format!("udp://{addr}"), udp::serve(socket, collect.clone(), shutdown.clone()));
        }
        if let Some(addr) = syslog.tcp {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| bind_error("collect.syslog.tcp", "TCP", addr))?;
            self.spawn("syslog tcp", format!("tcp://{addr}"), tcp::serve(listener, collect.clone(), shutdown.clone()));
        }
        if let Some(addr) = syslog.tls {
            let (cert, key) = match (&syslog.tls_cert, &syslog.tls_key) {
                (Some(c), Some(k)) => (ctx.config.resolve(c), ctx.config.resolve(k)),
                _ => {
                    let names = vec!["localhost".to_string(), addr.ip().to_string()];
                    tls::ensure_self_signed(&ctx.data_dir.join("tls"), &names)?
                }
            };
            let config = tls::load_server_config(&cert, &key)?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| bind_error("collect.syslog.tls", "TCP", addr))?;
            self.spawn(
                "syslog tls",
                format!("tls://{addr} (certificate {})", cert.display()),
                tls::serve(listener, config, collect, shutdown),
            );
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // each is a part the API serves or reports
    pub async fn start_api(
        &mut self,
        ctx: &Context,
        store: Arc<dyn mamori_store::ControlStore>,
        logs: Arc<LogStore>,
        applier: Arc<Applier>,
        revision: &mamori_store::Revision,
        managed: &mamori_core::ManagedConfig,
        edge: Option<Arc<mamori_edge::EdgeContext>>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<mamori_api::AppState> {
        let api = &ctx.config.file.api;
        let mut api_config = api.clone();
        api_config.tls_cert = api.tls_cert.as_ref().map(|p| ctx.config.resolve(p));
        api_config.tls_key = api.tls_key.as_ref().map(|p| ctx.config.resolve(p));
        let endpoints: Vec<(String, String)> = self.endpoints.clone();
        let handle = tokio::runtime::Handle::current();
        let state = mamori_api::AppState::builder(store, logs)
            .settings(mamori_api::ApiSettings::from_config(&api_config))
            .current(Some(revision.number), managed.clone())
            .on_change(move |rev, config| {
                let _guard = handle.enter();
                applier.apply(rev, config);
            })
            .status(move || {
                // The edge's listeners move on reload: their addresses are read when asked.
                let edge_bound = edge.as_ref().map(|e| e.bound_addrs());
                serde_json::json!({"listeners": status_listeners(&endpoints, edge_bound.as_deref())})
            })
            .build()?;
        let tls = mamori_api::load_tls(&api_config)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = tokio::net::TcpListener::bind(api.listen)
            .await
            .with_context(|| bind_error("api.listen", "TCP", api.listen))?;
        // The console is served next to the API on the same port, under /console/.
        let router = mamori_api::router_with(state.clone(), mamori_console::router(&state));
        let stop = shutdown.clone();
        self.spawn(
            "api",
            format!(
                "{scheme}://{}/api/v1/ (OpenAPI: /api/v1/openapi.json, metrics: /metrics, console: /console/)",
                api.listen
            ),
            async move { mamori_api::serve(listener, router, tls, async move { stop.cancelled().await }).await },
        );
        Ok(state)
    }

    /// The forward web proxy, with the lists of the revision in force; later revisions reach it
    /// through the applier.
    pub async fn start_proxy(
        &mut self,
        ctx: &Context,
        logs: &LogStore,
        managed: &mamori_core::ManagedConfig,
        engine: Option<Arc<mamori_scan::Engine>>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Option<(Arc<mamori_proxy::ProxyContext>, super::apply::ProxyHook)>> {
        let proxy = &ctx.config.file.proxy;
        let Some(addr) = proxy.listen else { return Ok(None) };
        let hook = super::apply::ProxyHook {
            base: ctx.config.path.parent().map(|p| p.to_path_buf()).unwrap_or_default(),
            allow_unassigned: proxy.allow_unassigned,
        };
        let (state, report) = {
            let (managed, hook) = (managed.clone(), hook.clone());
            tokio::task::spawn_blocking(move || mamori_proxy::build_state(&managed, &hook.base, hook.allow_unassigned))
                .await?
                .map_err(|e| anyhow::anyhow!("the web proxy cannot start: {e}"))?
        };
        for line in &report.loaded {
            tracing::info!(list = %line, "web filter list loaded");
        }
        let settings = mamori_proxy::ProxySettings {
            header_timeout: std::time::Duration::from_secs(proxy.header_timeout_secs.max(1)),
            connect_timeout: std::time::Duration::from_secs(proxy.connect_timeout_secs.max(1)),
            max_request_body_bytes: proxy.max_request_body_bytes,
            scan_max_bytes: proxy.scan_max_bytes,
            h2c_origins: proxy
                .h2c_origins
                .iter()
                .map(|o| mamori_proxy::H2cOrigin::parse(o))
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("proxy.h2c_origins: {e}"))?,
            ..Default::default()
        };
        let tls = mamori_proxy::tls::TlsInspector::new(&mamori_proxy::tls::TlsSettings {
            data_dir: ctx.data_dir.clone(),
            extra_ca: proxy.tls_extra_ca.as_ref().map(|p| ctx.config.resolve(p)),
            leaf_cache: proxy.tls_leaf_cache,
            pin_bypass: std::time::Duration::from_secs(proxy.tls_pin_bypass_minutes.saturating_mul(60)),
        })
        .map_err(|e| anyhow::anyhow!("proxy.tls_extra_ca: {e}"))?;
        let services = mamori_proxy::Services {
            tls: Some(Arc::new(tls)),
            scanner: engine.map(|e| Arc::new(mamori_proxy::EngineScanner(e)) as mamori_proxy::SharedScanner),
            resolver: match proxy.resolver {
                Some(server) => {
                    mamori_proxy::Resolver::dns(server).map_err(|e| anyhow::anyhow!("proxy.resolver: {e}"))?
                }
                None => mamori_proxy::Resolver::default(),
            },
        };
        let (access_log, _writer) = mamori_proxy::AccessLog::start(access_log_sink(logs.sink()), "proxy");
        let context = mamori_proxy::ProxyContext::with_services(state, access_log, settings, services);
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| bind_error("proxy.listen", "TCP", addr))?;
        self.spawn(
            "web proxy",
            format!("http://{addr} (forward proxy)"),
            mamori_proxy::serve(listener, context.clone(), shutdown),
        );
        Ok(Some((context, hook)))
    }

    /// The mail relay and its delivery worker, with the tenants of the revision in force;
    /// later revisions reach its relay policy through the applier.
    pub async fn start_mail(
        &mut self,
        ctx: &Context,
        logs: &LogStore,
        managed: &mamori_core::ManagedConfig,
        engine: Option<Arc<mamori_scan::Engine>>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Option<Arc<mamori_mail::MailContext>>> {
        let mail = &ctx.config.file.mail;
        let Some(addr) = mail.listen else { return Ok(None) };
        let paths = mamori_mail::service::Paths {
            queue_dir: mamori_mail::service::queue_dir(mail, &ctx.data_dir),
            quarantine_dir: mamori_mail::service::quarantine_dir(mail, &ctx.data_dir),
            tls: match (&mail.tls_cert, &mail.tls_key) {
                (Some(c), Some(k)) => Some((ctx.config.resolve(c), ctx.config.resolve(k))),
                _ => None,
            },
            self_signed_dir: ctx.data_dir.join("tls"),
            config_dir: mamori_mail::dkim_sign::key_base(&ctx.config.path),
        };
        let settings = mamori_mail::delivery::worker::DeliverySettings::from_config(mail);
        if mail.antivirus && engine.is_none() {
            tracing::warn!("mail.antivirus is on but [scan] is not running: mail is not scanned for malware");
        }
        let (context, worker) =
            mamori_mail::service::build(mail, &managed.tenants, &paths, logs.sink(), settings, engine)
                .map_err(|e| anyhow::anyhow!("the mail relay cannot start: {e}"))?;
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| bind_error("mail.listen", "TCP", addr))?;
        self.spawn(
            "mail",
            format!("smtp://{addr} (relay, STARTTLS; queue {})", paths.queue_dir.display()),
            mamori_mail::server::serve(listener, context.clone(), shutdown.clone()),
        );
        self.spawn("mail queue", "delivery worker".into(), worker.run(shutdown.clone()));
        self.spawn(
            "mail quarantine",
            format!("expiry of {}", paths.quarantine_dir.display()),
            mamori_mail::quarantine::expiry::run(context.clone(), shutdown),
        );
        Ok(Some(context))
    }

    /// The edge reverse proxy with the WAF, when sites are configured; reloads reach it through
    /// the signal watcher.
    pub async fn start_edge(
        &mut self,
        ctx: &Context,
        logs: &LogStore,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Option<Arc<mamori_edge::EdgeContext>>> {
        let edge = ctx.config.file.edge.clone();
        if edge.sites.is_empty() {
            return Ok(None);
        }
        let base = ctx.config.path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        let config = edge.clone();
        let state = tokio::task::spawn_blocking(move || mamori_edge::build_state(&config, &base))
            .await?
            .map_err(|e| anyhow::anyhow!("the edge cannot start: {e}"))?;
        tracing::info!(sites = state.sites.len(), rulesets = state.ruleset_count(), "edge sites loaded");
        let (events, _writer) = mamori_edge::EventWriter::start(logs.sink(), "edge");
        let context = mamori_edge::EdgeContext::new(state, mamori_edge::EdgeSettings::from_config(&edge), events);
        // The edge owns its listeners (HTTPS only when a site has a certificate): a reload may
        // move them. This task closes them on shutdown.
        let bound = context.listen(&edge, shutdown.clone()).await.map_err(|e| {
            let what = bind_error(e.kind.key(), "TCP", e.addr);
            anyhow::Error::new(e.source).context(what)
        })?;
        self.endpoints.extend(edge_endpoints(&bound));
        let (edge_ctx, edge_shutdown) = (context.clone(), shutdown.clone());
        self.tasks.push((
            "edge".to_string(),
            tokio::spawn(async move {
                edge_shutdown.cancelled().await;
                edge_ctx.close_listeners().await
            }),
        ));
        context.start_health_checks(shutdown);
        Ok(Some(context))
    }

    /// The DNS service on UDP and TCP at each configured address; zones and policy zones
    /// are re-read on reload through the signal watcher.
    pub async fn start_dns(
        &mut self,
        ctx: &Context,
        logs: &LogStore,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Option<Arc<mamori_dns::DnsService>>> {
        let dns = ctx.config.file.dns.clone();
        let Some(first) = dns.listen else { return Ok(None) };
        let base = ctx.config.path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        let tenants = ctx.config.file.tenants.clone();
        let (events, _writer) = mamori_core::event_writer::EventWriter::start(logs.sink(), "dns");
        let config = dns.clone();
        let service =
            tokio::task::spawn_blocking(move || mamori_dns::build::service(&config, &tenants, &base, Some(events)))
                .await?
                .map_err(|e| anyhow::anyhow!("the DNS service cannot start: {e}"))?;
        let service = Arc::new(service);
        // NOTIFY to the secondaries at start, and transferred policy zones kept fresh.
        self.tasks.push(("dns refresh".to_string(), tokio::spawn(service.clone().maintain(shutdown.clone()))));
        for (i, addr) in std::iter::once(first).chain(dns.also_listen.iter().copied()).enumerate() {
            let key = if i == 0 { "dns.listen".to_string() } else { format!("dns.also_listen[{}]", i - 1) };
            let udp = tokio::net::UdpSocket::bind(addr).await.with_context(|| bind_error(&key, "UDP", addr))?;
            let tcp = tokio::net::TcpListener::bind(addr).await.with_context(|| bind_error(&key, "TCP", addr))?;
            let mode = if dns.recursion { "authoritative, recursive for tenants" } else { "authoritative" };
            self.spawn(
                "dns udp",
                format!("dns://{addr} (UDP; {mode})"),
                mamori_dns::server::serve_udp(udp, service.clone(), shutdown.clone()),
            );
            self.spawn(
                "dns tcp",
                format!("dns+tcp://{addr} (TCP)"),
                mamori_dns::server::serve_tcp(tcp, service.clone(), shutdown.clone()),
            );
        }
        Ok(Some(service))
    }

    pub fn spawn(&mut self, name: &str, url: String, fut: impl Future<Output = std::io::Result<()>> + Send + 'static) {
        self.endpoints.push((name.to_string(), url));
        self.tasks.push((name.to_string(), tokio::spawn(fut)));
    }

    pub fn print_banner(&self, ctx: &Context) {
        println!("mamori is up (pid {}), data in {}", std::process::id(), ctx.data_dir.display());
        for (name, url) in &self.endpoints {
            println!("  {name:<11} {url}");
        }
        println!("  stop with Ctrl-C (or SIGTERM); apply configuration changes with `mamori reload`");
    }

    /// Waits for every listener to finish after shutdown was signalled.
    pub async fn wait(self) {
        for (name, task) in self.tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(listener = %name, error = %e, "listener failed"),
                Err(e) => tracing::error!(listener = %name, error = %e, "listener task panicked"),
            }
        }
    }
}

/// The log store, except in the diagnostic run of `bench/proxy-throughput`, which sets
/// `MAMORI_PROXY_ACCESS_LOG=discard` to measure the proxy without the log store.
fn access_log_sink(store: Arc<dyn mamori_core::EventSink>) -> Arc<dyn mamori_core::EventSink> {
    if std::env::var("MAMORI_PROXY_ACCESS_LOG").as_deref() != Ok("discard") {
        return store;
    }
    tracing::warn!("MAMORI_PROXY_ACCESS_LOG=discard: the web proxy's access log is NOT stored (benchmarks only)");
    Arc::new(mamori_proxy::DiscardSink)
}

fn bind_error(key: &str, proto: &str, addr: SocketAddr) -> String {
    format!("cannot listen on {proto} {addr} ({key}): is another program using it? Change {key} in the configuration")
}

/// The edge's listeners as banner and status entries (name, URL).
fn edge_endpoints(bound: &[(mamori_edge::ListenerKind, SocketAddr)]) -> Vec<(String, String)> {
    bound
        .iter()
        .map(|(kind, addr)| {
            let (name, scheme) = match kind {
                mamori_edge::ListenerKind::Http => ("edge http", "http"),
                mamori_edge::ListenerKind::Https => ("edge https", "https"),
            };
            (name.to_string(), format!("{scheme}://{addr} (web sites, WAF)"))
        })
        .collect()
}

/// The `listeners` of the status report: the endpoints started, with the edge's entries
/// replaced by the addresses it is bound to now (`edge_bound`), since reloads move them.
fn status_listeners(
    endpoints: &[(String, String)],
    edge_bound: Option<&[(mamori_edge::ListenerKind, SocketAddr)]>,
) -> serde_json::Map<String, serde_json::Value> {
    let started = endpoints.iter().filter(|(name, _)| edge_bound.is_none() || !name.starts_with("edge "));
    let edge = edge_bound.map(edge_endpoints).unwrap_or_default();
    started
        .chain(edge.iter())
        .map(|(name, url)| (name.clone(), serde_json::json!({"state": "running", "url": url})))
        .collect()
}

#[cfg(test)]
mod status_tests {
    use mamori_edge::ListenerKind;

    #[test]
    fn status_lists_the_edge_addresses_in_force() {
        let at_start = super::edge_endpoints(&[(ListenerKind::Http, "127.0.0.1:8080".parse().unwrap())]);
        let mut endpoints = vec![("syslog udp".to_string(), "udp://127.0.0.1:514".to_string())];
        endpoints.extend(at_start);
        let moved = [
            (ListenerKind::Http, "127.0.0.1:8081".parse().unwrap()),
            (ListenerKind::Https, "127.0.0.1:8443".parse().unwrap()),
        ];
        let status = super::status_listeners(&endpoints, Some(&moved));
        assert_eq!(status.len(), 3, "{status:?}");
        assert_eq!(status["edge http"]["url"], "http://127.0.0.1:8081 (web sites, WAF)");
        assert_eq!(status["edge https"]["url"], "https://127.0.0.1:8443 (web sites, WAF)");
        assert_eq!(status["syslog udp"]["url"], "udp://127.0.0.1:514");
        // Without the edge running, the endpoints are reported as started.
        assert_eq!(
            super::status_listeners(&endpoints, None)["edge http"]["url"],
            "http://127.0.0.1:8080 (web sites, WAF)"
        );
    }
}
