//! Sending a request to one of a site's origins: pooled HTTP/1.1 connections (plain or TLS,
//! see `origin_tls`), a connect and a response timeout, and one retry on another origin when
//! the first cannot be reached (the body is held in memory, so a retry is safe for requests
//! that never reached an origin).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mamori_core::error_text;

use crate::origins::{Origin, OriginPool};

/// A site's client towards its origins; `http://` and `https://` alike, TLS verified as the
/// site's `origin_ca` says.
#[derive(Clone)]
pub struct OriginClient(Client<HttpsConnector<HttpConnector>, Full<Bytes>>);

impl std::fmt::Debug for OriginClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginClient")
    }
}

impl OriginClient {
    pub fn new(connect_timeout: Duration, tls: Arc<rustls::ClientConfig>) -> OriginClient {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        // The scheme is checked by the TLS layer: https:// gets TLS, http:// does not.
        connector.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        OriginClient(Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector))
    }

    pub fn request(&self, req: Request<Full<Bytes>>) -> hyper_util::client::legacy::ResponseFuture {
        self.0.request(req)
    }
}

#[derive(Debug)]
pub enum ForwardError {
    /// No origin could be reached.
    Unreachable(String),
    /// The origin took longer than the response timeout.
    Timeout(String),
}

pub struct Outgoing<'a> {
    pub method: &'a Method,
    pub target: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Bytes,
}

/// Sends to the next origin in turn; an origin that cannot be reached is marked down (until a
/// health check passes) and the request goes to another one once.
pub async fn send(
    client: &OriginClient,
    pool: &OriginPool,
    out: &Outgoing<'_>,
    timeout: Duration,
) -> Result<(Response<Incoming>, Arc<Origin>), ForwardError> {
    let Some(first) = pool.pick() else { return Err(ForwardError::Unreachable("the site has no origin".into())) };
    match send_to(client, &first, out, timeout).await {
        Ok(r) => Ok((r, first)),
        Err(Failure::Connect(e)) => {
            mark_down(&first, &e);
            let Some(second) = pool.other_than(&first) else {
                return Err(ForwardError::Unreachable(format!("{}: {e}", first.authority)));
            };
            match send_to(client, &second, out, timeout).await {
                Ok(r) => Ok((r, second)),
                Err(Failure::Connect(e2)) => {
                    mark_down(&second, &e2);
                    Err(ForwardError::Unreachable(format!("{}: {e}; {}: {e2}", first.authority, second.authority)))
                }
                Err(Failure::Other(e2)) => Err(ForwardError::Unreachable(format!("{}: {e2}", second.authority))),
                Err(Failure::Timeout) => Err(ForwardError::Timeout(second.authority.clone())),
            }
        }
        Err(Failure::Other(e)) => {
            crate::metrics::metrics().origin_failures.inc();
            Err(ForwardError::Unreachable(format!("{}: {e}", first.authority)))
        }
        Err(Failure::Timeout) => {
            crate::metrics::metrics().origin_failures.inc();
            Err(ForwardError::Timeout(first.authority.clone()))
        }
    }
}

fn mark_down(o: &Origin, why: &str) {
    crate::metrics::metrics().origin_failures.inc();
    if o.set_up(false) {
        tracing::warn!(origin = %o.authority, error = %why, "origin marked down after a failed request");
    }
}

enum Failure {
    Connect(String),
    Timeout,
    Other(String),
}

async fn send_to(
    client: &OriginClient,
    origin: &Origin,
    out: &Outgoing<'_>,
    timeout: Duration,
) -> Result<Response<Incoming>, Failure> {
    let uri = format!("{}{}", origin.base_url(), out.target);
    let mut req = Request::builder()
        .method(out.method.clone())
        .uri(&uri)
        .body(Full::new(out.body.clone()))
        .map_err(|e| Failure::Other(format!("cannot build the request to {uri}: {e}")))?;
    *req.headers_mut() = out.headers.clone();
    match tokio::time::timeout(timeout, client.request(req)).await {
        Err(_) => Err(Failure::Timeout),
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) if e.is_connect() => Err(Failure::Connect(error_text::chain(&e))),
        Ok(Err(e)) => Err(Failure::Other(error_text::chain(&e))),
    }
}
