//! Alert events: one per WAF rule match (`event.kind: alert`, `event.dataset: edge.waf`), with
//! the rule, its message and tags, the anomaly scores and the matched data, cut short and
//! with secrets (passwords, tokens, cookies) left out.

use std::net::SocketAddr;

use mamori_core::event::{Endpoint, Event};
use mamori_waf::MatchRecord;
use serde_json::json;

/// Matched data and log data are cut to this many bytes.
pub const MAX_MATCHED_BYTES: usize = 256;

/// What is the same for every alert of one request.
pub struct AlertContext<'a> {
    pub request_id: &'a str,
    pub client: SocketAddr,
    pub tenant: &'a str,
    pub site: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    /// `detect` or `block`; and whether this request was blocked.
    pub waf_mode: &'static str,
    pub blocked: bool,
    pub inbound_score: Option<i64>,
    pub outbound_score: Option<i64>,
}

const SEVERITY_NAMES: [&str; 8] = ["emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"];

pub fn alert_event(c: &AlertContext<'_>, m: &MatchRecord) -> Event {
    let now = jiff::Timestamp::now();
    let mut event = Event::new(now, "edge.waf");
    event.stamp_ingestion(now);
    event.message = Some(format!("WAF rule {} {}: {}", m.id, c.method, m.msg));
    let e = &mut event.event;
    e.kind = Some("alert".into());
    e.category = vec!["web".into(), "intrusion_detection".into()];
    e.type_ = vec![if c.blocked { "denied".into() } else { "info".into() }];
    e.action = Some(if c.blocked { "blocked".into() } else { "detected".into() });
    e.module = Some("edge".into());
    e.created = Some(now);
    e.severity = m.severity.map(i64::from);
    e.extra.insert("reference".into(), json!(c.request_id));
    event.organization.id = Some(c.tenant.to_string());
    event.source = Some(Endpoint { ip: Some(c.client.ip()), port: Some(c.client.port()), ..Default::default() });
    let x = &mut event.extra;
    x.insert("url".into(), json!({ "full": c.url }));
    x.insert("http".into(), json!({ "request": { "method": c.method, "id": c.request_id } }));
    let mut rule = json!({ "id": m.id.to_string(), "description": m.msg, "ruleset": "seclang" });
    if let Some(s) = m.severity.and_then(|s| SEVERITY_NAMES.get(s as usize)) {
        rule["severity"] = json!(s);
    }
    x.insert("rule".into(), rule);
    if !m.tags.is_empty() {
        x.insert("tags".into(), json!(m.tags));
    }
    let mut waf = json!({
        "mode": c.waf_mode,
        "site": c.site,
        "phase": m.phase,
        "matched": { "variable": m.var_name, "data": matched_data(&m.var_name, &m.var_value) },
        "logdata": cut(m.logdata.as_bytes()),
        "operator": m.operator,
    });
    if let Some(s) = c.inbound_score {
        waf["anomaly_score"]["inbound"] = json!(s);
    }
    if let Some(s) = c.outbound_score {
        waf["anomaly_score"]["outbound"] = json!(s);
    }
    x.insert("mamori".into(), json!({ "edge": { "waf": waf } }));
    event
}

/// The matched value for the log, unless the variable holds a secret.
fn matched_data(var: &str, value: &[u8]) -> String {
    let v = var.to_ascii_lowercase();
    let secret =
        ["authorization", "cookie", "password", "passwd", "pwd", "token", "secret", "session", "api_key", "apikey"];
    if secret.iter().any(|s| v.contains(s)) {
        return "[redacted]".into();
    }
    cut(value)
}

/// At most [`MAX_MATCHED_BYTES`] bytes as text, cut on a character boundary, marked when cut.
pub fn cut(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.len() <= MAX_MATCHED_BYTES {
        return s.into_owned();
    }
    let mut end = MAX_MATCHED_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matched_data_is_cut_and_secrets_left_out() {
        assert_eq!(matched_data("ARGS:id", b"1' OR 1=1"), "1' OR 1=1");
        assert_eq!(matched_data("ARGS:password", b"hunter2"), "[redacted]");
        assert_eq!(matched_data("REQUEST_HEADERS:Cookie", b"sid=1"), "[redacted]");
        let long = "あ".repeat(200);
        let c = cut(long.as_bytes());
        assert!(c.len() <= MAX_MATCHED_BYTES + 3 && c.ends_with('…'));
    }
}
