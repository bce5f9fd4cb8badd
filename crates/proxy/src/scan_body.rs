//! Malware scanning of bodies: a download (or, by tenant choice, an upload) is held back up to
//! `scan_max_bytes`, scanned in-process, and released only when clean. What cannot be scanned
//! (too large, engine error) and what is only suspicious (a name that disguises the content, a
//! bomb) passes or is refused by the tenant's `scan_failure`; malware is always refused.
//!
//! The engine is behind [`BodyScanner`]; mamori's own engine plugs in through `EngineScanner`
//! (feature `engine`, on by default), and the proxy builds without it when the feature is off.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Frame;
use mamori_core::event::{Endpoint, Event};
use serde_json::json;

use crate::server::{Body, BoxError, Exchange};

pub trait BodyScanner: Send + Sync + 'static {
    /// Scans one body named `name` (a file name) for `tenant`; `alerts` are ECS alert events
    /// for the detections (`event.kind: alert`, `threat.*`, `file.*`).
    fn scan(&self, name: &str, data: &[u8], tenant: &str) -> ScanOutcome;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanVerdict {
    Clean,
    Infected(Vec<String>),
    Suspicious(Vec<String>),
    Error(String),
}

pub struct ScanOutcome {
    pub verdict: ScanVerdict,
    pub alerts: Vec<Event>,
}

/// What became of a body.
pub(crate) enum Checked {
    Pass(Body),
    /// Malware: the signature names.
    Infected(String),
    /// Suspicious (a disguised name, a bomb) and the tenant fails closed: the reasons.
    Suspicious(String),
    /// Not scanned, and the tenant fails closed: why.
    Unscanned(String),
    /// The request body passed `max_request_body_bytes`.
    TooLarge,
}

/// Scans `body` if a scanner runs; `length` is its announced length.
pub(crate) async fn check(x: &Exchange, url: &str, name: String, body: Body, length: Option<u64>) -> Checked {
    let Some(scanner) = x.ctx.scanner.clone() else { return Checked::Pass(body) };
    let fail_open = x.state.web_policy(x.client.tenant.as_deref()).scan_fail_open;
    let limit = x.ctx.settings.scan_max_bytes;
    let unscanned = |body: Body, why: String| {
        x.note_scan(format!("not scanned: {why}"));
        tracing::info!(url = %url, reason = %why, fail_open, "a body passed unscanned or was refused");
        if fail_open { Checked::Pass(body) } else { Checked::Unscanned(why) }
    };
    if length.is_some_and(|l| l > limit) {
        return unscanned(body, format!("larger than {limit} bytes"));
    }
    let data = match buffer(body, limit).await {
        Ok(Buffered::Whole(data)) => data,
        Ok(Buffered::Over(body)) => return unscanned(body, format!("larger than {limit} bytes")),
        Err(e) if is_too_large(e.as_ref()) => return Checked::TooLarge,
        Err(e) => return Checked::Unscanned(format!("reading the body failed: {e}")),
    };
    let tenant = x.client.tenant.clone().unwrap_or_else(|| mamori_core::event::UNASSIGNED.into());
    let scanned = data.clone();
    let outcome = match tokio::task::spawn_blocking(move || scanner.scan(&name, &scanned, &tenant)).await {
        Ok(o) => o,
        Err(e) => ScanOutcome { verdict: ScanVerdict::Error(format!("the scan failed: {e}")), alerts: vec![] },
    };
    // A suspicious body that passes (fail-open) is noted in the access log, not alerted on:
    // a CDN serving WebP as .jpg would otherwise raise an alert on every page.
    if matches!(outcome.verdict, ScanVerdict::Suspicious(_)) && fail_open {
        let ScanVerdict::Suspicious(reasons) = outcome.verdict else { unreachable!() };
        x.note_scan(format!("suspicious (passed): {}", reasons.join("; ")));
        return Checked::Pass(crate::server::full(data));
    }
    for mut alert in outcome.alerts {
        alert.source = Some(Endpoint { ip: Some(x.client.terminal), ..Default::default() });
        alert.extra.insert("url".into(), json!({ "full": url }));
        alert.event.extra.insert("reference".into(), json!(x.request_id.as_str()));
        if alert.organization.id.is_none() {
            alert.organization.id = x.client.tenant.clone();
        }
        x.ctx.access_log.record(alert).await;
    }
    match outcome.verdict {
        ScanVerdict::Clean => {
            x.note_scan("clean".into());
            Checked::Pass(crate::server::full(data))
        }
        ScanVerdict::Infected(names) => {
            x.note_scan(format!("infected: {}", names.join(", ")));
            Checked::Infected(names.join(", "))
        }
        ScanVerdict::Suspicious(reasons) => {
            x.note_scan(format!("suspicious: {}", reasons.join("; ")));
            Checked::Suspicious(reasons.join("; "))
        }
        ScanVerdict::Error(e) => unscanned(crate::server::full(data), format!("scan error: {e}")),
    }
}

enum Buffered {
    Whole(Bytes),
    /// Longer than the limit: what was read, then the rest, unscanned.
    Over(Body),
}

async fn buffer(mut body: Body, limit: u64) -> Result<Buffered, BoxError> {
    let mut data = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(chunk) = frame?.into_data() else { continue }; // trailers are dropped
        data.extend_from_slice(&chunk);
        if data.len() as u64 > limit {
            return Ok(Buffered::Over(Resumed { head: Some(data.freeze()), rest: body }.boxed()));
        }
    }
    Ok(Buffered::Whole(data.freeze()))
}

/// Whether `e` (or what caused it) is the request body limit.
pub(crate) fn is_too_large(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The file name a body most likely has: Content-Disposition, else the URL's last segment.
pub(crate) fn object_name(headers: &http::HeaderMap, path: &str) -> String {
    if let Some(v) = headers.get(http::header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok())
        && let Some(at) = v.find("filename=")
    {
        return v[at + 9..].split(';').next().unwrap_or("").trim().trim_matches('"').to_string();
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("body").to_string()
}

struct Resumed {
    head: Option<Bytes>,
    rest: Body,
}

impl hyper::body::Body for Resumed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(head) = self.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }
}

/// Shared so that tests and `mamori up` can hand one scanner to the proxy.
pub type SharedScanner = Arc<dyn BodyScanner>;
