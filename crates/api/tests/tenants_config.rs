//! Roles and tenant scoping on tenants, configuration and revisions;
//! configuration changes as revisions, refused changes, conflicts and rollback.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use mamori_api::ApiSettings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn municipal_admins_see_and_change_only_their_own_tenant() {
    let s = start().await;
    let muni = s.login("muni_a").await;
    let r = muni.get("/api/v1/tenants").await;
    assert_eq!(ids(&r.json["tenants"]), ["a"]);
    assert_eq!(muni.get("/api/v1/tenants/a").await.status, StatusCode::OK);

    // Another tenant looks exactly like one that does not exist.
    let other = muni.get("/api/v1/tenants/b").await;
    let missing = muni.get("/api/v1/tenants/zz").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.json["error"].as_str().unwrap().replace("'b'", "'zz'"), missing.json["error"].as_str().unwrap());
    let change = json!({"tenant": tenant("b", "10.2.0.0/16"), "reason": "x"});
    let contacts = json!({"contacts": [{"name": "総務課"}], "reason": "x"});
    for (method, path, body) in [
        (Method::PUT, "/api/v1/tenants/b", Some(change.clone())),
        (Method::DELETE, "/api/v1/tenants/b?reason=x", None),
        (Method::PATCH, "/api/v1/tenants/b/contacts", Some(contacts.clone())),
    ] {
        let r = muni.send(method.clone(), path, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.text);
    }
    let own = json!({"tenant": tenant("a", "10.1.0.0/16"), "reason": "x"});
    assert_eq!(muni.send(Method::PUT, "/api/v1/tenants/a", Some(own)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        muni.post("/api/v1/tenants", json!({"tenant": tenant("c", "10.3.0.0/16"), "reason": "x"})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(s.state.current().revision, Some(1), "nothing changed");

    let r = muni.send(Method::PATCH, "/api/v1/tenants/a/contacts", Some(contacts)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["revision"]["number"], 2);
    assert!(r.json["diff"].is_null(), "a municipality does not get the whole-config diff");
    assert_eq!(s.state.current().config.tenant("a").unwrap().contacts[0].name, "総務課");
}

#[tokio::test]
async fn read_only_roles_change_nothing() {
    let s = start().await;
    let contacts = json!({"contacts": [], "reason": "x"});
    for user in ["soc", "auditor"] {
        let c = s.login(user).await;
        assert_eq!(ids(&c.get("/api/v1/tenants").await.json["tenants"]), ["a", "b"]);
        let r = c.send(Method::PATCH, "/api/v1/tenants/a/contacts", Some(contacts.clone())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
        let r = c.post("/api/v1/tenants", json!({"tenant": tenant("c", "10.3.0.0/16"), "reason": "x"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
        let r = c.post("/api/v1/config/rollback", json!({"revision": 1, "reason": "x"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
        let r = c.post("/api/v1/users", json!({"username": "x", "role": "auditor", "password": PASSWORD})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
        assert_eq!(c.get("/api/v1/config").await.status, StatusCode::OK);
    }
    assert_eq!(s.state.current().revision, Some(1));
}

#[tokio::test]
async fn configuration_and_revisions_are_refused_to_municipal_admins() {
    let s = start().await;
    let muni = s.login("muni_a").await;
    for path in [
        "/api/v1/config",
        "/api/v1/config/revisions",
        "/api/v1/config/revisions/1",
        "/api/v1/config/diff?from=1&to=1",
        "/api/v1/users",
        "/api/v1/tokens",
    ] {
        let r = muni.get(path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!r.text.contains("10.2.0.0"), "{path} leaked tenant b: {}", r.text);
    }
}

#[tokio::test]
async fn changes_become_revisions_and_reach_the_running_services() {
    let applied = Arc::new(AtomicUsize::new(0));
    let seen = applied.clone();
    let s = start_full(
        ApiSettings::default(),
        Arc::new(TestBackend(TestLogs::new())),
        Arc::new(move |r, c| {
            // Revision 2 adds c; 3 renames it; 4 removes it again.
            let expected = if r.number == 4 { 2 } else { 3 };
            assert_eq!(c.tenants.len(), expected, "revision {}", r.number);
            seen.fetch_add(1, Ordering::SeqCst);
        }),
    )
    .await;
    let admin = s.login("admin").await;
    let r = admin
        .post(
            "/api/v1/tenants",
            json!({"tenant": tenant("c", "10.3.0.0/16"), "reason": "joins", "expected_revision": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["revision"]["number"], 2);
    assert_eq!(r.json["revision"]["author"], "admin");
    assert_eq!(r.json["revision"]["source"], "api");
    assert!(r.json["diff"].as_str().unwrap().contains("+ tenants.c"));
    assert_eq!(applied.load(Ordering::SeqCst), 1);
    assert_eq!(s.state.current().revision, Some(2));

    let list = admin.get("/api/v1/config/revisions").await;
    let numbers: Vec<i64> =
        list.json["revisions"].as_array().unwrap().iter().map(|r| r["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(admin.get("/api/v1/config/revisions?limit=1&before=2").await.json["revisions"][0]["number"], 1);
    let one = admin.get("/api/v1/config/revisions/2").await;
    assert_eq!(one.json["revision"]["reason"], "joins");
    assert_eq!(ids(&one.json["config"]["tenants"]), ["a", "b", "c"]);
    let diff = admin.get("/api/v1/config/diff?from=1&to=2").await;
    assert!(diff.json["diff"].as_str().unwrap().contains("tenants.c"), "{}", diff.text);
    assert_eq!(admin.get("/api/v1/config/revisions/99").await.status, StatusCode::NOT_FOUND);
    assert_eq!(admin.get("/api/v1/config/revisions/x").await.json["field"], "number");

    let mut c = tenant("c", "10.3.0.0/16");
    c.name_en = "Sea Town".into();
    let r = admin.send(Method::PUT, "/api/v1/tenants/c", Some(json!({"tenant": c, "reason": "rename"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = admin.send(Method::DELETE, "/api/v1/tenants/c?reason=leaves", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["revision"]["number"], 4);
    assert_eq!(applied.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn invalid_changes_are_refused_and_nothing_is_applied() {
    let s = start().await;
    let admin = s.login("admin").await;
    let mut bad = tenant("c", "10.1.5.0/24");
    bad.name_ja = " ".into();
    let r = admin.post("/api/v1/tenants", json!({"tenant": bad, "reason": "x"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let paths: Vec<&str> = r.json["problems"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"tenants[2].name_ja"), "{paths:?}");
    assert!(paths.contains(&"tenants[2].networks[0]"), "{paths:?}");
    assert_eq!(s.state.current().revision, Some(1));
    assert_eq!(admin.get("/api/v1/tenants").await.json["tenants"].as_array().unwrap().len(), 2);

    let mut wrong_type = serde_json::to_value(tenant("c", "10.3.0.0/16")).unwrap();
    wrong_type["network_model"] = json!("gamma");
    let r = admin.post("/api/v1/tenants", json!({"tenant": wrong_type, "reason": "x"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["field"], "tenant.network_model");
    let r = admin.post("/api/v1/tenants", json!({"tenant": tenant("c", "10.3.0.0/16")})).await;
    assert_eq!(r.json["field"], "reason");
    let r = admin.post("/api/v1/tenants", json!({"tenant": tenant("c", "10.3.0.0/16"), "reason": "  "})).await;
    assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")));
    let r = admin.post("/api/v1/tenants", json!({"tenant": tenant("a", "10.9.0.0/16"), "reason": "dup"})).await;
    assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::CONFLICT, Some("tenant.id")));

    // Log senders still point at b, so deleting b would leave them dangling.
    let r = admin.send(Method::DELETE, "/api/v1/tenants/b?reason=x", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.json["problems"][0]["path"], "collect.senders[0].tenant");

    let mut config = s.state.current().config.clone();
    config.logs.hot_days = 1;
    let r = admin.send(Method::PUT, "/api/v1/config", Some(json!({"config": config, "reason": "x"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["field"], "logs.hot_days");
    assert_eq!(s.state.current().revision, Some(1));
}

#[tokio::test]
async fn a_change_on_a_stale_revision_is_a_conflict() {
    let s = start().await;
    let admin = s.login("admin").await;
    let body = |id: &str, net: &str| json!({"tenant": tenant(id, net), "reason": "x", "expected_revision": 1});
    assert_eq!(admin.post("/api/v1/tenants", body("c", "10.3.0.0/16")).await.status, StatusCode::CREATED);
    let r = admin.post("/api/v1/tenants", body("d", "10.4.0.0/16")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json["field"], "expected_revision");
    assert_eq!(s.state.current().revision, Some(2));
}

#[tokio::test]
async fn rollback_makes_an_old_revision_current_as_a_new_one() {
    let s = start().await;
    let admin = s.login("admin").await;
    admin.post("/api/v1/tenants", json!({"tenant": tenant("c", "10.3.0.0/16"), "reason": "x"})).await;
    let r = admin.post("/api/v1/config/rollback", json!({"revision": 1, "reason": "undo"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["revision"]["number"], 3);
    assert_eq!(r.json["revision"]["source"], "rollback");
    assert_eq!(ids(&admin.get("/api/v1/tenants").await.json["tenants"]), ["a", "b"]);
    let r = admin.post("/api/v1/config/rollback", json!({"revision": 42, "reason": "x"})).await;
    assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::NOT_FOUND, Some("revision")));
    let r = admin.post("/api/v1/config/rollback", json!({"revision": 1, "reason": ""})).await;
    assert_eq!(r.json["field"], "reason");
}

#[tokio::test]
async fn municipal_problems_name_only_their_tenant() {
    let s = start().await;
    let muni = s.login("muni_b").await;
    let r = muni
        .send(
            Method::PATCH,
            "/api/v1/tenants/b/contacts",
            Some(json!({"contacts": [{"name": "x", "email": "nope"}], "reason": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.json["problems"][0]["path"], "tenants[1].contacts[0].email");
    assert!(!r.text.contains("10.1.0.0"));
}
