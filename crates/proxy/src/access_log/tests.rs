//! The written records against the `Event` the access log was built as before it wrote JSON
//! itself (kept here as the reference), for values that need escaping.

use std::net::IpAddr;
use std::time::Duration;

use jiff::Timestamp;
use mamori_core::event::{Endpoint, Event};
use serde_json::{Value, json};

use super::*;

/// The event as `access_log::access_event` built it before the access log wrote its records.
fn previous_form(r: &AccessRecord<'_>, now: Timestamp, id: &str) -> Event {
    let mut event = Event::new(now, "proxy.access");
    event.message = Some(format!("{} {} {} {}", r.method, r.url, r.status, r.action));
    event.event.id = Some(id.to_string());
    event.event.ingested = Some(now);
    let e = &mut event.event;
    e.category = vec!["web".into(), "network".into()];
    e.type_ = vec![if r.action == "blocked" { "denied".into() } else { "access".into() }];
    e.action = Some(r.action.into());
    e.outcome = Some(if r.action == "allowed" { "success".into() } else { "failure".into() });
    e.module = Some("proxy".into());
    e.created = Some(now);
    e.extra.insert("duration".into(), json!(r.duration.as_nanos() as u64));
    e.extra.insert("reference".into(), json!(r.request_id));
    event.organization.id = Some(r.client.tenant.clone().unwrap_or_else(|| mamori_core::event::UNASSIGNED.into()));
    event.source = Some(Endpoint { ip: Some(r.client.terminal), ..Default::default() });
    if let Some(message) = r.error {
        event.add_error(message);
    }
    let x = &mut event.extra;
    x.insert("url".into(), json!({ "full": r.url, "domain": r.host }));
    x.insert("http".into(), json!({ "request": { "method": r.method }, "response": { "status_code": r.status } }));
    if r.client.peer != r.client.terminal {
        x.insert("client".into(), json!({ "ip": r.client.peer }));
    }
    if let Some(u) = &r.client.user {
        x.insert("user".into(), json!({ "name": u }));
    }
    if let Some((name, kind)) = r.rule {
        x.insert("rule".into(), json!({ "name": name, "category": kind }));
    }
    let mut mamori = serde_json::Map::new();
    if !r.categories.is_empty() {
        mamori.insert("url_categories".into(), json!(r.categories));
    }
    if let Some(scan) = r.scan {
        mamori.insert("scan".into(), json!(scan));
    }
    if !mamori.is_empty() {
        x.insert("mamori".into(), mamori.into());
    }
    event
}

/// Writes `r`'s record and checks it against the previous form, field for field. (Not byte
/// for byte: the previous form's order of the free-form fields depends on whether a crate in
/// the build turns on serde_json's `preserve_order`, which the workspace build does.)
fn assert_same_as_before(r: &AccessRecord<'_>) {
    let now = Timestamp::now();
    let mut out = Vec::new();
    write_access_event(r, now, &mut out);
    let written: Value =
        serde_json::from_slice(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out)));
    let id = written["event"]["id"].as_str().expect("an event id");
    let expected = previous_form(r, now, id);
    assert_eq!(written, serde_json::to_value(&expected).unwrap());
    // What the log store and its readers decode gives the same record back.
    let decoded: Event = serde_json::from_slice(&out).expect("a valid Event");
    assert_eq!(decoded, expected);
}

fn client(peer: &str, terminal: &str, tenant: Option<&str>, user: Option<&str>) -> Client {
    Client {
        peer: peer.parse::<IpAddr>().unwrap(),
        terminal: terminal.parse::<IpAddr>().unwrap(),
        tenant: tenant.map(str::to_string),
        user: user.map(str::to_string),
    }
}

fn record<'a>(client: &'a Client, url: &'a str, host: &'a str) -> AccessRecord<'a> {
    AccessRecord {
        client,
        request_id: "0194a1b2c3d4e5f60718293a4b5c6d7e",
        method: "GET",
        url,
        host,
        status: 200,
        action: "allowed",
        rule: None,
        categories: &[],
        duration: Duration::from_micros(1234),
        error: None,
        scan: None,
    }
}

#[test]
fn a_plain_allowed_request_is_written_as_before() {
    let c = client("192.0.2.7", "192.0.2.7", Some("midori"), None);
    assert_same_as_before(&record(&c, "http://www.city.midori.example.jp/index.html", "www.city.midori.example.jp"));
    // No tenant and no user: `organization.id` says so, and there is no `user`.
    let c = client("198.51.100.1", "198.51.100.1", None, None);
    assert_same_as_before(&record(&c, "http://example.com/", "example.com"));
}

#[test]
fn texts_that_need_escaping_are_written_as_before() {
    let tricky = [
        "say \"hi\"",
        "C:\\path\\file",
        "みどり市の掲示板",
        "bell\u{7}ctl\u{1f}",
        "del\u{7f}",
        "nl\nline\r\ttab\u{8}\u{c}",
        "\u{0}nul",
        "",
    ];
    for t in tricky {
        let c = client("2001:db8::7", "2001:db8::7", Some(t), Some(t));
        let categories = [t.to_string(), "adult".to_string(), "みどり".to_string()];
        let mut r = record(&c, t, t);
        r.method = t;
        r.request_id = t;
        r.rule = Some((t, t));
        r.categories = &categories;
        r.error = Some(t);
        r.scan = Some(t);
        r.status = 502;
        r.action = "error";
        assert_same_as_before(&r);
    }
}

#[test]
fn blocks_errors_scans_and_terminals_behind_proxies_are_written_as_before() {
    // A terminal behind its tenant's own proxy (IPv4 and IPv6), a user, each action.
    let behind = client("10.0.0.1", "10.1.2.3", Some("aoba"), Some("yamada"));
    let behind6 = client("::1", "fe80::1", Some("aoba"), None);
    let categories = ["gambling".to_string()];
    for c in [&behind, &behind6] {
        for (action, status) in [("allowed", 200), ("blocked", 403), ("bypassed", 200), ("error", 400)] {
            let mut r = record(c, "http://casino.example/?q=\"1\"&x=\\", "casino.example");
            r.action = action;
            r.status = status;
            assert_same_as_before(&r);
            r.rule = Some(("gambling", "category"));
            r.categories = &categories;
            assert_same_as_before(&r);
            r.scan = Some("infected: Eicar-Test-Signature");
            assert_same_as_before(&r);
            r.categories = &[];
            r.error = Some("request body larger than 10 bytes");
            assert_same_as_before(&r);
        }
    }
    // CONNECT names an authority, not a URL; the longest duration a request can have.
    let c = client("127.0.0.1", "127.0.0.1", None, None);
    let mut r = record(&c, "example.com:443", "example.com");
    r.method = "CONNECT";
    r.duration = Duration::from_secs(86_400 * 365);
    assert_same_as_before(&r);
}
