//! Windows events forwarded by NXLog (`im_msvistalog` with `to_json()`) in Winlogbeat's shape,
//! so the same Sigma rules read them: `EventID`, `Channel`, `SourceName`, `Hostname`,
//! `RecordNumber`, ... become `winlog.event_id`, `winlog.channel`, `winlog.provider_name`,
//! `winlog.computer_name`, `winlog.record_id`, and the event's own data fields (NXLog writes
//! them beside the system fields) go under `winlog.event_data`.
//!
//! The JSON is found at the top of the event (posted to the ingest API) or in `message`
//! (forwarded over syslog). Events that already have `winlog` (Winlogbeat) are left alone.

use serde_json::{Map, Value};

/// NXLog's own fields: not the event's data.
const SYSTEM: &[&str] = &[
    "EventTime",
    "EventReceivedTime",
    "Hostname",
    "Keywords",
    "EventType",
    "SeverityValue",
    "Severity",
    "EventID",
    "SourceName",
    "ProviderGuid",
    "Version",
    "Task",
    "OpcodeValue",
    "Opcode",
    "RecordNumber",
    "ActivityID",
    "RelatedActivityID",
    "ProcessID",
    "ThreadID",
    "Channel",
    "Domain",
    "AccountName",
    "UserID",
    "AccountType",
    "Category",
    "Message",
    "SourceModuleName",
    "SourceModuleType",
    "MessageSourceAddress",
];

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_nxlog(m: &Map<String, Value>) -> bool {
    m.contains_key("EventID") && m.contains_key("Channel")
}

/// The `winlog` object of an NXLog record.
pub fn winlog_of(nx: &Map<String, Value>) -> Value {
    let mut winlog = Map::new();
    for (from, to) in [
        ("Channel", "channel"),
        ("EventID", "event_id"),
        ("SourceName", "provider_name"),
        ("ProviderGuid", "provider_guid"),
        ("Hostname", "computer_name"),
        ("RecordNumber", "record_id"),
        ("Task", "task"),
        ("Opcode", "opcode"),
        ("Keywords", "keywords"),
    ] {
        if let Some(v) = nx.get(from) {
            winlog.insert(to.into(), Value::String(text(v)));
        }
    }
    if let Some(pid) = nx.get("ProcessID").and_then(Value::as_u64) {
        winlog.insert("process".into(), serde_json::json!({"pid": pid}));
    }
    if let Some(v) = nx.get("UserID") {
        winlog.insert("user".into(), serde_json::json!({"identifier": text(v)}));
    }
    let mut data: Map<String, Value> = nx
        .iter()
        .filter(|(k, _)| !SYSTEM.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), Value::String(text(v))))
        .collect();
    alias_spaced_fields(&mut data);
    winlog.insert("event_data".into(), Value::Object(data));
    Value::Object(winlog)
}

/// Sigma names event data fields without their spaces (Defender's `Source Name`, `Threat Name`,
/// `Process Name` are `SourceName`, `ThreatName`, `ProcessName` in SigmaHQ's rules): each field
/// whose name has spaces is also given under the name without them, unless that is taken.
pub fn alias_spaced_fields(data: &mut Map<String, Value>) {
    if !data.keys().any(|k| k.contains(' ')) {
        return;
    }
    let spaced: Vec<(String, Value)> = data
        .iter()
        .filter(|(k, _)| k.contains(' '))
        .map(|(k, v)| (k.replace(' ', ""), v.clone()))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    for (k, v) in spaced {
        data.entry(k).or_insert(v);
    }
}

/// Adds `winlog` (and `host.name`) to an event carrying an NXLog Windows record; `false` when
/// it carries none.
pub fn normalize(event: &mut Value) -> bool {
    let Value::Object(root) = event else { return false };
    if let Some(winlog) = root.get_mut("winlog") {
        if let Some(Value::Object(data)) = winlog.get_mut("event_data") {
            alias_spaced_fields(data);
        }
        return false;
    }
    let from_message;
    let nx = if is_nxlog(root) {
        &*root
    } else {
        let Some(Value::String(m)) = root.get("message") else { return false };
        if !m.trim_start().starts_with('{') || !m.contains("\"EventID\"") {
            return false;
        }
        match serde_json::from_str::<Value>(m) {
            Ok(Value::Object(parsed)) if is_nxlog(&parsed) => {
                from_message = parsed;
                &from_message
            }
            _ => return false,
        }
    };
    let winlog = winlog_of(nx);
    let host = nx.get("Hostname").map(text);
    root.insert("winlog".into(), winlog);
    if let Some(h) = host {
        let host = root.entry("host").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(h_obj) = host {
            h_obj.entry("name").or_insert(Value::String(h));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RECORD: &str = r#"{"EventTime":"2026-11-22 10:00:00","Hostname":"DC01.midori.lg.jp","Keywords":"9232379236109516800","EventType":"AUDIT_FAILURE","SeverityValue":4,"Severity":"ERROR","EventID":4625,"SourceName":"Microsoft-Windows-Security-Auditing","ProviderGuid":"{54849625-5478-4994-A5BA-3E3B0328C30D}","Version":0,"Task":12544,"OpcodeValue":0,"RecordNumber":123456,"ProcessID":612,"ThreadID":4420,"Channel":"Security","Message":"An account failed to log on.","TargetUserName":"taro","IpAddress":"10.1.2.3","LogonType":"3","EventReceivedTime":"2026-11-22 10:00:01","SourceModuleName":"eventlog","SourceModuleType":"im_msvistalog"}"#;

    #[test]
    fn top_level_and_message_records_become_winlog() {
        let mut posted: Value = serde_json::from_str(RECORD).unwrap();
        assert!(normalize(&mut posted));
        assert_eq!(posted["winlog"]["channel"], "Security");
        assert_eq!(posted["winlog"]["event_id"], "4625");
        assert_eq!(posted["winlog"]["record_id"], "123456");
        assert_eq!(posted["winlog"]["process"]["pid"], 612);
        assert_eq!(posted["winlog"]["event_data"]["TargetUserName"], "taro");
        assert_eq!(posted["winlog"]["event_data"]["LogonType"], "3");
        assert!(posted["winlog"]["event_data"].get("Severity").is_none());
        assert_eq!(posted["host"]["name"], "DC01.midori.lg.jp");

        let mut forwarded = json!({"message": RECORD, "organization": {"id": "midori"}, "host": {"name": "dc01"}});
        assert!(normalize(&mut forwarded));
        assert_eq!(forwarded["winlog"]["provider_name"], "Microsoft-Windows-Security-Auditing");
        assert_eq!(forwarded["host"]["name"], "dc01");

        let mut beat = json!({"winlog": {"channel": "Security"}, "EventID": 1, "Channel": "x"});
        assert!(!normalize(&mut beat));
        assert!(!normalize(&mut json!({"message": "{\"EventID\": 1}"})));
        assert!(!normalize(&mut json!({"message": "{not json \"EventID\""})));
    }

    #[test]
    fn sigma_rules_match_nxlog_records() {
        use crate::{CompileOptions, Pipeline, RuleSet};
        let mut set = RuleSet::default();
        let rule = "title: failed network logon\nlogsource: {product: windows, service: security}\n\
                    detection: {s: {EventID: 4625, LogonType: 3, TargetUserName: taro}, condition: s}\n";
        set.add_text(std::path::Path::new("r.yml"), rule, &Pipeline::default(), &CompileOptions::default());
        let mut e = json!({"message": RECORD});
        normalize(&mut e);
        assert_eq!(set.matches(&e), [0]);
    }

    #[test]
    fn spaced_event_data_names_also_read_without_spaces() {
        let mut beat = json!({"winlog": {"channel": "Microsoft-Windows-Windows Defender/Operational",
            "event_data": {"Source Name": "Real-Time Protection", "Threat Name": "x", "ThreatName": "kept", " ": "y"}}});
        assert!(!normalize(&mut beat));
        let data = &beat["winlog"]["event_data"];
        assert_eq!(data["SourceName"], "Real-Time Protection");
        assert_eq!(data["Source Name"], "Real-Time Protection");
        assert_eq!(data["ThreatName"], "kept");
        assert!(data.get("").is_none());
    }
}
