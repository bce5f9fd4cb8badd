//! The listeners: plain HTTP and HTTPS (certificate by SNI), each speaking HTTP/1.1 and
//! HTTP/2 (ALPN over TLS, the connection preface in plain text), and the context every request
//! shares: the state in force, settings and the event writer (each site has its own origin
//! client, with its own trusted CAs).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use mamori_core::config::edge::EdgeConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::build::{BuildError, build_state};
use crate::handler::{Conn, ServerName};
use crate::listeners::{ListenError, ListenerKind, Listeners};
use crate::state::EdgeState;
use mamori_core::event_writer::EventWriter;

/// The settings that need a restart to change (reloads swap the state and move listeners).
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    pub header_timeout: Duration,
    pub connect_timeout: Duration,
    pub origin_timeout: Duration,
    pub max_request_body_bytes: u64,
    pub max_inspected_response_bytes: u64,
    pub health_check_interval: Duration,
}

impl EdgeSettings {
    pub fn from_config(c: &EdgeConfig) -> EdgeSettings {
        EdgeSettings {
            header_timeout: Duration::from_secs(c.header_timeout_secs.max(1)),
            connect_timeout: Duration::from_secs(c.connect_timeout_secs.max(1)),
            origin_timeout: Duration::from_secs(c.origin_timeout_secs.max(1)),
            max_request_body_bytes: c.max_request_body_bytes,
            max_inspected_response_bytes: c.max_inspected_response_bytes,
            health_check_interval: Duration::from_secs(c.health_check_interval_secs.max(1)),
        }
    }
}

pub struct EdgeContext {
    pub state: Arc<ArcSwap<EdgeState>>,
    pub settings: EdgeSettings,
    pub events: EventWriter,
    /// The listeners started by [`EdgeContext::listen`], which reloads move; `None` when the
    /// caller serves its own listeners ([`serve_http`], [`serve_https`]).
    listeners: tokio::sync::Mutex<Option<Listeners>>,
    /// The addresses those listeners are bound to now, readable without waiting (for status
    /// reports): set by [`EdgeContext::listen`], updated when a reload moves a listener.
    bound: std::sync::Mutex<Vec<(ListenerKind, SocketAddr)>>,
}

impl EdgeContext {
    pub fn new(state: EdgeState, settings: EdgeSettings, events: EventWriter) -> Arc<EdgeContext> {
        Arc::new(EdgeContext {
            state: Arc::new(ArcSwap::from_pointee(state)),
            settings,
            events,
            listeners: tokio::sync::Mutex::new(None),
            bound: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Binds the listen addresses of `config` (`[edge] http`, and `https` when a site has a
    /// certificate) and serves them until `shutdown`; later reloads move them when the
    /// configuration does. Returns the bound addresses.
    pub async fn listen(
        self: &Arc<Self>,
        config: &EdgeConfig,
        shutdown: CancellationToken,
    ) -> Result<Vec<(ListenerKind, SocketAddr)>, ListenError> {
        let mut guard = self.listeners.lock().await;
        let mut listeners = Listeners::new(shutdown);
        let changes = listeners.bind_changes(config).await?;
        listeners.apply(self, changes).await;
        let bound = self.record_bound(&listeners);
        *guard = Some(listeners);
        Ok(bound)
    }

    fn record_bound(&self, listeners: &Listeners) -> Vec<(ListenerKind, SocketAddr)> {
        let bound: Vec<_> = [ListenerKind::Http, ListenerKind::Https]
            .into_iter()
            .filter_map(|k| listeners.local(k).map(|a| (k, a)))
            .collect();
        *self.bound.lock().unwrap_or_else(|e| e.into_inner()) = bound.clone();
        bound
    }

    /// The addresses the listeners started by [`EdgeContext::listen`] are bound to now (after
    /// the reloads that moved them), without waiting for a reload in progress.
    pub fn bound_addrs(&self) -> Vec<(ListenerKind, SocketAddr)> {
        self.bound.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The local address a listener started by [`EdgeContext::listen`] is bound to.
    pub async fn local_addr(&self, kind: ListenerKind) -> Option<SocketAddr> {
        self.listeners.lock().await.as_ref().and_then(|l| l.local(kind))
    }

    /// Stops the listeners started by [`EdgeContext::listen`] and waits until their sockets
    /// are closed (connections finish their requests on their own).
    pub async fn close_listeners(&self) -> std::io::Result<()> {
        match self.listeners.lock().await.as_mut() {
            Some(l) => l.close().await,
            None => Ok(()),
        }
    }

    /// Builds the state of `config` off the async threads and puts it in force; when anything
    /// fails to load the state in force stays and the error says what and where. Listen
    /// addresses that changed are bound first: one that cannot be bound fails the reload the
    /// same way, and the listeners, sites and rulesets in force stay. A listener that moved
    /// stops accepting; its connections finish the requests they serve.
    pub async fn reload(self: &Arc<Self>, config: EdgeConfig, base: &Path) -> Result<(), BuildError> {
        let failed = |e: BuildError| -> Result<(), BuildError> {
            crate::metrics::metrics().reload_failures.inc();
            Err(e)
        };
        let base = base.to_path_buf();
        let built = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || build_state(&config, &base))
                .await
                .map_err(|e| BuildError { problems: vec![format!("the reload task failed: {e}")] })?
        };
        let state = match built {
            Ok(state) => state,
            Err(e) => return failed(e),
        };
        let mut listeners = self.listeners.lock().await;
        let changes = match listeners.as_ref() {
            Some(l) => match l.bind_changes(&config).await {
                Ok(c) => Some(c),
                Err(e) => return failed(BuildError { problems: vec![e.to_string()] }),
            },
            None => None,
        };
        tracing::info!(sites = state.sites.len(), rulesets = state.ruleset_count(), "edge configuration reloaded");
        self.state.store(Arc::new(state));
        if let (Some(l), Some(changes)) = (listeners.as_mut(), changes)
            && !changes.is_empty()
        {
            tracing::info!(changes = %changes.describe(), "edge listeners moved");
            l.apply(self, changes).await;
            self.record_bound(l);
        }
        Ok(())
    }

    /// Starts the active health checks of every site's origins.
    pub fn start_health_checks(self: &Arc<Self>, shutdown: CancellationToken) {
        tokio::spawn(crate::health::run(self.clone(), shutdown));
    }
}

/// Serves plain HTTP until `shutdown`.
pub async fn serve_http(
    listener: TcpListener,
    ctx: Arc<EdgeContext>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    serve(listener, ctx, None, shutdown).await
}

/// Serves HTTPS until `shutdown`, with the certificate of the site the client names (SNI).
pub async fn serve_https(
    listener: TcpListener,
    ctx: Arc<EdgeContext>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let config = crate::certs::server_config(ctx.state.clone()).map_err(std::io::Error::other)?;
    serve(listener, ctx, Some(tokio_rustls::TlsAcceptor::from(config)), shutdown).await
}

async fn serve(
    listener: TcpListener,
    ctx: Arc<EdgeContext>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    tracing::info!(local = %local, tls = tls.is_some(), "edge listening");
    while let Some((stream, peer)) = mamori_core::accept::next_connection(&listener, &shutdown, "edge").await {
        let _ = stream.set_nodelay(true);
        let conn = Conn { peer, local_port: local.port(), tls: tls.is_some() };
        let (ctx, shutdown, tls) = (ctx.clone(), shutdown.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, conn, None, ctx, shutdown).await,
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(ctx.settings.header_timeout, acceptor.accept(stream)).await;
                    match handshake {
                        Ok(Ok(s)) => {
                            let sni: ServerName = s.get_ref().1.server_name().map(Arc::from);
                            serve_connection(s, conn, sni, ctx, shutdown).await
                        }
                        Ok(Err(e)) => tracing::debug!(client = %peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(client = %peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    tracing::info!(local = %local, "edge stopped");
    Ok(())
}

async fn serve_connection<S>(stream: S, conn: Conn, sni: ServerName, ctx: Arc<EdgeContext>, shutdown: CancellationToken)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn({
        let ctx = ctx.clone();
        move |req| {
            let (ctx, sni) = (ctx.clone(), sni.clone());
            async move { Ok::<_, Infallible>(crate::handler::handle(ctx, conn, sni, req).await) }
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(ctx.settings.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let served = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(served);
    tokio::select! {
        r = served.as_mut() => if let Err(e) = r {
            crate::metrics::count_request("bad_request");
            tracing::debug!(client = %conn.peer, error = %e, "edge connection ended with an error");
        },
        _ = shutdown.cancelled() => {
            served.as_mut().graceful_shutdown();
            let _ = served.await;
        }
    }
}
