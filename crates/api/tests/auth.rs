//! Login, sessions, CSRF, throttling, tokens and the headers every response carries, against a
//! real server on 127.0.0.1.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use mamori_api::{ApiSettings, LoginLimit};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn health_needs_no_login_and_every_response_has_security_headers() {
    let s = start().await;
    let r = s.anonymous().get("/api/v1/health").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["status"], "ok");
    assert!(r.json["version"].is_string());
    for resp in [r, s.anonymous().get("/api/v1/tenants").await] {
        let h = &resp.headers;
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
        assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
    }
}

#[tokio::test]
async fn unknown_paths_methods_and_missing_credentials_are_json_errors() {
    let s = start().await;
    let a = s.anonymous();
    let r = a.get("/api/v1/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json["error"].is_string(), "{}", r.text);
    let r = a.send(Method::DELETE, "/api/v1/health", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.json["error"].is_string(), "{}", r.text);
    let r = a.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json["error"].as_str().unwrap().contains("authentication required"));
    let r = s.with_token("mmr_not-a-real-token").get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_sets_a_strict_cookie_and_logout_ends_the_session() {
    let s = start().await;
    let r = s.anonymous().post("/api/v1/login", json!({"username": "admin", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::OK);
    let set_cookie = r.headers["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attr), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    assert_eq!(r.json["user"]["username"], "admin");
    assert_eq!(r.json["user"]["role"], "prefecture_admin");
    assert!(!r.text.contains("argon2") && !r.text.contains(PASSWORD));

    let admin = s.login("admin").await;
    let me = admin.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["auth"], "session");
    assert_eq!(me.json["csrf_token"], admin.csrf.clone().unwrap().as_str());
    assert_eq!(me.json["permissions"]["change_config"], true);

    let r = admin.without_csrf().post("/api/v1/logout", json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "logout needs the CSRF token");
    let r = admin.post("/api/v1/logout", json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(admin.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn session_writes_need_the_csrf_token_and_token_writes_do_not() {
    let s = start().await;
    let admin = s.login("admin").await;
    let body = json!({"tenant": tenant("c", "10.3.0.0/16"), "reason": "new member"});
    let r = admin.without_csrf().post("/api/v1/tenants", body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json["field"], "X-CSRF-Token");
    let wrong = common::Client { csrf: Some("wrong".into()), ..admin.clone() };
    assert_eq!(wrong.post("/api/v1/tenants", body.clone()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.without_csrf().get("/api/v1/tenants").await.status, StatusCode::OK);
    assert_eq!(s.state.current().config.tenants.len(), 2, "nothing was applied");

    let token = s.token(json!({"name": "script", "kind": "user"})).await;
    let r = s.with_token(&token).post("/api/v1/tenants", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[tokio::test]
async fn failed_logins_are_throttled_per_username_and_unknown_users_look_the_same() {
    let s = start().await;
    let a = s.anonymous();
    let wrong = |user: &str| json!({"username": user, "password": "wrong password!"});
    let unknown = a.post("/api/v1/login", wrong("nobody")).await;
    for _ in 0..5 {
        let r = a.post("/api/v1/login", wrong("soc")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json, unknown.json, "unknown and wrong look alike");
    }
    let r = a.post("/api/v1/login", json!({"username": "soc", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "locked even with the right password");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 301, "{retry}");
    // Another user from the same address is not locked out by soc's failures.
    s.login("auditor").await;

    let audit = s.login("admin").await.get("/api/v1/audit?action=login").await;
    let outcomes: Vec<&str> = audit.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "soc")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "failure").count(), 5);
    assert!(outcomes.contains(&"locked"));
    assert!(!audit.text.contains("wrong password!"), "passwords never reach the audit log");
}

fn short_limits(per_user: u32, per_ip: u32) -> ApiSettings {
    let limit = |failures| LoginLimit { failures, window: Duration::from_secs(60), lockout: Duration::from_secs(1) };
    ApiSettings { login_per_user: limit(per_user), login_per_ip: limit(per_ip), ..ApiSettings::default() }
}

#[tokio::test]
async fn lockout_ends_after_its_time() {
    let s = start_with(short_limits(2, 100), Arc::new(TestBackend(TestLogs::new()))).await;
    let a = s.anonymous();
    for _ in 0..2 {
        a.post("/api/v1/login", json!({"username": "soc", "password": "nope nope nope"})).await;
    }
    let ok = json!({"username": "soc", "password": PASSWORD});
    assert_eq!(a.post("/api/v1/login", ok.clone()).await.status, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(a.post("/api/v1/login", ok).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_address_limit_spans_usernames() {
    let s = start_with(short_limits(100, 3), Arc::new(TestBackend(TestLogs::new()))).await;
    let a = s.anonymous();
    for user in ["x", "y", "z"] {
        a.post("/api/v1/login", json!({"username": user, "password": "nope nope nope"})).await;
    }
    let r = a.post("/api/v1/login", json!({"username": "admin", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn disabled_users_lose_their_sessions_and_cannot_log_in() {
    let s = start().await;
    let soc = s.login("soc").await;
    let admin = s.login("admin").await;
    let id = s.user_id("soc");
    let r = admin.send(Method::PATCH, &format!("/api/v1/users/{id}"), Some(json!({"disabled": true}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(soc.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let r = s.anonymous().post("/api/v1/login", json!({"username": "soc", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.json["error"].as_str().unwrap().contains("disabled"));
}

#[tokio::test]
async fn sessions_expire_when_idle_and_after_their_lifetime() {
    let idle = ApiSettings { session_idle: Duration::from_secs(1), ..ApiSettings::default() };
    let s = start_with(idle, Arc::new(TestBackend(TestLogs::new()))).await;
    let c = s.login("soc").await;
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json["error"].as_str().unwrap().contains("inactivity"), "{}", r.text);

    let short = ApiSettings { session_lifetime: Duration::from_secs(1), ..ApiSettings::default() };
    let s = start_with(short, Arc::new(TestBackend(TestLogs::new()))).await;
    let c = s.login("soc").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json["error"].as_str().unwrap().contains("has expired"), "{}", r.text);
}

#[tokio::test]
async fn user_tokens_act_as_their_user_and_ingest_tokens_only_ingest() {
    let s = start().await;
    let muni = s.token(json!({"name": "muni script", "kind": "user", "user_id": s.user_id("muni_a")})).await;
    let r = s.with_token(&muni).get("/api/v1/tenants").await;
    assert_eq!(r.status, StatusCode::OK);
    let ids: Vec<&str> = r.json["tenants"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a"]);

    let ingest = s.token(json!({"name": "shipper", "kind": "ingest", "tenant": "a"})).await;
    let r = s.with_token(&ingest).get("/api/v1/tenants").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let admin = s.login("admin").await;
    let list = admin.get("/api/v1/tokens").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text.contains(&muni) && !list.text.contains(&ingest), "secrets are shown once");
    assert!(!list.text.contains("token_hash"));
    let id = list.json["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "muni script").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin.send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(s.with_token(&muni).get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let r = admin.send(Method::DELETE, "/api/v1/tokens/nosuch", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn changing_ones_own_password() {
    let s = start().await;
    let c = s.login("muni_a").await;
    let new = "a much longer new password";
    let r = c.post("/api/v1/me/password", json!({"old_password": "not it at all", "new_password": new})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json["field"], "old_password");
    let r = c.post("/api/v1/me/password", json!({"old_password": PASSWORD, "new_password": "short"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["field"], "new_password");
    let other = s.login("muni_a").await;
    let r = c.post("/api/v1/me/password", json!({"old_password": PASSWORD, "new_password": new})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.text.contains(new));
    assert_eq!(other.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "other sessions end");
    let fresh = common::Client {
        cookie: session_cookie(&r),
        csrf: r.json["csrf_token"].as_str().map(str::to_owned),
        ..c.clone()
    };
    assert_eq!(fresh.get("/api/v1/me").await.status, StatusCode::OK, "the caller gets a new session");
    let a = s.anonymous();
    let old = a.post("/api/v1/login", json!({"username": "muni_a", "password": PASSWORD})).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let ok = a.post("/api/v1/login", json!({"username": "muni_a", "password": new})).await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_and_status_need_the_right_roles() {
    let s = start().await;
    assert_eq!(s.anonymous().get("/metrics").await.status, StatusCode::UNAUTHORIZED);
    let muni = s.login("muni_a").await;
    assert_eq!(muni.get("/metrics").await.status, StatusCode::FORBIDDEN);
    let soc = s.login("soc").await;
    let r = soc.get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().contains("openmetrics"));
    assert!(r.text.contains("# EOF"), "{}", r.text);

    assert_eq!(s.anonymous().get("/api/v1/status").await.status, StatusCode::UNAUTHORIZED);
    let st = soc.get("/api/v1/status").await;
    assert_eq!(st.status, StatusCode::OK);
    assert_eq!(st.json["revision"], 1);
    assert_eq!(st.json["logs"]["test"], true);
}
