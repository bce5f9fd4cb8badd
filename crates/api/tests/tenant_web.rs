//! A tenant's web-filter policy through the API: scoped to the caller's tenant, changed only by
//! administrators, validated, and recorded as a revision.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_municipality_changes_its_own_web_policy_as_a_revision() {
    let s = start().await;
    let muni = s.login("muni_a").await;
    let policy = json!({
        "policy": {"block": ["bbs.example", "203.0.113.0/24"], "read_only_categories": ["forums"],
                   "trusted_proxies": ["10.1.0.10/32"], "helpdesk": "情報政策課 内線1234"},
        "reason": "庁内掲示板への書き込み制限"
    });
    let r = muni.send(Method::PUT, "/api/v1/tenants/a/web", Some(policy.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["revision"]["number"], 2);
    assert!(r.json["diff"].is_null());
    let web = &s.state.current().config.web;
    assert_eq!(web.tenants["a"].block, ["bbs.example", "203.0.113.0/24"]);
    let r = muni.get("/api/v1/tenants/a/web").await;
    assert_eq!(r.json["policy"]["helpdesk"], "情報政策課 内線1234");

    // Another tenant's policy is out of sight, as if it did not exist.
    assert_eq!(muni.get("/api/v1/tenants/b/web").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        muni.send(Method::PUT, "/api/v1/tenants/b/web", Some(policy.clone())).await.status,
        StatusCode::NOT_FOUND
    );
    // Read-only roles change nothing.
    for user in ["soc", "auditor"] {
        let c = s.login(user).await;
        assert_eq!(c.get("/api/v1/tenants/b/web").await.status, StatusCode::OK, "{user}");
        let r = c.send(Method::PUT, "/api/v1/tenants/a/web", Some(policy.clone())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
    }
    assert_eq!(s.state.current().revision, Some(2));
}

#[tokio::test]
async fn bad_entries_are_refused_with_their_place() {
    let s = start().await;
    let admin = s.login("admin").await;
    let bad =
        json!({"policy": {"block": ["ok.example", "not a domain!"], "block_regex": ["(unclosed"]}, "reason": "x"});
    let r = admin.send(Method::PUT, "/api/v1/tenants/b/web", Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let paths: Vec<&str> = r.json["problems"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["web.tenants.b.block[1]", "web.tenants.b.block_regex[0]"]);
    assert_eq!(s.state.current().revision, Some(1), "nothing applied");
}
