//! The event model: Elastic Common Schema (ECS) field names, one JSON object per event.
//!
//! The fields every part of mamori reads are typed; anything else an event carries stays in the
//! `extra` maps, so a round trip through mamori never drops a field.

use std::net::IpAddr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::tenant::UNASSIGNED;

/// Tags marking events that mamori had to repair on the way in.
pub mod tags {
    /// The line could not be parsed in its declared format; it is kept whole in `message`.
    pub const PARSE_FAILURE: &str = "_parse_failure";
    /// The message exceeded the size limit and was cut; `event.original` keeps the cut part.
    pub const TRUNCATED: &str = "_truncated";
    /// The sender could not be attributed to a tenant.
    pub const UNASSIGNED_SENDER: &str = "_unassigned_sender";
    /// A field had a value of the wrong type; it was moved under `mamori.invalid`.
    pub const INVALID_FIELD: &str = "_invalid_field";
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "@timestamp")]
    pub timestamp: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub event: EventFields,
    #[serde(default)]
    pub organization: Organization,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<Log>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorFields>,
    /// Every other ECS field set or object (`url`, `dns`, `email`, `rule`, `observer`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `event.*`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventFields {
    /// Unique id, assigned on ingestion when the sender gave none (UUIDv7, time-ordered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `event`, `alert`, `metric`, `state`, `pipeline_error`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "one_or_many")]
    pub category: Vec<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Vec::is_empty", deserialize_with = "one_or_many")]
    pub type_: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Where the event comes from, e.g. `syslog`, `proxy.access`, `mamori.alarm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<i64>,
    /// The raw line as received, for collected logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// When mamori received the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingested: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `organization.*`: the tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `source.*` and `destination.*`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `host.*`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Host {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `log.*`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Log {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syslog: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `error.*`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

impl Event {
    /// A new event at `timestamp` in `dataset`.
    pub fn new(timestamp: Timestamp, dataset: &str) -> Self {
        Event {
            timestamp,
            message: None,
            tags: Vec::new(),
            event: EventFields { dataset: Some(dataset.to_string()), kind: Some("event".into()), ..Default::default() },
            organization: Organization::default(),
            source: None,
            destination: None,
            host: None,
            log: None,
            error: None,
            extra: Map::new(),
        }
    }

    /// The tenant id (`organization.id`), `unassigned` when missing.
    pub fn tenant(&self) -> &str {
        self.organization.id.as_deref().unwrap_or(UNASSIGNED)
    }

    pub fn set_tenant(&mut self, id: &str) {
        self.organization.id = Some(id.to_string());
    }

    pub fn add_tag(&mut self, tag: &str) {
        if !self.tags.iter().any(|t| t == tag) {
            self.tags.push(tag.to_string());
        }
    }

    /// Records why mamori had to repair or could not parse the input, without losing it.
    pub fn add_error(&mut self, message: impl Into<String>) {
        let message = message.into();
        let error = self.error.get_or_insert_with(Default::default);
        error.message = Some(match error.message.take() {
            Some(prev) => format!("{prev}; {message}"),
            None => message,
        });
    }

    /// Fills in what mamori owes every stored event: an id and the ingestion time.
    pub fn stamp_ingestion(&mut self, now: Timestamp) {
        if self.event.id.is_none() {
            self.event.id = Some(new_event_id());
        }
        if self.event.ingested.is_none() {
            self.event.ingested = Some(now);
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an Event always serializes")
    }

    /// Reads an event from a JSON object as senders produce it. Dotted keys
    /// (`"source.ip": ...`) are expanded into objects, and a typed field with a value of the
    /// wrong type is moved under `mamori.invalid` with a tag instead of rejecting the event.
    pub fn from_json_value(value: Value) -> Result<Event, String> {
        let Value::Object(object) = value else {
            return Err("an event must be a JSON object".into());
        };
        let mut object = expand_dotted_keys(object);
        if !object.contains_key("@timestamp") {
            object.insert("@timestamp".into(), Value::String(Timestamp::now().to_string()));
        }
        let mut moved = Map::new();
        loop {
            match serde_json::from_value::<Event>(Value::Object(object.clone())) {
                Ok(mut event) => {
                    if !moved.is_empty() {
                        event.add_tag(tags::INVALID_FIELD);
                        let names: Vec<&String> = moved.keys().collect();
                        event.add_error(format!("fields with invalid values moved to mamori.invalid: {names:?}"));
                        let mamori = event.extra.entry("mamori").or_insert_with(|| Value::Object(Map::new()));
                        if let Value::Object(m) = mamori {
                            m.insert("invalid".into(), Value::Object(moved));
                        }
                    }
                    return Ok(event);
                }
                Err(e) => {
                    // Move the first typed field that fails to parse out of the way and retry.
                    let Some(path) = TYPED_PATHS.iter().find(|p| !typed_field_ok(&object, p)) else {
                        return Err(format!("not a valid event: {e}"));
                    };
                    let Some(v) = remove_path(&mut object, path) else {
                        return Err(format!("not a valid event: {e}"));
                    };
                    if *path == "@timestamp" {
                        object.insert("@timestamp".into(), Value::String(Timestamp::now().to_string()));
                    }
                    moved.insert(path.to_string(), v);
                }
            }
        }
    }
}

/// The typed fields whose values can fail to parse.
const TYPED_PATHS: &[&str] = &[
    "@timestamp",
    "message",
    "tags",
    "event",
    "event.id",
    "event.kind",
    "event.category",
    "event.type",
    "event.action",
    "event.outcome",
    "event.dataset",
    "event.module",
    "event.severity",
    "event.original",
    "event.ingested",
    "event.created",
    "organization",
    "organization.id",
    "organization.name",
    "source",
    "source.ip",
    "source.port",
    "source.address",
    "source.domain",
    "destination",
    "destination.ip",
    "destination.port",
    "destination.address",
    "destination.domain",
    "host",
    "host.hostname",
    "host.name",
    "log",
    "log.level",
    "error",
    "error.message",
];

fn typed_field_ok(object: &Map<String, Value>, path: &str) -> bool {
    let Some(v) = get_path(object, path) else {
        return true;
    };
    let is_str = |v: &Value| v.is_string();
    match path {
        "@timestamp" | "event.ingested" | "event.created" => v.as_str().is_some_and(|s| s.parse::<Timestamp>().is_ok()),
        "source.ip" | "destination.ip" => v.as_str().is_some_and(|s| s.parse::<IpAddr>().is_ok()),
        "source.port" | "destination.port" => v.as_u64().is_some_and(|p| p <= u16::MAX as u64),
        "event.severity" => v.is_i64(),
        "tags" | "event.category" | "event.type" => is_str(v) || v.as_array().is_some_and(|a| a.iter().all(is_str)),
        "event" | "organization" | "source" | "destination" | "host" | "log" | "error" => v.is_object(),
        _ => is_str(v),
    }
}

fn get_path<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    match path.split_once('.') {
        Some((head, rest)) if head != "@timestamp" => get_path(object.get(head)?.as_object()?, rest),
        _ => object.get(path),
    }
}

fn remove_path(object: &mut Map<String, Value>, path: &str) -> Option<Value> {
    match path.split_once('.') {
        Some((head, rest)) => remove_path(object.get_mut(head)?.as_object_mut()?, rest),
        None => object.remove(path),
    }
}

/// Turns `{"source.ip": "1.2.3.4"}` into `{"source": {"ip": "1.2.3.4"}}`, merging with objects
/// already present. `@timestamp` and keys that collide with a non-object keep their place.
pub fn expand_dotted_keys(object: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in object {
        let value = match value {
            Value::Object(inner) => Value::Object(expand_dotted_keys(inner)),
            other => other,
        };
        insert_dotted(&mut out, &key, value);
    }
    out
}

fn insert_dotted(out: &mut Map<String, Value>, key: &str, value: Value) {
    if let Some((head, rest)) = key.split_once('.')
        && !head.is_empty()
        && !rest.is_empty()
    {
        let slot = out.entry(head.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(inner) = slot {
            insert_dotted(inner, rest, value);
            return;
        }
    }
    match (out.get_mut(key), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, v) in new {
                insert_dotted(existing, &k, v);
            }
        }
        (_, value) => {
            out.insert(key.to_string(), value);
        }
    }
}

/// A new time-ordered event id: a UUIDv7 (RFC 9562) as 32 lowercase hex characters, with a
/// per-process random salt in `rand_a` and a counter in `rand_b` (the RFC's "fixed-length
/// dedicated counter" method). Consecutive ids differ by small amounts, which lets the archive
/// store them in a few bits each instead of 10 random bytes.
pub fn new_event_id() -> String {
    let id = next_event_id();
    String::from_utf8(id.to_vec()).expect("hex digits are ASCII")
}

/// The next event id of [`new_event_id`] as its 32 ASCII hex digits, for writers that put it
/// straight into a JSON record.
pub fn next_event_id() -> [u8; 32] {
    next_event_id_at(jiff::Timestamp::now())
}

/// [`next_event_id`] for an event made at `now`, for writers that have read the clock already.
pub fn next_event_id_at(now: jiff::Timestamp) -> [u8; 32] {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEED: OnceLock<(u64, AtomicU64)> = OnceLock::new();
    let (salt, counter) = SEED.get_or_init(|| {
        let r = uuid::Uuid::new_v4().as_u128();
        ((r as u64) & 0xfff, AtomicU64::new(((r >> 64) as u64) & ((1 << 61) - 1)))
    });
    let ms = now.as_millisecond().max(0) as u64 & 0xffff_ffff_ffff;
    let count = counter.fetch_add(1, Ordering::Relaxed) & ((1 << 62) - 1);
    let hi = (ms << 16) | (0x7 << 12) | salt;
    let lo = (0b10 << 62) | count;
    let value = (u128::from(hi) << 64) | u128::from(lo);
    let mut out = [0u8; 32];
    for (i, digit) in out.iter_mut().enumerate() {
        *digit = b"0123456789abcdef"[((value >> (124 - 4 * i)) & 0xf) as usize];
    }
    out
}

/// Flattens an event object into `(dotted.path, leaf value)` pairs; arrays yield one pair per
/// element. Used by indexers and by query evaluation so that both see the same fields.
pub fn flatten_leaves<'a>(value: &'a Value, prefix: &mut String, out: &mut dyn FnMut(&str, &'a Value)) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let len = prefix.len();
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(k);
                flatten_leaves(v, prefix, out);
                prefix.truncate(len);
            }
        }
        Value::Array(items) => {
            for item in items {
                flatten_leaves(item, prefix, out);
            }
        }
        Value::Null => {}
        leaf => out(prefix, leaf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_unknown_fields() {
        let v = json!({
            "@timestamp": "2026-11-21T01:02:03.456Z",
            "message": "hello",
            "event": {"dataset": "proxy.access", "risk_score": 4.5, "category": "web"},
            "organization": {"id": "midori"},
            "source": {"ip": "10.1.2.3", "port": 5050, "geo": {"country_iso_code": "JP"}},
            "url": {"full": "http://example.jp/"}
        });
        let e = Event::from_json_value(v).unwrap();
        assert_eq!(e.tenant(), "midori");
        assert_eq!(e.event.category, vec!["web"]);
        let back: Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(back["event"]["risk_score"], json!(4.5));
        assert_eq!(back["source"]["geo"]["country_iso_code"], "JP");
        assert_eq!(back["url"]["full"], "http://example.jp/");
        assert_eq!(back["@timestamp"], "2026-11-21T01:02:03.456Z");
    }

    #[test]
    fn dotted_keys_are_expanded() {
        let v =
            json!({"@timestamp": "2026-11-21T00:00:00Z", "source.ip": "10.0.0.1", "event.dataset": "x", "a.b.c": 1});
        let e = Event::from_json_value(v).unwrap();
        assert_eq!(e.source.unwrap().ip.unwrap().to_string(), "10.0.0.1");
        assert_eq!(e.extra["a"]["b"]["c"], 1);
    }

    #[test]
    fn invalid_typed_values_are_moved_not_lost() {
        let v = json!({"@timestamp": "yesterday", "source": {"ip": "not-an-ip", "port": 99999}, "message": 5});
        let e = Event::from_json_value(v).unwrap();
        assert!(e.tags.contains(&tags::INVALID_FIELD.to_string()));
        let invalid = &e.extra["mamori"]["invalid"];
        assert_eq!(invalid["@timestamp"], "yesterday");
        assert_eq!(invalid["source.ip"], "not-an-ip");
        assert_eq!(invalid["source.port"], 99999);
        assert_eq!(invalid["message"], 5);
        assert!(e.error.unwrap().message.unwrap().contains("mamori.invalid"));
    }

    #[test]
    fn event_ids_are_uuid_v7_and_increase() {
        let a = new_event_id();
        let b = new_event_id();
        assert_eq!(a.len(), 32);
        let u = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(u.get_version_num(), 7);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
        assert!(b > a || b[..12] < a[..12], "{a} {b}");
    }

    #[test]
    fn non_objects_are_refused() {
        assert!(Event::from_json_value(json!([1, 2])).is_err());
        assert!(Event::from_json_value(json!("x")).is_err());
    }

    #[test]
    fn flatten_yields_dotted_paths() {
        let v = json!({"a": {"b": 1, "c": ["x", "y"]}, "d": null});
        let mut got = Vec::new();
        flatten_leaves(&v, &mut String::new(), &mut |p, v| got.push((p.to_string(), v.clone())));
        assert_eq!(got, vec![("a.b".into(), json!(1)), ("a.c".into(), json!("x")), ("a.c".into(), json!("y"))]);
    }
}
