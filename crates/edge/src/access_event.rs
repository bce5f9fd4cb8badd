//! The access event: one per request, whatever its outcome (`event.dataset: edge.access`).

use std::net::SocketAddr;
use std::time::Duration;

use mamori_core::event::{Endpoint, Event, UNASSIGNED};
use serde_json::json;

/// What the access log says about one request.
pub struct AccessRecord<'a> {
    pub request_id: &'a str,
    pub client: SocketAddr,
    pub tenant: Option<&'a str>,
    pub site: Option<&'a str>,
    pub method: &'a str,
    pub scheme: &'static str,
    pub host: &'a str,
    /// Path and query as sent.
    pub target: &'a str,
    pub version: &'static str,
    pub user_agent: Option<&'a str>,
    pub status: u16,
    pub request_bytes: u64,
    pub response_bytes: Option<u64>,
    pub duration: Duration,
    /// `passed`, `blocked`, `unknown_host`, `too_large`, `bad_request`, `origin_error`.
    pub outcome: &'static str,
    /// `off`, `detect`, `block`; and what the WAF did: `none`, `alert`, `blocked`.
    pub waf_mode: &'static str,
    pub waf_action: &'static str,
    pub origin: Option<&'a str>,
    pub error: Option<String>,
}

pub fn access_event(r: AccessRecord<'_>) -> Event {
    let now = jiff::Timestamp::now();
    let mut event = Event::new(now, "edge.access");
    event.message = Some(format!("{} {} {}{} {} {}", r.client.ip(), r.method, r.host, r.target, r.status, r.outcome));
    event.stamp_ingestion(now);
    let e = &mut event.event;
    e.kind = Some("event".into());
    e.category = vec!["web".into(), "network".into()];
    e.type_ = vec![if r.outcome == "passed" { "access".into() } else { "denied".into() }];
    e.action = Some(r.outcome.into());
    e.outcome = Some(if r.status < 400 { "success".into() } else { "failure".into() });
    e.module = Some("edge".into());
    e.created = Some(now);
    e.extra.insert("duration".into(), json!(r.duration.as_nanos() as u64));
    e.extra.insert("id".into(), json!(r.request_id));
    event.organization.id = Some(r.tenant.unwrap_or(UNASSIGNED).to_string());
    event.source = Some(Endpoint { ip: Some(r.client.ip()), port: Some(r.client.port()), ..Default::default() });
    if let Some(message) = r.error {
        event.add_error(message);
    }
    let (path, query) = r.target.split_once('?').map_or((r.target, None), |(p, q)| (p, Some(q)));
    let mut url = json!({
        "full": format!("{}://{}{}", r.scheme, r.host, r.target),
        "scheme": r.scheme,
        "domain": r.host,
        "path": path,
    });
    if let Some(q) = query {
        url["query"] = json!(q);
    }
    let x = &mut event.extra;
    x.insert("url".into(), url);
    let mut response = json!({ "status_code": r.status });
    if let Some(b) = r.response_bytes {
        response["body"] = json!({ "bytes": b });
    }
    x.insert(
        "http".into(),
        json!({
            "version": r.version,
            "request": { "method": r.method, "id": r.request_id, "body": { "bytes": r.request_bytes } },
            "response": response,
        }),
    );
    if let Some(ua) = r.user_agent {
        x.insert("user_agent".into(), json!({ "original": ua }));
    }
    let mut edge = json!({ "waf": { "mode": r.waf_mode, "action": r.waf_action } });
    if let Some(site) = r.site {
        edge["site"] = json!(site);
    }
    if let Some(o) = r.origin {
        edge["origin"] = json!(o);
    }
    x.insert("mamori".into(), json!({ "edge": edge }));
    event
}
