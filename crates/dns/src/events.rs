//! The query log (`event.dataset: dns.query`, one event per query and its answer) and alerts
//! (`event.dataset: dns.alert`) for C&C list hits and the heuristics, in ECS field names.

use std::net::SocketAddr;

use hickory_proto::rr::Record;
use jiff::Timestamp;
use mamori_core::event::{Endpoint, Event};
use serde_json::{Value, json};

use crate::detect::Finding;
use crate::rpz::Hit;

/// What the handler learnt about one query, for its log event.
pub struct QueryRecord<'a> {
    pub client: SocketAddr,
    pub transport: &'static str,
    pub tenant: Option<&'a str>,
    pub id: u16,
    pub qname: String,
    pub qtype: String,
    pub qclass: String,
    pub rcode: String,
    /// `authoritative`, `recursive`, `transfer`, `refused`, `malformed`.
    pub kind: &'static str,
    pub flags: Vec<&'static str>,
    pub answers: &'a [Record],
    pub rpz: Option<&'a Hit>,
    pub from_cache: bool,
    /// Queries the resolver sent upstream for this answer.
    pub upstream_queries: usize,
    pub duration_ns: u64,
    /// Why the query was refused or failed, when it was.
    pub reason: Option<String>,
}

/// An event of `dataset` about one query: time, tenant and client.
fn base(q: &QueryRecord<'_>, dataset: &str) -> Event {
    let now = Timestamp::now();
    let mut event = Event::new(now, dataset);
    event.stamp_ingestion(now);
    event.event.created = Some(now);
    event.organization.id = Some(q.tenant.unwrap_or(mamori_core::event::UNASSIGNED).to_string());
    event.source = Some(Endpoint {
        ip: Some(crate::server::unmap(q.client.ip())),
        port: Some(q.client.port()),
        ..Default::default()
    });
    event
}

pub fn query_event(q: &QueryRecord<'_>) -> Event {
    let (answers, resolved) = answers_json(q.answers);
    query_event_with(q, answers, resolved)
}

/// The answers of a query as the log writes them, and the addresses among them: computed
/// once per cached answer rather than once per query.
pub fn answers_json(records: &[Record]) -> (Vec<Value>, Vec<String>) {
    let answers = records.iter().map(answer_json).collect();
    let resolved = records.iter().filter_map(crate::rpz::record_ip).map(|ip| ip.to_string()).collect();
    (answers, resolved)
}

/// [`query_event`] with the answers already in their log form (`q.answers` is not read).
pub fn query_event_with(q: &QueryRecord<'_>, answers: Vec<Value>, resolved: Vec<String>) -> Event {
    let mut event = base(q, "dns.query");
    let blocked = q.rpz.is_some_and(|h| h.action.as_ref().is_some_and(|a| !matches!(a, crate::rpz::Action::Passthru)));
    let refused = q.rcode == "REFUSED" || q.kind == "malformed";
    let e = &mut event.event;
    e.category = vec!["network".into()];
    e.type_ = vec!["protocol".into(), if refused || blocked { "denied".into() } else { "allowed".into() }];
    e.module = Some("dns".into());
    e.action = Some(
        if blocked {
            "blocked"
        } else if refused {
            "refused"
        } else {
            "answered"
        }
        .into(),
    );
    e.outcome = Some(if q.rcode == "SERVFAIL" || refused { "failure" } else { "success" }.into());
    e.extra.insert("duration".into(), json!(q.duration_ns));
    if let Some(reason) = &q.reason {
        e.extra.insert("reason".into(), json!(reason));
    }
    let mut dns = json!({
        "id": q.id,
        "type": "answer",
        "question": { "name": q.qname, "type": q.qtype, "class": q.qclass },
        "response_code": q.rcode,
        "header_flags": q.flags,
        "answers": answers,
    });
    if !resolved.is_empty() {
        dns["resolved_ip"] = json!(resolved);
    }
    let x = &mut event.extra;
    x.insert("dns".into(), dns);
    x.insert("network".into(), json!({ "transport": q.transport, "protocol": "dns" }));
    let mut mamori = json!({ "kind": q.kind, "cache_hit": q.from_cache, "upstream_queries": q.upstream_queries });
    if let Some(hit) = q.rpz {
        mamori["rpz"] = rpz_json(hit);
        x.insert(
            "rule".into(),
            json!({ "id": hit.rule.owner.to_ascii(), "ruleset": hit.zone.to_ascii(), "category": "rpz" }),
        );
    }
    x.insert("mamori".into(), json!({ "dns": mamori }));
    event
}

/// An alert for a hit in a policy zone that lists command-and-control domains.
pub fn rpz_alert(q: &QueryRecord<'_>, hit: &Hit) -> Event {
    let mut event = alert_base(q, "rpz");
    event.message = Some(format!("query for {} listed in {} ({})", q.qname, hit.zone, hit.rule.trigger.kind()));
    event.event.severity = Some(73);
    let x = &mut event.extra;
    x.insert(
        "rule".into(),
        json!({ "id": format!("dns.rpz.{}", hit.rule.trigger.kind()), "name": hit.rule.owner.to_ascii(), "ruleset": hit.zone.to_ascii() }),
    );
    x.insert(
        "threat".into(),
        json!({ "indicator": { "type": "domain-name", "url": { "domain": q.qname } }, "list": hit.zone.to_ascii() }),
    );
    if let Some(Value::Object(m)) = x.get_mut("mamori") {
        m.insert("dns".into(), json!({ "rpz": rpz_json(hit) }));
    }
    event
}

/// An alert for a heuristic finding.
pub fn finding_alert(q: &QueryRecord<'_>, finding: &Finding) -> Event {
    let mut event = alert_base(q, finding.rule);
    event.message = Some(finding.description.clone());
    event.event.severity = Some(47);
    event.extra.insert(
        "rule".into(),
        json!({ "id": format!("dns.{}", finding.rule), "name": finding.rule, "description": finding.description, "ruleset": "mamori-dns" }),
    );
    event.extra.insert("mamori".into(), json!({ "dns": { "score": finding.score } }));
    event
}

fn alert_base(q: &QueryRecord<'_>, what: &str) -> Event {
    let mut event = base(q, "dns.alert");
    let e = &mut event.event;
    e.kind = Some("alert".into());
    e.category = vec!["network".into(), "intrusion_detection".into()];
    e.type_ = vec!["indicator".into()];
    e.module = Some("dns".into());
    e.action = Some(format!("dns-{what}"));
    event.extra.insert(
        "dns".into(),
        json!({ "question": { "name": q.qname, "type": q.qtype, "class": q.qclass }, "response_code": q.rcode }),
    );
    event.extra.insert("mamori".into(), json!({}));
    event
}

fn rpz_json(hit: &Hit) -> Value {
    json!({
        "zone": hit.zone.to_ascii(),
        "trigger": hit.rule.trigger.kind(),
        "rule": hit.rule.owner.to_ascii(),
        "action": hit.action.as_ref().map_or("disabled", |a| a.name()),
    })
}

fn answer_json(r: &Record) -> Value {
    json!({
        "name": r.name.to_ascii(),
        "type": r.record_type().to_string(),
        "class": r.dns_class.to_string(),
        "ttl": r.ttl,
        "data": r.data.to_string(),
    })
}
