//! Alerts (`event.dataset: dns.alert`) for C&C list hits and the heuristics, in ECS field
//! names. The query log itself is written by [`crate::query_log`].

use jiff::Timestamp;
use mamori_core::event::{Endpoint, Event};
use serde_json::{Value, json};

use crate::detect::Finding;
pub use crate::query_log::QueryRecord;
use crate::rpz::Hit;

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
