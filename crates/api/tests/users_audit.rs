//! User administration and the audit log's tenant scoping.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_audit_log_is_scoped_like_everything_else() {
    let s = start().await;
    let admin = s.login("admin").await;
    admin.post("/api/v1/tenants", json!({"tenant": tenant("c", "10.3.0.0/16"), "reason": "x"})).await;
    let a = s.login("muni_a").await;
    a.send(Method::PATCH, "/api/v1/tenants/a/contacts", Some(json!({"contacts": [], "reason": "a"}))).await;
    let b = s.login("muni_b").await;
    b.send(Method::PATCH, "/api/v1/tenants/b/contacts", Some(json!({"contacts": [], "reason": "b"}))).await;

    let mine = a.get("/api/v1/audit").await;
    assert_eq!(mine.status, StatusCode::OK);
    let entries = mine.json["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e["tenant"] == "a"), "{}", mine.text);
    assert!(entries.iter().any(|e| e["action"] == "tenant.contacts"));

    let all = s.login("auditor").await.get("/api/v1/audit?limit=1000").await;
    let actions: Vec<&str> =
        all.json["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["login", "tenant.create", "tenant.contacts"] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    let r = admin.get("/api/v1/audit?actor=muni_b&action=tenant.contacts&since=now-1h").await;
    assert_eq!(r.json["entries"].as_array().unwrap().len(), 1);
    assert_eq!(admin.get("/api/v1/audit?since=yesterday").await.json["field"], "since");
    assert_eq!(admin.get("/api/v1/audit?limit=x").await.json["field"], "limit");
}

#[tokio::test]
async fn user_administration() {
    let s = start().await;
    let admin = s.login("admin").await;
    let new = |name: &str, role: &str, tenants: Value, pw: &str| json!({"username": name, "role": role, "tenants": tenants, "password": pw});
    let r = admin.post("/api/v1/users", new("hanako", "municipal_admin", json!(["a"]), PASSWORD)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(!r.text.contains("argon2") && !r.text.contains(PASSWORD));
    let id = r.json["user"]["id"].as_str().unwrap().to_owned();
    let cases = [
        (new("hanako", "auditor", json!([]), PASSWORD), StatusCode::CONFLICT, "username"),
        (new("x", "municipal_admin", json!(["zz"]), PASSWORD), StatusCode::BAD_REQUEST, "tenants[0]"),
        (new("x", "municipal_admin", json!([]), PASSWORD), StatusCode::BAD_REQUEST, "tenants"),
        (new("x", "admin", json!([]), PASSWORD), StatusCode::BAD_REQUEST, "role"),
        (new("x", "auditor", json!([]), "short"), StatusCode::BAD_REQUEST, "password"),
        (new("a b", "auditor", json!([]), PASSWORD), StatusCode::BAD_REQUEST, "username"),
    ];
    for (body, status, field) in cases {
        let r = admin.post("/api/v1/users", body).await;
        assert_eq!((r.status, r.json["field"].as_str()), (status, Some(field)), "{}", r.text);
    }
    let hanako = s.login("hanako").await;
    assert_eq!(ids(&hanako.get("/api/v1/tenants").await.json["tenants"]), ["a"]);
    let r = admin.send(Method::PATCH, &format!("/api/v1/users/{id}"), Some(json!({"tenants": ["b"]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(hanako.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "sessions end on a change");

    assert_eq!(s.login("auditor").await.get("/api/v1/users").await.status, StatusCode::OK);
    assert_eq!(s.login("soc").await.get("/api/v1/users").await.status, StatusCode::FORBIDDEN);
    let me = s.user_id("admin");
    let r = admin.send(Method::PATCH, &format!("/api/v1/users/{me}"), Some(json!({"role": "auditor"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the last prefecture_admin stays");
    let r = admin.send(Method::PATCH, "/api/v1/users/nosuch", Some(json!({"disabled": true}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
