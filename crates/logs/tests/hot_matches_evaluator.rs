//! The hot tier and the archive scanner must find the same events for every query: this runs
//! a corpus of queries through both over the same events.

use std::collections::BTreeSet;

use jiff::Timestamp;
use mamori_logs::hot::HotStore;
use mamori_logs::hot::block::BlockBuilder;
use mamori_logs::hot::search::{HotQuery, search_partition};
use serde_json::{Value, json};

fn corpus() -> Vec<Value> {
    vec![
        json!({"@timestamp": "2026-11-21T01:00:00Z", "message": "sshd[123]: Failed password for root from 10.1.2.3 port 5050", "event": {"dataset": "syslog", "id": "a1"}, "organization": {"id": "midori"}, "source": {"ip": "10.1.2.3", "port": 5050}, "host": {"hostname": "web01"}, "process": {"name": "sshd", "pid": 123}, "log": {"syslog": {"severity": {"code": 4, "name": "warning"}}}}),
        json!({"@timestamp": "2026-11-21T02:00:00Z", "message": "ログイン失敗 ユーザー=taro", "event": {"dataset": "syslog", "id": "a2"}, "organization": {"id": "midori"}, "host": {"hostname": "web02"}, "tags": ["vpn", "remote"]}),
        json!({"@timestamp": "2026-11-21T03:00:00Z", "message": "GET http://example.jp/login 200", "event": {"dataset": "proxy.access", "action": "allowed"}, "organization": {"id": "aoba"}, "source": {"ip": "10.2.0.9"}, "destination": {"ip": "203.0.113.5", "port": 443}, "url": {"full": "http://example.jp/login", "path": "/login"}, "http": {"response": {"status_code": 200, "bytes": 5120}}}),
        json!({"@timestamp": "2026-11-21T04:00:00Z", "message": "blocked", "event": {"dataset": "firewall", "action": "denied"}, "organization": {"id": "aoba"}, "source": {"ip": "2001:db8::5"}, "destination": {"ip": "2001:db8:1::1", "port": "443"}, "network": {"transport": "tcp"}}),
        json!({"@timestamp": "2026-11-21T05:00:00Z", "message": "ＦＵＬＬ　ｗｉｄｔｈ ﾛｸﾞｲﾝ", "event": {"dataset": "syslog"}, "organization": {"id": "midori"}, "error": {"message": "parse failed at byte 3"}, "tags": ["_parse_failure"]}),
        json!({"@timestamp": "2026-11-21T06:00:00Z", "message": "numbers", "event": {"dataset": "app", "severity": 3}, "organization": {"id": "midori"}, "metric": {"ratio": 1.5, "big": 9007199254740993u64, "neg": -42, "flag": true, "text_num": "0443", "str_num": "2000"}}),
        json!({"@timestamp": "2026-11-21T07:00:00Z", "message": "dotted keys", "event": {"dataset": "app"}, "organization": {"id": "midori"}, "source.ip": "10.1.9.9", "user.name": "Taro Yamada", "labels": {"env": "prod"}}),
        json!({"@timestamp": "2026-11-21T08:00:00Z", "message": "bad ip", "event": {"dataset": "app"}, "organization": {"id": "unassigned"}, "source": {"ip": "not-an-ip"}, "client": {"ip": "::ffff:192.0.2.7"}}),
        json!({"@timestamp": "2026-11-21T09:00:00Z", "message": "array of objects", "event": {"dataset": "dns", "created": "2026-11-21T08:59:59Z"}, "organization": {"id": "aoba"}, "dns": {"answers": [{"type": "A", "data": "192.0.2.1"}, {"type": "AAAA", "data": "2001:db8::1"}]}, "related": {"ip": ["192.0.2.1", "2001:db8::1"]}}),
        json!({"@timestamp": "2026-11-21T10:00:00Z", "message": "失敗しました 失", "event": {"dataset": "syslog"}, "organization": {"id": "midori"}, "url": {"path": "/admin/a*b"}, "file": {"path": "C:\\Windows\\System32"}}),
    ]
}

const QUERIES: &[&str] = &[
    "*",
    "",
    "failed",
    "FAILED",
    "\"failed password\"",
    "\"password failed\"",
    "ログイン",
    "失敗",
    "失",
    "ﾛｸﾞｲﾝ",
    "full",
    "width",
    "ユーザー",
    "message:root",
    "error.message:parse",
    "message:parse",
    "fail*",
    "message:pass*",
    "*ord",
    "event.dataset:syslog",
    "event.dataset:sys*",
    "event.dataset:proxy.access",
    "organization.id:aoba",
    "NOT organization.id:midori",
    "-organization.id:midori AND event.dataset:firewall",
    "host.hostname:web01",
    "host.hostname:web0?",
    "host.hostname:WEB01",
    "source.ip:10.1.2.3",
    "source.ip:10.1.0.0/16",
    "source.ip:10.0.0.0/8",
    "source.ip:2001:db8::/32",
    "source.ip:\"2001:db8::5\"",
    "source.ip:10.1.*",
    "source.ip:not*",
    "source.ip:[10.1.0.0 TO 10.1.255.255]",
    "source.ip:[10.2.0.0 TO 2001:db8::6]",
    "source.ip:>10.1.5.0",
    "source.ip:<2001:db8::1",
    "client.ip:192.0.2.7",
    "related.ip:192.0.2.0/24",
    "related.ip:2001:db8::1",
    "destination.port:443",
    "destination.port:\"443\"",
    "destination.port:>400",
    "destination.port:[400 TO 500]",
    "destination.port:{443 TO 500]",
    "source.port:5050",
    "process.pid:123",
    "process.pid:>=123",
    "process.pid:<123",
    "http.response.bytes:>5000",
    "http.response.bytes:[5120 TO 5120]",
    "http.response.status_code:200",
    "metric.ratio:1.5",
    "metric.ratio:>1",
    "metric.ratio:<1.5",
    "metric.ratio:<=1.5",
    "metric.big:9007199254740993",
    "metric.big:9007199254740992",
    "metric.big:>9007199254740992",
    "metric.neg:-42",
    "metric.neg:<0",
    "metric.flag:true",
    "metric.flag:false",
    "metric.text_num:0443",
    "metric.text_num:443",
    "metric.text_num:>400",
    "metric.str_num:>1999",
    "metric.str_num:2000",
    "metric.str_num:\"2000\"",
    "event.severity:3",
    "event.severity:[1 TO 3}",
    "user.name:\"Taro Yamada\"",
    "user.name:Taro*",
    "labels.env:prod",
    "tags:vpn",
    "tags:(vpn remote)",
    "tags:(vpn OR nothing)",
    "tags:_parse_failure",
    "dns.answers.type:AAAA",
    "dns.answers.data:192.0.2.1",
    "_exists_:source.ip",
    "source.ip:*",
    "_exists_:source",
    "_exists_:message",
    "_exists_:error.message",
    "_exists_:error",
    "_exists_:dns.answers",
    "_exists_:metric",
    "_exists_:event.created",
    "_exists_:tags",
    "_exists_:nonexistent",
    "@timestamp:>2026-11-21T05:00:00Z",
    "@timestamp:[2026-11-21T02:00:00Z TO 2026-11-21T04:00:00Z]",
    "@timestamp:{2026-11-21T02:00:00Z TO 2026-11-21T04:00:00Z}",
    "@timestamp:2026-11-21",
    "@timestamp:2026-11-20",
    "event.created:<2026-11-21T09:00:00Z",
    "url.full:http\\://example.jp/login",
    "url.full:*login*",
    "url.path:\\/login",
    "url.path:\"/admin/a*b\"",
    "url.path:*a\\*b",
    "file.path:\"C:\\Windows\\System32\"",
    "network.transport:tcp OR event.action:allowed",
    "(failed OR ログイン) AND organization.id:midori",
    "failed ログイン",
    "NOT failed",
    "NOT *",
    "event.action:(denied OR allowed) -source.ip:10.0.0.0/8",
    "url.path:[/a TO /m]",
    "host.hostname:>web01",
    "host.hostname:[* TO web01]",
    "organization.id:[aoba TO midori}",
    "event.dataset:>proxy",
];

#[test]
fn hot_index_and_evaluator_agree() {
    let dir = tempfile::tempdir().unwrap();
    let hot = HotStore::open(dir.path()).unwrap();
    let events = corpus();
    let day = "2026-11-21".parse().unwrap();
    let partition = hot.get_or_create(day).unwrap();
    let mut builder = BlockBuilder::new();
    for (i, e) in events.iter().enumerate() {
        builder.add(i as u64 + 1, &serde_json::to_vec(e).unwrap()).unwrap();
    }
    partition.append(&mut builder, events.len() as u64).unwrap();

    let now: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
    let from: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
    let mut failures = Vec::new();
    for q in QUERIES {
        let query = match mamori_query::parse(q, now) {
            Ok(q) => q,
            Err(e) => panic!("{q}: {e}"),
        };
        let expected: BTreeSet<usize> =
            events.iter().enumerate().filter(|(_, e)| mamori_query::matches(&query, e)).map(|(i, _)| i).collect();
        let t = HotQuery::new(&query, None, from, now);
        let hits = search_partition(&partition, &t, 100, true, &[]).unwrap_or_else(|e| panic!("{q}: {e}"));
        let got: BTreeSet<usize> = hits
            .events
            .iter()
            .map(|(_, v)| events.iter().position(|e| e == v).expect("a stored event comes back unchanged"))
            .collect();
        if got != expected {
            failures.push(format!("{q}: index {got:?}, evaluator {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} queries disagree:\n{}", failures.len(), QUERIES.len(), failures.join("\n"));
}

/// The same corpus through the archive scanner, after the day left the hot tier.
#[test]
fn archive_scan_and_evaluator_agree() {
    use mamori_logs::{LogStore, LogStoreConfig, SearchRequest, TenantScope};
    let dir = tempfile::tempdir().unwrap();
    let mut config = LogStoreConfig::new(dir.path());
    config.min_free_bytes = 0;
    config.indexer.commit_interval = std::time::Duration::from_millis(50);
    let (store, _) = LogStore::open(config).unwrap();
    let events: Vec<mamori_core::Event> =
        corpus().into_iter().map(|v| mamori_core::Event::from_json_value(v).unwrap()).collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let receipt = rt.block_on(store.sink().submit(&events)).unwrap();
    assert!(store.wait_indexed(receipt.last_lsn, std::time::Duration::from_secs(30)));
    let later: Timestamp = "2027-06-01T00:00:00Z".parse().unwrap();
    let report = store.run_maintenance(later).unwrap();
    assert_eq!(report.hot_partitions_removed, vec!["2026-11-21".to_string()]);

    let now: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
    let from: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
    let search = |q: &str| {
        let req = SearchRequest {
            query: mamori_query::parse(q, now).unwrap(),
            from,
            to: now,
            tenants: TenantScope::All,
            limit: 100,
            oldest_first: true,
            aggregations: vec![],
        };
        store.search(&req).unwrap()
    };
    let stored = search("*").events;
    assert_eq!(stored.len(), corpus().len());
    let mut failures = Vec::new();
    for q in QUERIES {
        let query = mamori_query::parse(q, now).unwrap();
        let expected: Vec<&serde_json::Value> = stored.iter().filter(|e| mamori_query::matches(&query, e)).collect();
        let got = search(q);
        assert!(got.cold_segments > 0 || got.total == 0);
        if got.events.iter().collect::<Vec<_>>() != expected {
            failures.push(format!("{q}: archive {} events, evaluator {}", got.events.len(), expected.len()));
        }
    }
    assert!(failures.is_empty(), "{} of {} queries disagree:\n{}", failures.len(), QUERIES.len(), failures.join("\n"));
}

/// Terms aggregations over the index columns count what the archive scanner counts.
#[test]
fn terms_aggregations_agree() {
    use mamori_query::{AggPartial, Aggregation};
    let dir = tempfile::tempdir().unwrap();
    let hot = HotStore::open(dir.path()).unwrap();
    let events = corpus();
    let partition = hot.get_or_create("2026-11-21".parse().unwrap()).unwrap();
    let mut builder = BlockBuilder::new();
    for (i, e) in events.iter().enumerate() {
        builder.add(i as u64 + 1, &serde_json::to_vec(e).unwrap()).unwrap();
    }
    partition.append(&mut builder, events.len() as u64).unwrap();
    let now: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
    let from: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
    let fields = [
        "organization.id",
        "event.dataset",
        "source.ip",
        "destination.ip",
        "client.ip",
        "destination.port",
        "tags",
        "metric.ratio",
        "metric.big",
        "metric.neg",
        "metric.flag",
        "metric.text_num",
        "user.name",
        "dns.answers.type",
        "related.ip",
        "host.hostname",
        "event.severity",
        "nonexistent",
    ];
    let aggs: Vec<Aggregation> =
        fields.iter().map(|f| Aggregation::Terms { field: f.to_string(), size: 100 }).collect();
    let query = mamori_query::parse("*", now).unwrap();
    let t = HotQuery::new(&query, None, from, now);
    let hits = search_partition(&partition, &t, 1, true, &aggs).unwrap();
    let mut acc = mamori_query::Accumulator::new(&aggs);
    for e in &events {
        acc.add(e);
    }
    for ((field, hot_p), cold_p) in fields.iter().zip(hits.partials).zip(acc.partials()) {
        match (&hot_p, cold_p) {
            (AggPartial::Terms(h), AggPartial::Terms(c)) => {
                assert_eq!(h.counts, c.counts, "{field}");
                assert_eq!(h.missing, c.missing, "{field}");
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}
