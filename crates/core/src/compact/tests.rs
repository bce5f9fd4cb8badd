use mamori_query::ValueRef;
use serde_json::{Value, json};

use super::*;

const TS: Known = Known::new("@timestamp");
const MESSAGE: Known = Known::new("message");
const TAGS: Known = Known::new("tags");
const ORIGINAL: Known = Known::new("event.original");
const SEVERITY: Known = Known::new("event.severity");
const ORG: Known = Known::new("organization");
const ORG_ID: Known = Known::new("organization.id");
const FACILITY: Known = Known::new("log.syslog.facility.code");
const FACILITY_NAME: Known = Known::new("log.syslog.facility.name");
const LEVEL: Known = Known::new("log.level");
const PID: Known = Known::new("process.pid");

fn render(record: &[u8]) -> String {
    let mut out = Vec::new();
    render_json(record, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn leaves(record: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for_each_leaf(record, |path, v| out.push((path.to_owned(), format!("{v:?}")))).unwrap();
    out
}

#[test]
fn renders_nested_objects_arrays_and_slices_as_json() {
    let line = "<134>Nov 23 10:00:00 fw1 kernel: DROP \"x\" \\ é";
    let mut record = Vec::new();
    let mut w = CompactWriter::new(&mut record);
    w.blob(line);
    w.str(TS, "2026-11-23T01:00:00Z");
    w.str(MESSAGE, &line[30..]);
    w.array_str(TAGS, "a");
    w.array_str(TAGS, "b\n");
    w.uint(SEVERITY, 3);
    w.str(ORIGINAL, line);
    w.str(ORG_ID, "midori");
    w.str(LEVEL, "info");
    w.uint(FACILITY, 16);
    w.str(FACILITY_NAME, "local0");
    w.str_at("log.source.port_name", "syslog");
    w.int(PID, -5);
    let text = render(&record);
    let expected = json!({
        "@timestamp": "2026-11-23T01:00:00Z",
        "message": &line[30..],
        "tags": ["a", "b\n"],
        "event": {"severity": 3, "original": line},
        "organization": {"id": "midori"},
        "log": {"level": "info", "syslog": {"facility": {"code": 16, "name": "local0"}}, "source": {"port_name": "syslog"}},
        "process": {"pid": -5}
    });
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
    // Key order is the writer's.
    let order = ["@timestamp", "message", "tags", "event", "severity", "original", "organization", "log", "process"];
    let at: Vec<usize> = order.iter().map(|k| text.find(&format!("\"{k}\":")).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    // The line is stored once: message and original are slices of the blob.
    assert!(record.len() < line.len() + 140, "{} bytes", record.len());
}

#[test]
fn leaves_are_what_a_walk_of_the_json_gives() {
    let mut record = Vec::new();
    let mut w = CompactWriter::new(&mut record);
    w.array_str(TAGS, "x");
    w.array_str(TAGS, "y");
    w.empty_object(ORG);
    w.uint(SEVERITY, u64::MAX);
    w.float(Known::new("event.code"), 1.5);
    w.bool(Known::new("event.provider"), true);
    assert_eq!(
        render(&record),
        r#"{"tags":["x","y"],"organization":{},"event":{"severity":18446744073709551615,"code":1.5,"provider":true}}"#
    );
    let expected = vec![
        ("tags".to_owned(), format!("{:?}", ValueRef::Str("x"))),
        ("tags".to_owned(), format!("{:?}", ValueRef::Str("y"))),
        ("event.severity".to_owned(), format!("{:?}", ValueRef::UInt(u64::MAX))),
        ("event.code".to_owned(), format!("{:?}", ValueRef::Float(1.5))),
        ("event.provider".to_owned(), format!("{:?}", ValueRef::Bool(true))),
    ];
    assert_eq!(leaves(&record), expected);
}

#[test]
fn a_small_uint_is_an_int_leaf_as_in_json() {
    let mut record = Vec::new();
    CompactWriter::new(&mut record).uint(PID, 42);
    assert_eq!(leaves(&record), vec![("process.pid".to_owned(), format!("{:?}", ValueRef::Int(42)))]);
}

#[test]
fn damaged_records_are_errors_never_panics() {
    let mut record = Vec::new();
    let mut w = CompactWriter::new(&mut record);
    w.blob("some line");
    w.str(MESSAGE, "plain text");
    w.uint(PID, 300);
    for cut in 0..record.len() {
        let _ = render_json(&record[..cut], &mut Vec::new());
        let _ = for_each_leaf(&record[..cut], |_, _| {});
    }
    for at in 0..record.len() {
        for b in [0u8, 1, 7, 0x7f, 0x80, 0xfe, 0xff] {
            let mut bad = record.clone();
            bad[at] = b;
            let mut out = b"keep".to_vec();
            if render_json(&bad, &mut out).is_err() {
                assert_eq!(out, b"keep");
            }
            let _ = for_each_leaf(&bad, |_, _| {});
        }
    }
    assert_eq!(for_each_leaf(b"{}", |_, _| {}).unwrap_err().what, "not a compact record");
    // A slice of the blob must fall on character boundaries.
    let mut split = Vec::new();
    let mut w = CompactWriter::new(&mut split);
    w.blob("日本");
    let at = split.len() - 6;
    split.extend_from_slice(&[1, 1, at as u8 + 1, 2]);
    assert_eq!(for_each_leaf(&split, |_, _| {}).unwrap_err().what, "slice not on character boundaries");
    // A slice must point before its own entry.
    let forward = [TAG, 1, 1, 5, 3];
    assert!(for_each_leaf(&forward, |_, _| {}).is_err());
}

#[test]
fn every_known_path_has_keys_without_empty_parts() {
    for p in KNOWN_PATHS {
        assert!(p.split('.').all(|k| !k.is_empty()), "{p}");
    }
    assert!(KNOWN_PATHS.len() < INLINE_PATH as usize);
}

#[test]
fn text_written_in_place_may_be_long() {
    for len in [0, 1, 127, 128, 300, 20_000] {
        let mut record = Vec::new();
        let mut w = CompactWriter::new(&mut record);
        w.str_with(MESSAGE, |out| out.extend(std::iter::repeat_n(b'x', len)));
        w.timestamp(TS, jiff::Timestamp::new(1_700_000_000, 5_000).unwrap());
        assert_eq!(
            render(&record),
            format!(r#"{{"message":"{}","@timestamp":"2023-11-14T22:13:20.000005Z"}}"#, "x".repeat(len))
        );
    }
}
