//! Puts the parts of a syslog message into ECS fields.

use jiff::Timestamp;
use mamori_core::Event;
use mamori_core::event::{Host, Log};
use serde_json::{Map, Value, json};

use super::ParseContext;
use super::pri::{self, Pri};
use super::rfc3164::{self, Mnemonic};
use super::rfc5424;
use super::timestamp::Found;

/// The parts of a message, whichever RFC it followed.
#[derive(Debug, Default)]
pub struct Parts<'a> {
    pub pri: Option<Pri>,
    pub version: Option<&'a str>,
    pub timestamp: Option<Found>,
    pub hostname: Option<&'a str>,
    pub appname: Option<&'a str>,
    pub procid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    pub structured_data: Option<Map<String, Value>>,
    pub cisco: Option<Mnemonic<'a>>,
    pub message: &'a str,
    pub notes: Vec<String>,
}

impl<'a> Parts<'a> {
    pub fn from_5424(pri: Pri, m: rfc5424::Message<'a>) -> Self {
        Parts {
            pri: Some(pri),
            version: Some(m.version),
            timestamp: m.timestamp,
            hostname: m.hostname,
            appname: m.appname,
            procid: m.procid,
            msgid: m.msgid,
            structured_data: m.structured_data,
            cisco: None,
            message: m.message,
            notes: m.notes,
        }
    }

    pub fn from_3164(pri: Option<Pri>, m: rfc3164::Message<'a>) -> Self {
        Parts {
            pri,
            timestamp: m.timestamp,
            hostname: m.hostname,
            appname: m.tag,
            procid: m.pid,
            cisco: m.cisco,
            message: m.message,
            ..Default::default()
        }
    }
}

/// The event every syslog line starts as: dataset, receive time, the original line and the
/// sender's address. Parsing fills in the rest.
pub fn base_event(ctx: &ParseContext, original: &str) -> Event {
    let mut event = Event::new(ctx.received, "syslog");
    event.event.original = Some(original.to_string());
    if let Some(sender) = ctx.sender {
        let address = if sender.port() == 0 { sender.ip().to_string() } else { sender.to_string() };
        let log = event.log.get_or_insert_with(Log::default);
        log.extra.insert("source".into(), json!({ "address": address }));
    }
    event
}

/// Fills `event` from `parts`.
pub fn apply(event: &mut Event, parts: Parts<'_>, received: Timestamp) {
    event.timestamp = match parts.timestamp {
        Some(Ok(ts)) => ts,
        Some(Err(why)) => {
            event.add_error(format!("timestamp not understood ({why}); @timestamp is the time received"));
            received
        }
        None => {
            event.add_error("no timestamp in the message; @timestamp is the time received");
            received
        }
    };
    for note in parts.notes {
        event.add_error(note);
    }
    event.message = Some(parts.message.to_string());

    let mut syslog = Map::new();
    set_priority(&mut syslog, parts.pri);
    let mut level = parts.pri.map(|p| p.severity_name());
    let strings = [
        ("hostname", parts.hostname),
        ("appname", parts.appname),
        ("procid", parts.procid),
        ("msgid", parts.msgid),
        ("version", parts.version),
    ];
    for (key, value) in strings {
        if let Some(v) = value {
            syslog.insert(key.into(), Value::String(v.to_string()));
        }
    }
    if let Some(sd) = parts.structured_data {
        syslog.insert("structured_data".into(), Value::Object(sd));
    }
    if let Some(hostname) = parts.hostname {
        event.host.get_or_insert_with(Host::default).hostname = Some(hostname.to_string());
    }
    set_process(event, parts.appname, parts.procid);
    if let Some(m) = parts.cisco {
        set_cisco(event, m);
        level = level.or(Some(pri::severity_name(m.severity)));
    }
    let log = event.log.get_or_insert_with(Log::default);
    log.level = level.map(str::to_string);
    if !syslog.is_empty() {
        log.syslog = Some(Value::Object(syslog));
    }
}

/// Only the PRI: for lines whose PRI was valid but the rest could not be parsed.
pub fn apply_pri_only(event: &mut Event, pri: Pri) {
    let mut syslog = Map::new();
    set_priority(&mut syslog, Some(pri));
    let log = event.log.get_or_insert_with(Log::default);
    log.level = Some(pri.severity_name().to_string());
    log.syslog = Some(Value::Object(syslog));
}

fn set_priority(syslog: &mut Map<String, Value>, pri: Option<Pri>) {
    if let Some(pri) = pri {
        syslog.insert("priority".into(), json!(pri.value()));
        syslog.insert("facility".into(), json!({"code": pri.facility, "name": pri.facility_name()}));
        syslog.insert("severity".into(), json!({"code": pri.severity, "name": pri.severity_name()}));
    }
}

/// `process.name` and, when the PROCID is a number, `process.pid`.
fn set_process(event: &mut Event, name: Option<&str>, procid: Option<&str>) {
    let mut process = Map::new();
    if let Some(name) = name {
        process.insert("name".into(), Value::String(name.to_string()));
    }
    if let Some(pid) = procid.and_then(|p| p.parse::<u64>().ok()) {
        process.insert("pid".into(), json!(pid));
    }
    if !process.is_empty() {
        event.extra.insert("process".into(), Value::Object(process));
    }
}

/// Cisco mnemonics map as Elastic's Cisco modules do: the mnemonic is `event.code`, the
/// facility `event.provider`, the severity digit `event.severity`.
fn set_cisco(event: &mut Event, m: Mnemonic<'_>) {
    let fields = &mut event.event;
    fields.extra.insert("code".into(), Value::String(m.mnemonic.to_string()));
    fields.extra.insert("provider".into(), Value::String(m.facility.to_string()));
    fields.severity = Some(i64::from(m.severity));
}
