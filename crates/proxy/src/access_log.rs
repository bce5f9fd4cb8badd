//! The access log: one ECS event per request, written in batches by one task
//! ([`mamori_core::event_writer`]) so that the request path never waits for a disk sync of its
//! own.

use std::time::Duration;

use mamori_core::event::{Endpoint, Event};
use mamori_core::sink::EventSink;
use serde_json::json;

use crate::client::Client;

/// The writer of the access log (and the proxy's alerts): the shared batching event writer.
pub type AccessLog = mamori_core::event_writer::EventWriter;

/// A sink that serializes events as the log store would and keeps nothing: for measuring the
/// proxy apart from the log store (`bench/proxy-throughput`'s diagnostic run), never for use.
pub struct DiscardSink;

impl EventSink for DiscardSink {
    fn submit(&self, events: &[Event]) -> mamori_core::sink::SubmitFuture {
        let bytes: usize = events.iter().map(|e| serde_json::to_vec(e).map(|v| v.len()).unwrap_or(0)).sum();
        std::hint::black_box(bytes);
        let count = events.len();
        Box::pin(async move { Ok(mamori_core::sink::Receipt { last_lsn: 0, count }) })
    }
}

/// What the access log says about one request.
pub struct AccessRecord<'a> {
    pub client: &'a Client,
    pub request_id: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    pub host: &'a str,
    pub status: u16,
    /// `allowed`, `blocked` or `error`.
    pub action: &'static str,
    /// The list or category behind the decision, and what kind of rule it was.
    pub rule: Option<(&'a str, &'a str)>,
    pub categories: Vec<String>,
    pub duration: Duration,
    pub error: Option<String>,
    /// What the malware scan said (`clean`, `infected: NAME`, `not scanned: WHY`).
    pub scan: Option<String>,
}

pub fn access_event(r: AccessRecord<'_>) -> Event {
    let now = jiff::Timestamp::now();
    let mut event = Event::new(now, "proxy.access");
    event.message = Some(format!("{} {} {} {}", r.method, r.url, r.status, r.action));
    // The proxy is the receiver: stamped here, so the log store need not copy the event to do it.
    event.stamp_ingestion(now);
    let e = &mut event.event;
    e.category = vec!["web".into(), "network".into()];
    e.type_ = vec![if r.action == "blocked" { "denied".into() } else { "access".into() }];
    e.action = Some(r.action.into());
    e.outcome = Some(if r.action == "allowed" { "success".into() } else { "failure".into() });
    e.module = Some("proxy".into());
    e.created = Some(now);
    e.extra.insert("duration".into(), json!(r.duration.as_nanos() as u64));
    e.extra.insert("reference".into(), json!(r.request_id));
    event.organization.id = Some(r.client.tenant.clone().unwrap_or_else(|| mamori_core::event::UNASSIGNED.into()));
    event.source = Some(Endpoint { ip: Some(r.client.terminal), ..Default::default() });
    if let Some(message) = r.error {
        event.add_error(message);
    }
    let x = &mut event.extra;
    x.insert("url".into(), json!({ "full": r.url, "domain": r.host }));
    x.insert("http".into(), json!({ "request": { "method": r.method }, "response": { "status_code": r.status } }));
    if r.client.peer != r.client.terminal {
        x.insert("client".into(), json!({ "ip": r.client.peer }));
    }
    if let Some(u) = &r.client.user {
        x.insert("user".into(), json!({ "name": u }));
    }
    if let Some((name, kind)) = r.rule {
        x.insert("rule".into(), json!({ "name": name, "category": kind }));
    }
    let mut mamori = serde_json::Map::new();
    if !r.categories.is_empty() {
        mamori.insert("url_categories".into(), json!(r.categories));
    }
    if let Some(scan) = r.scan {
        mamori.insert("scan".into(), json!(scan));
    }
    if !mamori.is_empty() {
        x.insert("mamori".into(), mamori.into());
    }
    event
}
