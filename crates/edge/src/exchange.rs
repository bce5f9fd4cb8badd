//! What is known about one request as it goes through the edge, and its access event at the
//! end, whatever the outcome.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderValue, Response, StatusCode};

use crate::access_event::{AccessRecord, access_event};
use crate::body::EdgeBody;
use crate::pages::{self, Page};
use crate::server::EdgeContext;
use crate::state::Site;
use crate::waf;

/// The connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    pub peer: SocketAddr,
    pub local_port: u16,
    pub tls: bool,
}

/// The TLS server name a connection was opened for, when it was TLS.
pub type ServerName = Option<Arc<str>>;

/// What the access event will say, filled in as the request goes.
pub struct Exchange {
    pub started: Instant,
    pub request_id: String,
    pub conn: Conn,
    pub method: String,
    pub host: String,
    pub target: String,
    pub version: http::Version,
    pub user_agent: Option<String>,
    pub request_bytes: u64,
    pub site: Option<Arc<Site>>,
    pub waf_action: &'static str,
    pub origin: Option<String>,
}

impl Exchange {
    pub fn scheme(&self) -> &'static str {
        if self.conn.tls { "https" } else { "http" }
    }

    pub async fn finish(
        self,
        ctx: &EdgeContext,
        mut resp: Response<EdgeBody>,
        outcome: &'static str,
        response_bytes: Option<u64>,
        error: Option<String>,
    ) -> Response<EdgeBody> {
        crate::metrics::count_request(outcome);
        let status = resp.status().as_u16();
        if let Some(e) = &error {
            tracing::warn!(client = %self.conn.peer, request_id = %self.request_id, host = %self.host, error = %e, status, "edge request failed");
        }
        let event = access_event(AccessRecord {
            request_id: &self.request_id,
            client: self.conn.peer,
            tenant: self.site.as_deref().map(|s| s.tenant.as_str()),
            site: self.site.as_deref().map(|s| s.name.as_str()),
            method: &self.method,
            scheme: self.scheme(),
            host: &self.host,
            target: &self.target,
            version: waf::version_str(self.version),
            user_agent: self.user_agent.as_deref(),
            status,
            request_bytes: self.request_bytes,
            response_bytes,
            duration: self.started.elapsed(),
            outcome,
            waf_mode: self.site.as_deref().map_or("off", |s| waf::mode_name(s.waf)),
            waf_action: self.waf_action,
            origin: self.origin.as_deref(),
            error,
        });
        ctx.events.record(event).await;
        if !resp.headers().contains_key("x-request-id")
            && let Ok(v) = HeaderValue::from_str(&self.request_id)
        {
            resp.headers_mut().insert("x-request-id", v);
        }
        resp
    }

    pub async fn page(
        self,
        ctx: &EdgeContext,
        page: Page,
        status: StatusCode,
        outcome: &'static str,
        error: Option<String>,
    ) -> Response<EdgeBody> {
        let resp = pages::response(page, status, &self.request_id);
        let len = pages::html(page, &self.request_id).len() as u64;
        self.finish(ctx, resp, outcome, Some(len), error).await
    }
}
