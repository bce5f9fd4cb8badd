//! The written records against the `Event` the query log was built as before it wrote JSON
//! itself (kept here as the reference), for names and texts that need escaping.

use std::net::SocketAddr;
use std::str::FromStr;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, TXT};
use hickory_proto::rr::{Name, RData, Record};
use jiff::Timestamp;
use mamori_core::event::{Endpoint, Event};
use serde_json::{Value, json};

use super::*;
use crate::rpz::{Action, Hit, Rule, Trigger};

/// The event as `events::query_event` built it before the query log wrote its records itself.
fn previous_form(q: &QueryRecord<'_>, records: &[Record], now: Timestamp, id: &str) -> Event {
    let mut event = Event::new(now, "dns.query");
    event.event.id = Some(id.to_string());
    event.event.ingested = Some(now);
    event.event.created = Some(now);
    event.organization.id = Some(q.tenant.unwrap_or(mamori_core::event::UNASSIGNED).to_string());
    event.source = Some(Endpoint {
        ip: Some(crate::server::unmap(q.client.ip())),
        port: Some(q.client.port()),
        ..Default::default()
    });
    let answers: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "name": r.name.to_ascii(),
                "type": r.record_type().to_string(),
                "class": r.dns_class.to_string(),
                "ttl": r.ttl,
                "data": r.data.to_string(),
            })
        })
        .collect();
    let resolved: Vec<String> = records.iter().filter_map(crate::rpz::record_ip).map(|ip| ip.to_string()).collect();
    let blocked = q.rpz.is_some_and(|h| h.action.as_ref().is_some_and(|a| !matches!(a, Action::Passthru)));
    let refused = q.rcode == "REFUSED" || q.kind == "malformed";
    let e = &mut event.event;
    e.category = vec!["network".into()];
    e.type_ = vec!["protocol".into(), if refused || blocked { "denied".into() } else { "allowed".into() }];
    e.module = Some("dns".into());
    e.action = Some(
        if blocked {
            "blocked"
        } else if refused {
            "refused"
        } else {
            "answered"
        }
        .into(),
    );
    e.outcome = Some(if q.rcode == "SERVFAIL" || refused { "failure" } else { "success" }.into());
    e.extra.insert("duration".into(), json!(q.duration_ns));
    if let Some(reason) = &q.reason {
        e.extra.insert("reason".into(), json!(reason));
    }
    let flags: Vec<&str> = q.flags.names().collect();
    let mut dns = json!({
        "id": q.id,
        "type": "answer",
        "question": { "name": q.qname, "type": q.qtype, "class": q.qclass },
        "response_code": q.rcode,
        "header_flags": flags,
        "answers": answers,
    });
    if !resolved.is_empty() {
        dns["resolved_ip"] = json!(resolved);
    }
    let x = &mut event.extra;
    x.insert("dns".into(), dns);
    x.insert("network".into(), json!({ "transport": q.transport, "protocol": "dns" }));
    let mut mamori = json!({ "kind": q.kind, "cache_hit": q.from_cache, "upstream_queries": q.upstream_queries });
    if let Some(hit) = q.rpz {
        mamori["rpz"] = json!({
            "zone": hit.zone.to_ascii(),
            "trigger": hit.rule.trigger.kind(),
            "rule": hit.rule.owner.to_ascii(),
            "action": hit.action.as_ref().map_or("disabled", |a| a.name()),
        });
        x.insert(
            "rule".into(),
            json!({ "id": hit.rule.owner.to_ascii(), "ruleset": hit.zone.to_ascii(), "category": "rpz" }),
        );
    }
    x.insert("mamori".into(), json!({ "dns": mamori }));
    event
}

/// Writes `q`'s record and checks it against the previous form, field for field.
fn assert_same_as_before(q: &QueryRecord<'_>, records: &[Record]) {
    let now = Timestamp::now();
    let mut out = Vec::new();
    write_query_event(q, AnswerLog::of(records).view(), now, &mut out);
    let written: Value =
        serde_json::from_slice(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out)));
    let id = written["event"]["id"].as_str().expect("an event id");
    let expected = serde_json::to_value(previous_form(q, records, now, id)).unwrap();
    assert_eq!(written, expected);
    // What the log store and its readers decode gives the same record back.
    let decoded: Event = serde_json::from_slice(&out).expect("a valid Event");
    assert_eq!(serde_json::to_value(decoded).unwrap(), written);
}

fn record<'a>(qname: &'a str, tenant: Option<&'a str>) -> QueryRecord<'a> {
    QueryRecord {
        client: SocketAddr::from_str("192.0.2.7:53000").unwrap(),
        transport: "udp",
        tenant,
        id: 4711,
        qname,
        qtype: "A",
        qclass: "IN",
        rcode: "NOERROR",
        kind: "authoritative",
        flags: HeaderFlags { recursion_desired: true, authoritative: true, ..HeaderFlags::default() },
        rpz: None,
        from_cache: false,
        upstream_queries: 0,
        duration_ns: 12_345,
        reason: None,
    }
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

#[test]
fn a_plain_cached_answer_is_written_as_before() {
    let owner = name("www.city.midori.example.jp.");
    let answers = [
        Record::from_rdata(owner.clone(), 3600, RData::A(A::new(192, 0, 2, 80))),
        Record::from_rdata(owner, 3600, RData::AAAA(AAAA::from_str("2001:db8::80").unwrap())),
    ];
    assert_same_as_before(&record("www.city.midori.example.jp.", Some("midori")), &answers);
    assert_same_as_before(&record("www.city.midori.example.jp.", None), &[]);
}

#[test]
fn names_and_texts_that_need_escaping_are_written_as_before() {
    // Names as hickory writes them (escaped bytes) and as the text of TXT records.
    let tricky = ["quo\"te.example.", "back\\\\slash.example.", "tab\\009.example.", "\\000nul.example."];
    let texts = ["say \"hi\"", "C:\\path", "みどり市", "bell\u{7}ctl\u{1f}", "del\u{7f}", "nl\nline"];
    for qname in tricky {
        let owner = Name::from_ascii(qname).unwrap_or_else(|_| name("fallback.example."));
        let answers: Vec<Record> = texts
            .iter()
            .map(|t| Record::from_rdata(owner.clone(), 60, RData::TXT(TXT::new(vec![t.to_string()]))))
            .chain([Record::from_rdata(owner.clone(), 60, RData::CNAME(CNAME(name("target.example."))))])
            .collect();
        let mut q = record(qname, Some("みどり\"市\\"));
        q.qtype = "TXT";
        assert_same_as_before(&q, &answers);
        // The text as a client sent it (not as hickory escapes it), and a reason with controls.
        let mut q = record("raw\"\\\u{1}é.example.", Some("midori"));
        q.rcode = "REFUSED";
        q.kind = "refused";
        q.reason = Some("bad \"name\"\n\t\\ \u{0}");
        assert_same_as_before(&q, &answers);
    }
}

#[test]
fn policy_hits_refusals_and_failures_are_written_as_before() {
    let rule = |action| Rule {
        trigger: Trigger::Qname(name("blocked.example.")),
        owner: name("blocked.example.rpz.example."),
        action,
    };
    let hit = |action: Option<Action>| Hit {
        zone: name("rpz.example."),
        rule: rule(action.clone().unwrap_or(Action::NxDomain)),
        action,
        alert: true,
        soa: None,
        signal_nxdomain_ra: false,
    };
    for action in [Some(Action::NxDomain), Some(Action::Passthru), Some(Action::Drop), None] {
        let hit = hit(action);
        let mut q = record("blocked.example.", Some("midori"));
        q.kind = "recursive";
        q.rpz = Some(&hit);
        q.rcode = "NXDOMAIN";
        q.from_cache = true;
        q.upstream_queries = 3;
        q.flags = HeaderFlags { recursion_desired: true, recursion_available: true, ..HeaderFlags::default() };
        assert_same_as_before(&q, &[]);
    }
    for (rcode, kind) in [("SERVFAIL", "recursive"), ("FORMERR", "malformed"), ("DROPPED", "recursive")] {
        let mut q = record("", None);
        q.rcode = rcode;
        q.kind = kind;
        q.qtype = "";
        q.qclass = "";
        q.transport = "tcp";
        q.client = SocketAddr::from_str("[::ffff:192.0.2.9]:5353").unwrap();
        q.flags = HeaderFlags { truncated: true, ..HeaderFlags::default() };
        assert_same_as_before(&q, &[]);
    }
    let mut q = record("v6.example.", None);
    q.client = SocketAddr::from_str("[2001:db8::1]:1053").unwrap();
    assert_same_as_before(&q, &[]);
}

#[test]
fn a_batch_holds_one_record_per_query() {
    let mut batch = QueryLogBatch::new();
    assert!(batch.is_empty());
    let q = record("www.example.", Some("midori"));
    for _ in 0..3 {
        batch.push(&q, AnswerLog::none().view(), Timestamp::now());
    }
    let records = batch.take();
    assert!(batch.is_empty());
    assert_eq!(records.len(), 3);
    let ids: std::collections::HashSet<Value> =
        records.decode().unwrap().into_iter().map(|e| json!(e.event.id)).collect();
    assert_eq!(ids.len(), 3, "every event has its own id");
}

#[test]
fn a_batch_falls_due_a_hold_after_its_first_record() {
    use std::time::Instant;
    let mut batch = QueryLogBatch::new();
    assert_eq!(batch.due(), None, "nothing to hand over");
    let q = record("www.example.", Some("midori"));
    let before = Instant::now();
    batch.push(&q, AnswerLog::none().view(), Timestamp::now());
    let due = batch.due().expect("due once it holds a record");
    assert!(due >= before + HOLD && due <= Instant::now() + HOLD);
    batch.push(&q, AnswerLog::none().view(), Timestamp::now());
    assert_eq!(batch.due(), Some(due), "later records do not put it off");
    batch.take();
    assert_eq!(batch.due(), None);
}
