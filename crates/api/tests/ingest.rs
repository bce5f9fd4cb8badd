//! `POST /api/v1/ingest` against a real server with an in-memory sink that can also refuse
//! like a full or failing disk.

mod common;

use std::sync::Arc;

use common::*;
use mamori_api::ApiSettings;
use mamori_core::SubmitError;
use reqwest::StatusCode;
use serde_json::json;

const NDJSON: &str = "application/x-ndjson";

fn body(lines: &[&str]) -> Vec<u8> {
    lines.join("\n").into_bytes()
}

async fn server(settings: ApiSettings) -> (Server, Arc<TestLogs>) {
    let logs = TestLogs::new();
    let s = start_with(settings, Arc::new(TestBackend(logs.clone()))).await;
    (s, logs)
}

#[tokio::test]
async fn a_tenant_token_stamps_its_tenant_on_every_event() {
    let (s, logs) = server(ApiSettings::default()).await;
    let token = s.token(json!({"name": "a shipper", "kind": "ingest", "tenant": "a"})).await;
    let r = s
        .with_token(&token)
        .post_raw(
            "/api/v1/ingest",
            NDJSON,
            body(&[
                r#"{"message":"claims b","organization":{"id":"b"}}"#,
                "this is not json",
                r#"{"message":"no tenant","source.ip":"10.2.0.1"}"#,
                "",
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["accepted"], 3);
    assert_eq!(r.json["rejected_lines"][0]["line"], 2);
    assert!(r.json["last_lsn"].is_u64());
    let stored = logs.events.lock().unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|e| e.tenant() == "a"), "a tenant token cannot write into b");
}

#[tokio::test]
async fn without_a_forced_tenant_events_are_attributed_by_name_then_address() {
    let (s, logs) = server(ApiSettings::default()).await;
    let token = s.token(json!({"name": "relay", "kind": "ingest"})).await;
    let r = s
        .with_token(&token)
        .post_raw(
            "/api/v1/ingest",
            "application/json; charset=utf-8",
            body(&[
                r#"{"message":"known","organization":{"id":"a"}}"#,
                r#"{"message":"unknown","organization":{"id":"zz"}}"#,
                r#"{"message":"none"}"#,
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let tenants: Vec<String> = logs.events.lock().unwrap().iter().map(|e| e.tenant().to_owned()).collect();
    // 127.0.0.1 is a registered log sender for b.
    assert_eq!(tenants, ["a", "b", "b"]);
}

#[tokio::test]
async fn only_ingest_tokens_and_prefecture_admins_may_ingest() {
    let (s, logs) = server(ApiSettings::default()).await;
    let line = body(&[r#"{"message":"x"}"#]);
    for user in ["soc", "auditor", "muni_a"] {
        let r = s.login(user).await.post_raw("/api/v1/ingest", NDJSON, line.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
    }
    assert_eq!(s.anonymous().post_raw("/api/v1/ingest", NDJSON, line.clone()).await.status, StatusCode::UNAUTHORIZED);
    let admin = s.login("admin").await;
    let r = admin.without_csrf().post_raw("/api/v1/ingest", NDJSON, line.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a console session needs the CSRF token");
    let r = admin.post_raw("/api/v1/ingest", NDJSON, line).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(logs.events.lock().unwrap().len(), 1);
    let audit = admin.get("/api/v1/audit?action=ingest").await;
    assert_eq!(audit.json["entries"][0]["actor"], "admin");
    assert_eq!(audit.json["entries"][0]["detail"]["accepted"], 1);
}

#[tokio::test]
async fn a_full_disk_is_507_and_other_store_failures_503_with_retry_after() {
    let (s, logs) = server(ApiSettings::default()).await;
    let token = s.token(json!({"name": "a", "kind": "ingest", "tenant": "a"})).await;
    let c = s.with_token(&token);
    let line = body(&[r#"{"message":"x"}"#]);
    for (error, status) in [
        (SubmitError::StorageFull("below the reserve".into()), StatusCode::INSUFFICIENT_STORAGE),
        (SubmitError::Storage("EIO".into()), StatusCode::SERVICE_UNAVAILABLE),
        (SubmitError::Closed, StatusCode::SERVICE_UNAVAILABLE),
    ] {
        *logs.mode.lock().unwrap() = SinkMode::Fail(error);
        let r = c.post_raw("/api/v1/ingest", NDJSON, line.clone()).await;
        assert_eq!(r.status, status, "{}", r.text);
        assert!(r.headers.contains_key("retry-after"));
        assert!(r.json["error"].as_str().unwrap().contains("retry"));
        assert!(!r.text.contains("EIO"), "internal details stay in the log");
    }
    assert!(logs.events.lock().unwrap().is_empty());
    let metrics = s.login("soc").await.get("/metrics").await;
    assert!(metrics.text.contains(r#"mamori_api_ingest_refused_total{reason="storage_full"}"#), "{}", metrics.text);
}

#[tokio::test]
async fn oversized_bodies_are_413_and_other_types_415() {
    let settings = ApiSettings { max_body_bytes: 1024, max_json_bytes: 2048, ..ApiSettings::default() };
    let (s, logs) = server(settings).await;
    let token = s.token(json!({"name": "a", "kind": "ingest", "tenant": "a"})).await;
    let c = s.with_token(&token);
    let line = format!(r#"{{"message":"{}"}}"#, "x".repeat(100));
    let big = vec![line.as_str(); 20].join("\n").into_bytes();
    let r = c.post_raw("/api/v1/ingest", NDJSON, big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.json["error"].is_string(), "{}", r.text);
    assert!(logs.events.lock().unwrap().is_empty());

    let r = c.post_raw("/api/v1/ingest", "text/csv", body(&["a,b"])).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.json["field"], "Content-Type");

    let r = c.post_raw("/api/v1/ingest", NDJSON, Vec::new()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["accepted"], 0);

    // Every other endpoint has the small JSON limit.
    let huge = json!({"username": "admin", "password": "p".repeat(4096)});
    let r = s.anonymous().post("/api/v1/login", huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}
