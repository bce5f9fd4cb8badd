//! The RFC examples and the parser's promises: never fail, keep the line, flag repairs.

use serde_json::{Value, json};

use super::*;
use crate::tags;

pub(super) fn ctx() -> ParseContext {
    ParseContext::new("2024-03-01T03:00:00Z".parse().unwrap(), default_timezone(), 64 * 1024)
        .with_sender("192.0.2.10:51514".parse().unwrap())
}

pub(super) fn p(line: &str) -> Value {
    p_bytes(line.as_bytes())
}

pub(super) fn p_bytes(line: &[u8]) -> Value {
    let event = parse(line, &ctx());
    let value = serde_json::to_value(&event).unwrap();
    assert_eq!(value["event"]["dataset"], "syslog");
    assert_eq!(value["log"]["source"]["address"], "192.0.2.10:51514");
    assert!(value["event"]["original"].is_string());
    value
}

pub(super) fn has_tag(v: &Value, tag: &str) -> bool {
    v["tags"].as_array().is_some_and(|t| t.iter().any(|x| x == tag))
}

pub(super) fn error(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or("").to_string()
}

#[test]
fn rfc5424_example_1_with_bom() {
    let line = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8";
    let v = p(line);
    assert_eq!(v["@timestamp"], "2003-10-11T22:14:15.003Z");
    assert_eq!(v["message"], "'su root' failed for lonvick on /dev/pts/8");
    assert_eq!(v["event"]["original"], line);
    let s = &v["log"]["syslog"];
    assert_eq!(s["priority"], 34);
    assert_eq!(s["facility"], json!({"code": 4, "name": "auth"}));
    assert_eq!(s["severity"], json!({"code": 2, "name": "critical"}));
    assert_eq!(s["hostname"], "mymachine.example.com");
    assert_eq!(s["appname"], "su");
    assert_eq!(s["msgid"], "ID47");
    assert_eq!(s["version"], "1");
    assert!(s.get("procid").is_none());
    assert_eq!(v["log"]["level"], "critical");
    assert_eq!(v["host"]["hostname"], "mymachine.example.com");
    assert_eq!(v["process"]["name"], "su");
    assert!(v.get("tags").is_none(), "{v}");
    assert!(v.get("error").is_none(), "{v}");
}

#[test]
fn rfc5424_example_2_offset_and_procid() {
    let v = p("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nothing.");
    assert_eq!(v["@timestamp"], "2003-08-24T12:14:15.000003Z");
    assert_eq!(v["log"]["syslog"]["facility"]["name"], "local4");
    assert_eq!(v["log"]["syslog"]["severity"]["name"], "notice");
    assert_eq!(v["log"]["syslog"]["procid"], "8710");
    assert_eq!(v["process"], json!({"name": "myproc", "pid": 8710}));
    assert_eq!(v["host"]["hostname"], "192.0.2.1");
    assert_eq!(v["message"], "%% It's time to make the do-nothing.");
}

#[test]
fn rfc5424_examples_3_and_4_structured_data() {
    let v = p(
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \u{feff}An application event log entry...",
    );
    assert_eq!(
        v["log"]["syslog"]["structured_data"],
        json!({"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}})
    );
    assert_eq!(v["message"], "An application event log entry...");
    let v = p(
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]",
    );
    assert_eq!(v["log"]["syslog"]["structured_data"]["examplePriority@32473"], json!({"class": "high"}));
    assert_eq!(v["message"], "");
}

#[test]
fn rfc3164_examples() {
    let v = p("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
    // October 2023 is closer to the reference (March 2024) than October 2024.
    assert_eq!(v["@timestamp"], "2023-10-11T13:14:15Z");
    assert_eq!(v["host"]["hostname"], "mymachine");
    assert_eq!(v["process"]["name"], "su");
    assert_eq!(v["message"], "'su root' failed for lonvick on /dev/pts/8");
    assert!(v.get("error").is_none());

    let v = p("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!");
    assert_eq!(v["host"]["hostname"], "10.0.0.99");
    assert_eq!(v["message"], "Use the BFG!");
    assert_eq!(v["log"]["syslog"]["facility"]["name"], "user");

    let v = p("<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nothing.");
    assert!(!has_tag(&v, tags::PARSE_FAILURE));
    assert!(v["message"].as_str().unwrap().contains("do-nothing"));

    // RFC 3164 5.4: no recognisable timestamp after the PRI; the rest is the message.
    let v = p("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!");
    assert!(!has_tag(&v, tags::PARSE_FAILURE));
    assert_eq!(v["log"]["syslog"]["severity"]["name"], "emergency");
    assert!(error(&v).contains("no timestamp"));
    assert_eq!(v["@timestamp"], "2024-03-01T03:00:00Z");
}

#[test]
fn unparsable_lines_are_kept_whole_and_flagged() {
    for line in ["Use the BFG!", "hello", "{\"json\": true}", "<999>Mar  x", "<>"] {
        let v = p(line);
        assert!(has_tag(&v, tags::PARSE_FAILURE), "{line}: {v}");
        assert_eq!(v["message"], line);
        assert_eq!(v["event"]["original"], line);
        assert!(error(&v).contains("neither RFC 5424 nor RFC 3164"), "{line}");
        assert_eq!(v["@timestamp"], "2024-03-01T03:00:00Z");
    }
}

#[test]
fn an_invalid_pri_before_a_timestamp_is_still_a_parse_failure() {
    let v = p("<1000>Mar  1 12:00:00 host app: x");
    assert!(has_tag(&v, tags::PARSE_FAILURE));
    assert!(error(&v).contains("no valid <PRI>"), "{v}");
}

#[test]
fn broken_rfc5424_keeps_the_pri_and_the_line() {
    let line = "<34>1 2003-10-11T22:14:15.003Z host app - ID1 [sd x=\"unterminated";
    let v = p(line);
    assert!(has_tag(&v, tags::PARSE_FAILURE));
    assert_eq!(v["message"], line);
    assert_eq!(v["log"]["syslog"]["priority"], 34);
    assert!(error(&v).contains("not valid RFC 5424"));
    let v = p("<34>1 2003-10-11T22:14:15.003Z");
    assert!(has_tag(&v, tags::PARSE_FAILURE));
}

#[test]
fn bad_timestamp_falls_back_to_receive_time_with_a_note() {
    let v = p("<34>1 2003-13-45T99:00:00Z host app - - - msg");
    assert_eq!(v["@timestamp"], "2024-03-01T03:00:00Z");
    assert!(error(&v).contains("not an RFC 3339 timestamp"), "{v}");
    assert_eq!(v["message"], "msg");
    assert!(!has_tag(&v, tags::PARSE_FAILURE));
    let v = p("<34>1 - host app - - - msg");
    assert!(error(&v).contains("no timestamp"));
    let v = p("<13>Feb 30 10:00:00 host app: x");
    assert!(error(&v).contains("timestamp not understood"), "{v}");
}

#[test]
fn empty_and_terminator_only_lines() {
    for line in [&b""[..], b"\n", b"\r\n", b"\0", b"   \r\n"] {
        let v = p_bytes(line);
        assert!(has_tag(&v, tags::PARSE_FAILURE));
        assert!(error(&v).contains("empty"));
    }
}

#[test]
fn pri_only_is_an_empty_message() {
    let v = p("<13>");
    assert!(!has_tag(&v, tags::PARSE_FAILURE));
    assert_eq!(v["message"], "");
    assert_eq!(v["log"]["level"], "notice");
}

#[test]
fn trailing_nul_cr_lf_are_removed() {
    let v = p_bytes(b"<13>Mar  1 12:00:00 host app: done\r\n\0");
    assert_eq!(v["message"], "done");
    assert_eq!(v["event"]["original"], "<13>Mar  1 12:00:00 host app: done");
}

#[test]
fn oversized_lines_are_cut_on_a_char_boundary_and_flagged() {
    let mut line = "<13>Mar  1 12:00:00 host app: ".to_string();
    while line.len() < 70_000 {
        line.push_str("日本語");
    }
    let v = p(&line);
    assert!(has_tag(&v, tags::TRUNCATED));
    assert!(error(&v).contains(&format!("{} bytes truncated", line.len())));
    let original = v["event"]["original"].as_str().unwrap();
    assert!(original.len() <= 64 * 1024 && original.len() > 64 * 1024 - 3);
    assert!(line.starts_with(original));
    assert_eq!(v["process"]["name"], "app");
}

#[test]
fn shift_jis_is_decoded_and_tagged() {
    let text = "<13>Mar  1 12:00:00 nas01 smbd: ログオンに失敗しました ユーザー=山田";
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    let v = p_bytes(&bytes);
    assert!(has_tag(&v, tags::DECODED_SHIFT_JIS));
    assert_eq!(v["message"], "ログオンに失敗しました ユーザー=山田");
    assert_eq!(v["event"]["original"], text);
    assert!(!has_tag(&v, tags::INVALID_UTF8));
}

#[test]
fn invalid_bytes_are_replaced_and_kept_in_base64() {
    let bytes = b"<13>Mar  1 12:00:00 host app: bad \xff\xfe\x80 bytes";
    let v = p_bytes(bytes);
    assert!(has_tag(&v, tags::INVALID_UTF8));
    assert!(v["message"].as_str().unwrap().contains('\u{fffd}'));
    use base64::Engine as _;
    let kept =
        base64::engine::general_purpose::STANDARD.decode(v["mamori"]["original_base64"].as_str().unwrap()).unwrap();
    assert_eq!(kept, bytes);
}

#[test]
fn garbage_never_panics() {
    let samples: [&[u8]; 10] = [
        b"\xff\xff\xff",
        b"<",
        b"<1",
        b"<12>1",
        b"<12>1 ",
        b"<12>1 - - - - - [",
        b"<12>1 - - - - - [a b=\"\\",
        b"<12>%",
        b"<12>Jan",
        b"\0\0\0<13>x",
    ];
    for s in samples {
        let e = parse(s, &ctx());
        assert!(e.event.original.is_some());
    }
    // Every prefix of a rich line.
    let line = "<165>1 2003-10-11T22:14:15.003Z mymachine evntslog 12 ID47 [a@1 x=\"1\\\"\"][b y=\"日本\"] \u{feff}msg";
    for end in 0..=line.len() {
        let _ = parse(&line.as_bytes()[..end], &ctx());
    }
}

#[test]
fn sender_without_port_is_just_the_address() {
    let c = ParseContext::new(Timestamp::UNIX_EPOCH, TimeZone::UTC, 100).with_sender("10.0.0.1:0".parse().unwrap());
    let v = serde_json::to_value(parse(b"<13>x", &c)).unwrap();
    assert_eq!(v["log"]["source"]["address"], "10.0.0.1");
}

#[test]
fn frames_cut_by_the_decoder_are_flagged() {
    let frame = Frame {
        data: b"<13>Mar  1 12:00:00 host app: abc".to_vec(),
        original_len: 5000,
        received_len: 5000,
        incomplete: false,
        framing: crate::framing::Framing::OctetCounting,
    };
    let v = serde_json::to_value(parse_frame(&frame, &ctx())).unwrap();
    assert!(has_tag(&v, tags::TRUNCATED));
    assert!(error(&v).contains("5000 bytes truncated"));

    let frame = Frame {
        data: b"<13>Mar  1 12:00:00 host app: abc".to_vec(),
        original_len: 100,
        received_len: 33,
        incomplete: true,
        framing: crate::framing::Framing::OctetCounting,
    };
    let v = serde_json::to_value(parse_frame(&frame, &ctx())).unwrap();
    assert!(has_tag(&v, tags::TRUNCATED));
    assert!(error(&v).contains("connection ended 33 bytes into"), "{v}");
    assert_eq!(v["message"], "abc");
}

/// Lines of every form the receivers meet, for the tests of the records they write.
const RECORD_LINES: [&[u8]; 16] = [
    b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xef\xbb\xbf'su root' failed",
    b"<165>1 2003-10-11T22:14:15.003Z mymachine evntslog 12 ID47 [a@1 x=\"1\\\"\"][b y=\"\xe6\x97\xa5\"] msg",
    b"<165>1 2003-10-11T22:14:15.003Z - - - - -",
    b"<134>Mar  1 11:59:58 proxy01 squid[2211]: 1709261998.123 5 10.1.2.3 TCP_MISS/200 GET http://a/",
    b"<187>123: Mar  1 12:00:00.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
    b"%ASA-6-302013: Built outbound TCP connection",
    b"Mar  1 12:00:00 host app: plain file line",
    b"just some text",
    b"<13>",
    b"<999>Mar  1 12:00:00 host x",
    b"<13>1 bad",
    b"\x82\xa0\x82\xa2 Shift_JIS",
    b"\xff\xfe bytes",
    b"",
    b"<13>Mar 99 12:00:00 host app[abc]: \"quoted\" \\ back\tslash \x01",
    "<14>Mar  1 12:00:00 庁内サーバ ログイン[77]: 認証失敗 user=山田".as_bytes(),
];

/// The records receivers store are written directly; they must hold what serializing the same
/// event gives, so the log store sees one form whichever way an event came in, with
/// `@timestamp` first (the indexer reads it from there without parsing the record).
#[test]
fn written_records_are_the_serialized_events() {
    let lines = RECORD_LINES;
    let admitted = Admission { tenant: "midori", ingested: "2024-03-01T03:00:00.5Z" };
    let unassigned = Admission { tenant: mamori_core::event::UNASSIGNED, ingested: "2024-03-01T03:00:00Z" };
    for line in lines {
        for admission in [None, Some(&admitted), Some(&unassigned)] {
            let mut json = Vec::new();
            write_line(line, &ctx(), admission, RecordFormat::Json, &mut json);
            let event: Event =
                serde_json::from_slice(&json).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)));
            let written: Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(serde_json::to_value(&event).unwrap(), written);
            assert!(json.starts_with(b"{\"@timestamp\":\""));
            if let Some(a) = admission {
                assert_eq!(event.tenant(), a.tenant);
                assert_eq!(event.event.id.as_ref().map(String::len), Some(32));
                let flagged = event.tags.iter().any(|t| t == tags::UNASSIGNED_SENDER);
                assert_eq!(flagged, a.tenant == mamori_core::event::UNASSIGNED);
            }
        }
    }
}

/// Receivers store compact records; rendered, each must be the JSON record byte for byte (but
/// for the event id, which is new for every record), whatever the line and the sender.
#[test]
fn compact_records_render_to_the_json_records() {
    let lines = RECORD_LINES;
    let admitted = Admission { tenant: "midori", ingested: "2024-03-01T03:00:00.5Z" };
    let unassigned = Admission { tenant: mamori_core::event::UNASSIGNED, ingested: "2024-03-01T03:00:00Z" };
    let no_sender = ParseContext::new("2024-03-01T03:00:00Z".parse().unwrap(), default_timezone(), 64 * 1024);
    let port_zero = no_sender.clone().with_sender("[2001:db8::1]:0".parse().unwrap());
    let short = ParseContext::new("2024-03-01T03:00:00Z".parse().unwrap(), default_timezone(), 16);
    for line in lines {
        for context in [&ctx(), &no_sender, &port_zero, &short] {
            for admission in [None, Some(&admitted), Some(&unassigned)] {
                let (mut json, mut compact) = (Vec::new(), Vec::new());
                let flags = write_line(line, context, admission, RecordFormat::Json, &mut json);
                assert_eq!(write_line(line, context, admission, RecordFormat::Compact, &mut compact), flags);
                let rendered = if mamori_core::compact::is_compact(&compact) {
                    let mut out = Vec::new();
                    mamori_core::compact::render_json(&compact, &mut out).unwrap();
                    out
                } else {
                    compact.clone()
                };
                let (json, rendered) = (without_id(&json), without_id(&rendered));
                assert_eq!(rendered, json, "{}", String::from_utf8_lossy(line));
            }
        }
    }
}

/// The record's text with its event id's digits zeroed.
fn without_id(record: &[u8]) -> String {
    let text = String::from_utf8(record.to_vec()).unwrap();
    match text.find("\"event\":{\"id\":\"") {
        Some(at) => {
            let start = at + "\"event\":{\"id\":\"".len();
            format!("{}{}{}", &text[..start], "0".repeat(32), &text[start + 32..])
        }
        None => text,
    }
}
