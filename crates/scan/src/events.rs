//! ECS events for the log store: one alert per detection (`file.*`, `threat.*`), and the
//! alarm raised when a signature source is older than allowed.

use crate::signatures::SourceInfo;
use crate::verdict::{FindingKind, ScanReport, display_path};
use jiff::Timestamp;
use mamori_core::event::Event;
use serde_json::json;

/// One `event.kind: alert` per infected or suspicious finding of `report`. `source` says
/// who asked (`cli`, `icap`, `mail`, ...), stored as `observer.type`-like `event.provider`.
pub fn detection_events(report: &ScanReport, source: &str, tenant: Option<&str>, now: Timestamp) -> Vec<Event> {
    let mut events = Vec::new();
    for finding in &report.findings {
        let (action, threat, reason) = match &finding.kind {
            FindingKind::Infected { name, engine } => ("malware_detected", Some((name, engine)), None),
            FindingKind::Suspicious { reason } => ("suspicious_file", None, Some(reason)),
            FindingKind::Error { .. } => continue,
        };
        let mut event = Event::new(now, "scan.detection");
        event.event.kind = Some("alert".into());
        event.event.category = vec!["malware".into(), "file".into()];
        event.event.type_ = vec!["info".into()];
        event.event.action = Some(action.into());
        event.event.module = Some("scan".into());
        event.event.outcome = Some("success".into());
        event.event.extra.insert("provider".into(), json!(source));
        if let Some(tenant) = tenant {
            event.set_tenant(tenant);
        }
        let inner = finding.path.last().cloned().unwrap_or_default();
        let mut file = json!({
            "name": crate::names::base_name(&inner),
            "path": display_path(&finding.path),
            "hash": { "sha256": report.sha256 },
            "size": report.size,
            "type": report.file_type,
        });
        if finding.path.len() > 1 {
            file["x_container"] = json!(report.name);
        }
        event.extra.insert("file".into(), file);
        if let Some((name, engine)) = threat {
            event
                .extra
                .insert("threat".into(), json!({ "software": { "name": name }, "indicator": { "type": "file" } }));
            event.extra.insert("rule".into(), json!({ "name": name, "ruleset": engine }));
            event.message =
                Some(format!("マルウェアを検知しました / malware detected: {name} in {}", display_path(&finding.path)));
        }
        if let Some(reason) = reason {
            event.event.extra.insert("reason".into(), json!(reason));
            event.message =
                Some(format!("不審なファイル / suspicious file: {} ({reason})", display_path(&finding.path)));
        }
        events.push(event);
    }
    events
}

/// The alarm for a signature source older than `max_age`: the requirement is to apply a
/// vendor's pattern file within a day of its release.
pub fn stale_signature_alarm(source: &SourceInfo, max_age: std::time::Duration, now: Timestamp) -> Event {
    let mut event = Event::new(now, "mamori.alarm");
    event.event.kind = Some("alert".into());
    event.event.action = Some("signatures_stale".into());
    event.event.module = Some("scan".into());
    event.event.category = vec!["configuration".into(), "malware".into()];
    let released = source.released.map_or_else(|| "unknown".to_string(), |t| t.to_string());
    let hours = max_age.as_secs() / 3600;
    event.extra.insert(
        "mamori".into(),
        json!({ "signatures": { "source": source.name, "engine": source.engine, "version": source.version, "released": released } }),
    );
    event.message = Some(format!(
        "パターンファイル {} (版 {}, {released} 公開) が {hours} 時間より古くなっています。更新を確認してください。 \
         / Signature source {} (version {}, released {released}) is older than {hours} h: check its updates.",
        source.name, source.version, source.name, source.version
    ));
    event
}
