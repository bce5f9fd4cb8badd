//! Windows event log files (EVTX) to ECS events with Winlogbeat's `winlog.*` fields.
//!
//! The `evtx` crate renders each record as JSON (`Event.System`, `Event.EventData`); this
//! module reshapes it: `winlog.channel`, `winlog.event_id` (text, as Winlogbeat writes it),
//! `winlog.provider_name`, `winlog.computer_name`, `winlog.record_id`, `winlog.event_data.*`
//! (values as text; `UserData` children land there too), `@timestamp`.
//!
//! A damaged chunk or record is skipped and reported as an [`EvtxIssue`] with the parser's
//! specific reason; the rest of the file is still read.

use std::panic::AssertUnwindSafe;
use std::path::Path;

use evtx::{EvtxParser, ParserSettings};
use mamori_core::error_text::chain;
use serde_json::{Map, Value, json};

use crate::error::EvtxError;

/// A part of a file that could not be read (the reading went on past it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvtxIssue {
    pub message: String,
}

/// What reading a file gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvtxStats {
    pub records: u64,
    pub issues: u64,
    pub bytes: u64,
    /// The parser panicked (caught); the rest of the file was skipped.
    pub panicked: bool,
}

/// Reads every record of `path`, calling `on_event` with each as an ECS event and `on_issue`
/// with each damaged part. Fails only when the file cannot be opened or is not EVTX.
pub fn read_file(
    path: &Path,
    on_event: &mut dyn FnMut(Value),
    on_issue: &mut dyn FnMut(EvtxIssue),
) -> Result<EvtxStats, EvtxError> {
    let bytes = std::fs::metadata(path).map_err(|e| EvtxError::Open { path: path.to_path_buf(), source: e })?.len();
    let parser =
        EvtxParser::from_path(path).map_err(|e| EvtxError::Header { path: path.to_path_buf(), reason: chain(&e) })?;
    let settings = ParserSettings::new().indent(false).num_threads(1);
    let mut parser = parser.with_configuration(settings);
    let file = path.display().to_string();
    let mut stats = EvtxStats { bytes, ..EvtxStats::default() };
    // The parser is fuzzed upstream, but a service must survive a file it has not seen: a
    // panic inside it ends this file with an issue instead of the process.
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        for record in parser.records_json_value() {
            match record {
                Ok(r) => {
                    stats.records += 1;
                    on_event(to_ecs(r.data, r.timestamp, &file));
                }
                Err(e) => {
                    stats.issues += 1;
                    on_issue(EvtxIssue { message: chain(&e) });
                }
            }
        }
    }));
    if outcome.is_err() {
        stats.issues += 1;
        stats.panicked = true;
        on_issue(EvtxIssue {
            message: "the EVTX parser failed on this file (internal panic); the rest is skipped".into(),
        });
    }
    Ok(stats)
}

/// Reshapes a record rendered by the evtx crate into an ECS event.
pub fn to_ecs(record: Value, timestamp: jiff::Timestamp, file: &str) -> Value {
    let Value::Object(mut root) = record else { return json!({}) };
    let Some(Value::Object(mut ev)) = root.remove("Event") else { return json!({}) };
    let system = match ev.remove("System") {
        Some(Value::Object(s)) => s,
        _ => Map::new(),
    };
    let mut winlog = Map::new();
    let attr = |v: Option<&Value>, name: &str| v.and_then(|v| v.get("#attributes")).and_then(|a| a.get(name)).cloned();
    if let Some(v) = attr(system.get("Provider"), "Name") {
        winlog.insert("provider_name".into(), v);
    }
    if let Some(v) = attr(system.get("Provider"), "Guid") {
        winlog.insert("provider_guid".into(), v);
    }
    let event_id = system.get("EventID").map(text_of).unwrap_or_default();
    winlog.insert("event_id".into(), Value::String(event_id.clone()));
    for (from, to) in [
        ("Channel", "channel"),
        ("Computer", "computer_name"),
        ("EventRecordID", "record_id"),
        ("Level", "level"),
        ("Task", "task"),
        ("Opcode", "opcode"),
        ("Keywords", "keywords"),
        ("Version", "version"),
    ] {
        if let Some(v) = system.get(from).filter(|v| !v.is_null()) {
            winlog.insert(to.into(), Value::String(text_of(v)));
        }
    }
    let mut process = Map::new();
    if let Some(v) = attr(system.get("Execution"), "ProcessID") {
        process.insert("pid".into(), v);
    }
    if let Some(v) = attr(system.get("Execution"), "ThreadID") {
        process.insert("thread".into(), json!({"id": v}));
    }
    if !process.is_empty() {
        winlog.insert("process".into(), Value::Object(process));
    }
    if let Some(v) = attr(system.get("Security"), "UserID") {
        winlog.insert("user".into(), json!({"identifier": v}));
    }
    let mut data = Map::new();
    if let Some(Value::Object(ed)) = ev.remove("EventData") {
        flatten_data(ed, &mut data);
    }
    // UserData holds one element whose children are the fields.
    if let Some(Value::Object(ud)) = ev.remove("UserData") {
        for (_, inner) in ud {
            if let Value::Object(fields) = inner {
                flatten_data(fields, &mut data);
            }
        }
    }
    crate::nxlog::alias_spaced_fields(&mut data);
    winlog.insert("event_data".into(), Value::Object(data));
    let computer = winlog.get("computer_name").cloned();
    let mut out = Map::new();
    out.insert("@timestamp".into(), Value::String(timestamp.to_string()));
    out.insert(
        "event".into(),
        json!({"kind": "event", "code": event_id, "provider": winlog.get("provider_name"), "dataset": "winlog"}),
    );
    if let Some(c) = computer {
        out.insert("host".into(), json!({"name": c}));
    }
    out.insert("log".into(), json!({"file": {"path": file}}));
    out.insert("winlog".into(), Value::Object(winlog));
    Value::Object(out)
}

fn flatten_data(fields: Map<String, Value>, out: &mut Map<String, Value>) {
    for (k, v) in fields {
        if k == "#attributes" {
            continue;
        }
        let v = match v {
            Value::Array(items) => Value::Array(items.iter().map(|i| Value::String(text_of(i))).collect()),
            other => Value::String(text_of(&other)),
        };
        out.insert(k, v);
    }
}

/// The text of a rendered value: scalars as written, `{"#text": ...}` by its text.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(m) => m.get("#text").map(text_of).unwrap_or_default(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(" "),
    }
}
