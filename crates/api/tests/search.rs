//! Search and ingestion over a real log store in a temporary directory: tenant isolation
//! through every parameter, filter and aggregation, query errors, and a full disk.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use mamori_api::ApiSettings;
use mamori_logs::{LogStore, LogStoreConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const NDJSON: &str = "application/x-ndjson";

struct Fixture {
    server: Server,
    _logs: Arc<LogStore>,
    _dir: tempfile::TempDir,
}

/// A server over a real log store holding 3 events of tenant a and 2 of tenant b, ingested
/// through tenant-bound tokens and indexed.
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LogStoreConfig::new(dir.path().join("logs"));
    config.min_free_bytes = 0;
    let (logs, _) = LogStore::open(config).expect("log store");
    let server = start_with(ApiSettings::default(), logs.clone()).await;
    let now = jiff::Timestamp::now();
    let at = |mins: i64| now.checked_sub(jiff::SignedDuration::from_mins(mins)).unwrap().to_string();
    let a_lines = [
        json!({"@timestamp": at(30), "message": "ログイン失敗 user=taro", "event": {"id": "evt-a-1", "dataset": "auth"}, "source": {"ip": "10.1.0.5"}}),
        json!({"@timestamp": at(20), "message": "login ok", "event": {"id": "evt-a-2", "dataset": "auth"}}),
        json!({"@timestamp": at(10), "message": "proxy access", "event": {"id": "evt-a-3", "dataset": "proxy.access"}}),
    ];
    let b_lines = [
        json!({"@timestamp": at(25), "message": "secret-b ログイン失敗", "event": {"id": "evt-b-1", "dataset": "auth"}, "organization": {"id": "b"}}),
        json!({"@timestamp": at(15), "message": "secret-b again", "event": {"id": "evt-b-2", "dataset": "auth"}}),
    ];
    let mut last = 0;
    for (tenant, lines) in [("a", &a_lines[..]), ("b", &b_lines[..])] {
        let token =
            server.token(json!({"name": format!("{tenant} shipper"), "kind": "ingest", "tenant": tenant})).await;
        let body = lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
        let r = server.with_token(&token).post_raw("/api/v1/ingest", NDJSON, body.into_bytes()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        last = r.json["last_lsn"].as_u64().unwrap();
    }
    assert!(logs.wait_indexed(last, Duration::from_secs(30)), "indexed in time");
    Fixture { server, _logs: logs, _dir: dir }
}

fn tenants_of(r: &Resp) -> Vec<String> {
    r.json["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|e| e["organization"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_municipal_admin_never_sees_another_tenants_events() {
    let f = fixture().await;
    let muni = f.server.login("muni_a").await;
    let search = |body: Value| {
        let muni = muni.clone();
        async move { muni.post("/api/v1/search", body).await }
    };

    let r = search(json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["total"], 3);
    assert_eq!(tenants_of(&r), ["a", "a", "a"]);
    assert_eq!(r.json["tenants"], json!(["a"]));

    for query in [
        "organization.id:b",
        "secret-b",
        "event.id:evt-b-1",
        "event.id:evt-b-*",
        "NOT organization.id:a",
        "organization.id:(b OR c)",
    ] {
        let r = search(json!({"query": query})).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        assert_eq!(r.json["total"], 0, "{query}: {}", r.text);
        assert!(!r.json["events"].to_string().contains("secret-b"), "{query}");
    }
    let r = search(json!({"query": "organization.id:a OR organization.id:b"})).await;
    assert_eq!(r.json["total"], 3);
    let r = search(json!({"query": "ログイン失敗"})).await;
    assert_eq!(r.json["total"], 1, "only a's own failed login");

    for tenants in [json!(["b"]), json!(["a", "b"]), json!(["unassigned"])] {
        let r = search(json!({"tenants": tenants})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{tenants}");
        assert!(!r.text.contains("secret-b"));
    }
    let r = muni.get("/api/v1/search?q=&tenants=b").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let aggs = json!([
        {"type": "count"},
        {"type": "terms", "field": "organization.id", "size": 10},
        {"type": "terms", "field": "event.id", "size": 10},
        {"type": "date_histogram", "interval": "5m"}
    ]);
    let r = search(json!({"aggregations": aggs, "limit": 0})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let a = &r.json["aggregations"];
    assert_eq!(a[0]["count"], 3);
    assert_eq!(a[1]["buckets"], json!([{"key": "a", "count": 3}]));
    assert_eq!(a[1]["other_count"], 0);
    let ids: Vec<&str> = a[2]["buckets"].as_array().unwrap().iter().map(|b| b["key"].as_str().unwrap()).collect();
    assert_eq!(ids, ["evt-a-1", "evt-a-2", "evt-a-3"]);
    let histogram: u64 = a[3]["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(histogram, 3);
    assert!(!r.text.contains("secret-b"), "{}", r.text);
    assert!(r.json["events"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn all_tenant_roles_see_everything_and_can_narrow() {
    let f = fixture().await;
    let soc = f.server.login("soc").await;
    let r = soc.post("/api/v1/search", json!({"order": "oldest"})).await;
    assert_eq!(r.json["total"], 5);
    let times: Vec<&str> =
        r.json["events"].as_array().unwrap().iter().map(|e| e["@timestamp"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    let r = soc.post("/api/v1/search", json!({"tenants": ["b"]})).await;
    assert_eq!(tenants_of(&r), ["b", "b"]);
    let r = soc.get("/api/v1/search?q=event.dataset:auth&from=now-1h&limit=2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["total"], 4);
    assert_eq!(r.json["events"].as_array().unwrap().len(), 2);
    assert_eq!(r.json["query"], "event.dataset:auth");
    let r = soc.get("/api/v1/search?from=now-5m").await;
    assert_eq!(r.json["total"], 0, "outside the time range");
    let status = soc.get("/api/v1/status").await;
    assert!(status.json["logs"]["indexed_lsn"].as_u64().unwrap() >= 5, "{}", status.text);
}

#[tokio::test]
async fn bad_search_input_names_the_field() {
    let f = fixture().await;
    let soc = f.server.login("soc").await;
    let r = soc.post("/api/v1/search", json!({"query": "source.ip:10.1.0.0/33"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["field"], "query");
    assert_eq!(r.json["position"], 10);
    let cases = [
        (json!({"from": "yesterday"}), "from"),
        (json!({"to": "2026-13-45"}), "to"),
        (json!({"from": "now", "to": "now-1h"}), "from"),
        (json!({"limit": 20000}), "limit"),
        (json!({"order": "sideways"}), "order"),
        (json!({"aggregations": [{"type": "date_histogram", "interval": "0s"}]}), "aggregations[0]"),
        (json!({"qeury": "x"}), "qeury"),
    ];
    for (body, field) in cases {
        let r = soc.post("/api/v1/search", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert!(r.json["field"].as_str().unwrap_or("").starts_with(field), "{body}: {}", r.text);
    }
    let r = soc.post("/api/v1/search", json!({"aggregations": [{"type": "terms", "field": "message"}]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json["error"].as_str().unwrap().contains("full text"), "{}", r.text);
    let r = soc.get("/api/v1/search?limit=many").await;
    assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("limit")));
}

#[tokio::test]
async fn ingest_tokens_cannot_search_and_a_full_disk_is_507() {
    let f = fixture().await;
    let token = f.server.token(json!({"name": "t", "kind": "ingest", "tenant": "a"})).await;
    let r = f.server.with_token(&token).post("/api/v1/search", json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let dir = tempfile::tempdir().unwrap();
    let mut config = LogStoreConfig::new(dir.path().join("logs"));
    config.min_free_bytes = u64::MAX;
    let (logs, _) = LogStore::open(config).expect("log store");
    let s = start_with(ApiSettings::default(), logs).await;
    let token = s.token(json!({"name": "t", "kind": "ingest", "tenant": "a"})).await;
    let r = s.with_token(&token).post_raw("/api/v1/ingest", NDJSON, br#"{"message":"x"}"#.to_vec()).await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.text);
    assert!(r.headers.contains_key("retry-after"));
}
