//! Pooled HTTP/1.1 connections to plain-HTTP origins. A connection goes back to its origin's
//! idle list when the response body it carried has been read to the end (`PooledBody`), so a
//! request takes one lock to find a connection and one to return it. hyper-util's pooled
//! client did the same with a pool checkout racing a lazily built connect future, a boxed
//! response future and a task spawned per request to wait for the connection to become idle
//! again; it remains in use for HTTP/2 (h2c) origins.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HOST, HeaderValue};
use http::{Request, Response, Uri};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use crate::resolve::Resolver;
use crate::server::{Body, BoxError};

/// Idle connections kept per origin; more are closed when their response ends.
const MAX_IDLE_PER_ORIGIN: usize = 256;

pub(crate) struct Upstream {
    pool: Arc<Pool>,
    resolver: Resolver,
    connect_timeout: Duration,
    /// Closes connections idle too long; started with the first connection.
    reaper: OnceLock<()>,
}

struct Pool {
    /// Idle connections by the hash of their origin (host, port); each knows its origin, so
    /// a lookup needs no key of its own.
    idle: Mutex<HashMap<u64, Vec<Conn>>>,
    hasher: RandomState,
    idle_timeout: Duration,
}

/// An origin: its host (as the URL filter normalized it) and port.
struct Origin {
    host: Box<str>,
    port: u16,
    hash: u64,
}

struct Conn {
    sender: SendRequest<Body>,
    origin: Arc<Origin>,
    /// When it was last returned to the pool.
    since: Instant,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Vec<Conn>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most recently used idle connection to the origin that is still open.
    fn checkout(&self, hash: u64, host: &str, port: u16) -> Option<Conn> {
        let mut idle = self.lock();
        let conns = idle.get_mut(&hash)?;
        while let Some(i) = conns.iter().rposition(|c| c.origin.port == port && &*c.origin.host == host) {
            let conn = conns.swap_remove(i);
            if !conn.sender.is_closed() && conn.since.elapsed() < self.idle_timeout {
                return Some(conn);
            }
        }
        None
    }

    fn put(&self, mut conn: Conn) {
        if conn.sender.is_closed() {
            return;
        }
        conn.since = Instant::now();
        let mut idle = self.lock();
        let conns = idle.entry(conn.origin.hash).or_default();
        if conns.len() < MAX_IDLE_PER_ORIGIN {
            conns.push(conn);
        }
    }

    /// Drops connections that are closed or idle too long (dropping the sender closes them).
    fn sweep(&self) {
        let mut idle = self.lock();
        idle.retain(|_, conns| {
            conns.retain(|c| !c.sender.is_closed() && c.since.elapsed() < self.idle_timeout);
            !conns.is_empty()
        });
    }
}

impl Upstream {
    pub fn new(resolver: Resolver, connect_timeout: Duration, idle_timeout: Duration) -> Upstream {
        let pool = Pool { idle: Mutex::default(), hasher: RandomState::new(), idle_timeout };
        Upstream { pool: Arc::new(pool), resolver, connect_timeout, reaper: OnceLock::new() }
    }

    /// Sends `req` (absolute form) to `host`:`port` over an idle connection or a new one.
    /// A request that a pooled connection closed by the origin never started is sent again on
    /// another connection, as browsers do.
    pub async fn request(&self, host: &str, port: u16, mut req: Request<Body>) -> Result<Response<Body>, BoxError> {
        to_origin_form(&mut req, port);
        let hash = self.pool.hasher.hash_one((host, port));
        loop {
            let (mut conn, reused) = match self.pool.checkout(hash, host, port) {
                Some(conn) => (conn, true),
                None => (self.connect(hash, host, port).await?, false),
            };
            // A returned connection is ready once hyper has finished with its last response.
            if let Err(e) = conn.sender.ready().await {
                if reused {
                    continue;
                }
                return Err(e.into());
            }
            match conn.sender.try_send_request(req).await {
                Ok(response) => {
                    let pool = Arc::downgrade(&self.pool);
                    let (parts, body) = response.into_parts();
                    let body = PooledBody { inner: body, conn: Some(conn), pool };
                    return Ok(Response::from_parts(parts, http_body_util::BodyExt::boxed(body)));
                }
                Err(mut e) => match e.take_message() {
                    Some(unsent) if reused => req = unsent,
                    _ => return Err(e.into_error().into()),
                },
            }
        }
    }

    async fn connect(&self, hash: u64, host: &str, port: u16) -> Result<Conn, BoxError> {
        self.reaper.get_or_init(|| {
            tokio::spawn(reap(Arc::downgrade(&self.pool)));
        });
        let tcp = self.resolver.connect(host, port, self.connect_timeout).await?;
        let (sender, connection) = http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "origin connection ended with an error");
            }
        });
        let origin = Arc::new(Origin { host: host.into(), port, hash });
        Ok(Conn { sender, origin, since: Instant::now() })
    }
}

/// Closes idle connections past their time until the pool is gone.
async fn reap(pool: Weak<Pool>) {
    let every = match pool.upgrade() {
        Some(p) => (p.idle_timeout / 2).max(Duration::from_secs(1)),
        None => return,
    };
    loop {
        tokio::time::sleep(every).await;
        match pool.upgrade() {
            Some(p) => p.sweep(),
            None => return,
        }
    }
}

/// Origins get the path and query only (RFC 9112 §3.2.1), a `Host` header when the terminal
/// sent none, and the proxy's own HTTP version (RFC 9110 §6.2: intermediaries send theirs).
fn to_origin_form(req: &mut Request<Body>, port: u16) {
    if !req.headers().contains_key(HOST)
        && let Some(authority) = req.uri().authority()
    {
        let host = if port == 80 { authority.host().to_string() } else { format!("{}:{port}", authority.host()) };
        if let Ok(v) = HeaderValue::from_str(&host) {
            req.headers_mut().insert(HOST, v);
        }
    }
    let path = req.uri().path_and_query().cloned();
    let mut parts = http::uri::Parts::default();
    parts.path_and_query = Some(path.unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")));
    if let Ok(uri) = Uri::from_parts(parts) {
        *req.uri_mut() = uri;
    }
    *req.version_mut() = http::Version::HTTP_11;
}

/// A response body that returns its connection to the pool once it has been read to the
/// end (or was empty); a body dropped part way closes its connection instead.
struct PooledBody {
    inner: Incoming,
    conn: Option<Conn>,
    pool: Weak<Pool>,
}

impl PooledBody {
    fn release(&mut self) {
        if let (Some(conn), Some(pool)) = (self.conn.take(), self.pool.upgrade()) {
            pool.put(conn);
        }
    }
}

impl HttpBody for PooledBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.release();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => {
                if this.inner.is_end_stream() {
                    this.release();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.conn = None;
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        // A body with nothing to read is never polled by the server that sends it on.
        if self.inner.is_end_stream() {
            self.release();
        }
    }
}
