//! Accepting browsers' connections and dispatching their requests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::access_log::{AccessBatch, AccessLog, AccessRecord, write_access_event};
use crate::client::Client;
use crate::pages::{self, BlockInfo, BlockKind, Lang};
use crate::resolve::Resolver;
use crate::scan_body::SharedScanner;
use crate::state::ProxyState;
use crate::tls::TlsInspector;
use crate::upstream::Upstream;
use crate::{forward, tunnel};
use mamori_core::h2c::H2cOrigin;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Body = BoxBody<Bytes, BoxError>;

pub fn full(b: Bytes) -> Body {
    Full::new(b).map_err(|e| match e {}).boxed()
}

#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// A client must send a request's headers within this (slowloris); an idle keep-alive
    /// connection is closed after it too.
    pub header_timeout: Duration,
    pub connect_timeout: Duration,
    /// Upstream connections kept for reuse are closed after this long unused.
    pub pool_idle_timeout: Duration,
    /// Largest request head accepted.
    pub max_header_bytes: usize,
    /// How long a tunnel waits for the client's TLS ClientHello before deciding by host only.
    pub sni_timeout: Duration,
    /// Largest request body; larger ones get 413.
    pub max_request_body_bytes: u64,
    /// Bodies are held for the malware scan up to this size.
    pub scan_max_bytes: u64,
    /// Plain-HTTP origins spoken to in HTTP/2 (they cannot offer it themselves).
    pub h2c_origins: Vec<H2cOrigin>,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            header_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            max_header_bytes: 64 * 1024,
            sni_timeout: Duration::from_secs(5),
            max_request_body_bytes: 100 << 20,
            scan_max_bytes: 32 << 20,
            h2c_origins: Vec::new(),
        }
    }
}

pub struct ProxyContext {
    pub state: ArcSwap<ProxyState>,
    /// For events that are not access-log records (the malware scan's alerts).
    pub access_log: AccessLog,
    /// The access-log records, written as JSON into shared batches.
    pub(crate) access_batch: AccessBatch,
    pub settings: ProxySettings,
    pub(crate) upstream: Upstream,
    /// For `settings.h2c_origins`.
    pub(crate) upstream_h2c: HttpClient<HttpConnector<Resolver>, Body>,
    pub(crate) resolver: Resolver,
    /// Decrypts `CONNECT` tunnels of tenants that want it; none when it cannot be set up.
    pub(crate) tls: Option<Arc<TlsInspector>>,
    /// The malware scanner for bodies; none when scanning does not run.
    pub(crate) scanner: Option<SharedScanner>,
}

/// What the proxy may use besides its own state.
#[derive(Default)]
pub struct Services {
    pub tls: Option<Arc<TlsInspector>>,
    pub scanner: Option<SharedScanner>,
    pub resolver: Resolver,
}

impl ProxyContext {
    pub fn new(state: ProxyState, access_log: AccessLog, settings: ProxySettings) -> Arc<ProxyContext> {
        Self::with_services(state, access_log, settings, Services::default())
    }

    pub fn with_services(
        state: ProxyState,
        access_log: AccessLog,
        settings: ProxySettings,
        services: Services,
    ) -> Arc<ProxyContext> {
        let mut connector = HttpConnector::new_with_resolver(services.resolver.clone());
        connector.set_connect_timeout(Some(settings.connect_timeout));
        connector.set_nodelay(true);
        let mut builder = HttpClient::builder(TokioExecutor::new());
        builder.pool_idle_timeout(settings.pool_idle_timeout).pool_timer(TokioTimer::new()).set_host(true);
        let upstream_h2c = builder.http2_only(true).build(connector);
        let upstream = Upstream::new(services.resolver.clone(), settings.connect_timeout, settings.pool_idle_timeout);
        Arc::new(ProxyContext {
            state: ArcSwap::from_pointee(state),
            access_batch: AccessBatch::new(access_log.clone()),
            access_log,
            settings,
            upstream,
            upstream_h2c,
            resolver: services.resolver,
            tls: services.tls,
            scanner: services.scanner,
        })
    }
}

/// Serves browsers until `shutdown`; connections in progress finish their current request.
pub async fn serve(listener: TcpListener, ctx: Arc<ProxyContext>, shutdown: CancellationToken) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    tracing::info!(local = %local, "web proxy listening");
    while let Some((stream, peer)) = mamori_core::accept::next_connection(&listener, &shutdown, "proxy").await {
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let svc = service_fn({
                let ctx = ctx.clone();
                move |req| {
                    let ctx = ctx.clone();
                    async move { Ok::<_, Infallible>(handle(ctx, peer, req).await) }
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(ctx.settings.header_timeout)
                .max_buf_size(ctx.settings.max_header_bytes.max(8192))
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => if let Err(e) = r { tracing::debug!(peer = %peer, error = %e, "proxy connection ended with an error") },
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    tracing::info!(local = %local, "web proxy stopped");
    Ok(())
}

/// A request's id (the block page shows it; the access log has it as `event.reference`): an
/// event id's 32 hex digits, kept without a heap allocation.
#[derive(Clone, Copy)]
pub(crate) struct RequestId([u8; 32]);

impl RequestId {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every handler needs to know about the request it serves.
pub(crate) struct Exchange {
    pub ctx: Arc<ProxyContext>,
    pub state: Arc<ProxyState>,
    pub client: Client,
    pub request_id: RequestId,
    pub started: Instant,
    pub lang: Lang,
    /// What the malware scan made of the bodies, for the access log.
    scan: std::sync::Mutex<Option<String>>,
}

impl Exchange {
    pub fn new(ctx: Arc<ProxyContext>, state: Arc<ProxyState>, client: Client, lang: Lang) -> Exchange {
        let request_id = RequestId(mamori_core::event::next_event_id());
        Exchange { ctx, state, client, request_id, started: Instant::now(), lang, scan: Default::default() }
    }

    pub fn note_scan(&self, note: String) {
        *self.scan.lock().unwrap_or_else(|e| e.into_inner()) = Some(note);
    }

    /// Logs a blocked request and answers with the block page.
    pub async fn blocked(
        &self,
        method: &str,
        url: &str,
        host: &str,
        kind: BlockKind,
        list: &str,
        categories: Vec<String>,
    ) -> Response<Body> {
        let helpdesk = self.state.web_policy(self.client.tenant.as_deref()).helpdesk.clone();
        let info = BlockInfo {
            url: url.to_string(),
            kind,
            list: list.to_string(),
            request_id: self.request_id.as_str().to_string(),
            helpdesk,
        };
        let response = if method == "CONNECT" {
            pages::plain(
                StatusCode::FORBIDDEN,
                &format!("blocked by mamori ({}: {list}); request {}", kind.code(), self.request_id),
            )
        } else {
            pages::block_page(&info, self.lang)
        };
        self.log(method, url, host, response.status().as_u16(), "blocked", Some((list, kind.code())), categories, None)
            .await;
        response
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn log(
        &self,
        method: &str,
        url: &str,
        host: &str,
        status: u16,
        action: &'static str,
        rule: Option<(&str, &str)>,
        categories: Vec<String>,
        error: Option<String>,
    ) {
        let scan = self.scan.lock().unwrap_or_else(|e| e.into_inner()).take();
        let record = AccessRecord {
            client: &self.client,
            request_id: self.request_id.as_str(),
            method,
            url,
            host,
            status,
            action,
            rule,
            categories: &categories,
            duration: self.started.elapsed(),
            error: error.as_deref(),
            scan: scan.as_deref(),
        };
        let now = jiff::Timestamp::now();
        self.ctx.access_batch.push(|out| write_access_event(&record, now, out)).await;
    }
}

async fn handle(ctx: Arc<ProxyContext>, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    let state = ctx.state.load_full();
    let client = Client::identify(&state, peer.ip(), req.headers());
    let lang = Lang::of(req.headers());
    let x = Exchange::new(ctx, state, client, lang);
    if req.method() == Method::CONNECT { tunnel::connect(x, req).await } else { forward::forward(x, req).await }
}
