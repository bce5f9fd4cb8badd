//! Rule matches as `event.kind: alert` events for the log store, in the tenant of the event
//! that matched.

use jiff::Timestamp;
use mamori_core::event::Event;
use serde_json::{Value, json};

use crate::compiled::CompiledRule;
use crate::correlation::{CorrelationHit, CorrelationRule};
use crate::rule::RuleMeta;

/// The dataset of detection alerts.
pub const DATASET: &str = "detect.alert";

/// ECS severity (0-100) of a Sigma level.
pub fn severity(level: Option<&str>) -> i64 {
    match level {
        Some("critical") => 99,
        Some("high") => 73,
        Some("medium") => 47,
        Some("low") => 21,
        _ => 0,
    }
}

/// The alert for `rule` matching `event`.
pub fn rule_alert(rule: &CompiledRule, event: &Value, now: Timestamp) -> Event {
    let mut alert = base(&rule.meta, now);
    let id = event.pointer("/event/id").and_then(Value::as_str);
    alert.extra.insert("detect".into(), json!({ "matched_event_ids": id.into_iter().collect::<Vec<_>>() }));
    if let Some(tenant) = event.pointer("/organization/id").and_then(Value::as_str) {
        alert.set_tenant(tenant);
    }
    // The host an analyst pivots on first.
    if let Some(v) = event.get("host") {
        alert.host = serde_json::from_value(v.clone()).ok();
    }
    if let Some(v) = event.get("@timestamp") {
        alert.event.extra.insert("x_matched_at".into(), v.clone());
    }
    alert.message = Some(format!("Sigma: {} ({})", rule.meta.title, rule.meta.level.as_deref().unwrap_or("-")));
    alert
}

/// The alert for a correlation that fired; `tenant` is the tenant of the correlated events.
pub fn correlation_alert(rule: &CorrelationRule, hit: &CorrelationHit, now: Timestamp) -> Event {
    let mut alert = base(&rule.meta, now);
    let group: serde_json::Map<String, Value> = hit.group.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    alert.extra.insert(
        "detect".into(),
        json!({ "correlation": { "type": format!("{:?}", rule.kind), "group": group, "count": hit.count,
                 "first": hit.first.to_string(), "last": hit.last.to_string() } }),
    );
    if !hit.tenant.is_empty() {
        alert.set_tenant(&hit.tenant);
    }
    alert.message = Some(format!("Sigma correlation: {} ({} in group)", rule.meta.title, hit.count));
    alert
}

fn base(meta: &RuleMeta, now: Timestamp) -> Event {
    let mut alert = Event::new(now, DATASET);
    alert.event.kind = Some("alert".into());
    alert.event.module = Some("detect".into());
    alert.event.severity = Some(severity(meta.level.as_deref()));
    alert.tags = meta.tags.clone();
    let techniques: Vec<String> =
        meta.tags.iter().filter_map(|t| t.strip_prefix("attack.t")).map(|t| format!("T{}", t.to_uppercase())).collect();
    alert.extra.insert(
        "rule".into(),
        json!({ "id": meta.id, "name": meta.title, "ruleset": "sigma", "description": meta.description,
                 "author": meta.author, "reference": meta.references, "x_level": meta.level, "x_status": meta.status }),
    );
    if !techniques.is_empty() {
        alert.extra.insert("threat".into(), json!({ "framework": "MITRE ATT&CK", "technique": { "id": techniques } }));
    }
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CompileOptions;
    use crate::pipeline::Pipeline;
    use crate::ruleset::RuleSet;

    #[test]
    fn alert_carries_rule_tenant_and_event_id() {
        let mut set = RuleSet::default();
        let text = "title: T\nid: r1\nlevel: high\ntags: [attack.execution, attack.t1059.001]\n\
                    logsource: {product: windows, service: security}\ndetection: {s: {EventID: 4624}, condition: s}\n";
        set.add_text(std::path::Path::new("t.yml"), text, &Pipeline::default(), &CompileOptions::default());
        let ev = json!({"event": {"id": "e1"}, "organization": {"id": "city-a"},
                        "winlog": {"channel": "Security", "event_id": "4624"}});
        let hits = set.matches(&ev);
        assert_eq!(hits, [0]);
        let a = rule_alert(&set.rules[0], &ev, Timestamp::UNIX_EPOCH);
        assert_eq!(a.tenant(), "city-a");
        assert_eq!(a.event.kind.as_deref(), Some("alert"));
        assert_eq!(a.event.severity, Some(73));
        assert_eq!(a.extra["rule"]["id"], "r1");
        assert_eq!(a.extra["threat"]["technique"]["id"][0], "T1059.001");
        assert_eq!(a.extra["detect"]["matched_event_ids"][0], "e1");
    }
}
