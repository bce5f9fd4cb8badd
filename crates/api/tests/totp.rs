//! Two-factor login through the API: the code is required, works once, and roles that need it
//! cannot log in with a password alone before enrolling.

mod common;

use std::sync::Arc;

use common::*;
use mamori_api::ApiSettings;
use mamori_api::auth::totp;
use mamori_store::{ControlStore, UserUpdate};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn api_login_needs_a_fresh_code() {
    let server =
        start_two_factor(ApiSettings::default(), Arc::new(TestBackend(TestLogs::new())), Arc::new(|_, _| {})).await;
    let anon = server.anonymous();
    let login = |user: &str, code: Option<String>| {
        let mut body = json!({"username": user, "password": PASSWORD});
        if let Some(c) = code {
            body["totp_code"] = json!(c);
        }
        body
    };

    // soc has not enrolled: a password alone is not enough for its role.
    let r = anon.post("/api/v1/login", login("soc", None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.json["error"].as_str().unwrap().contains("/console/"), "{}", r.text);

    // The auditor's role does not need it.
    let r = anon.post("/api/v1/login", login("auditor", None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let secret = totp::new_secret();
    let id = server.user_id("soc");
    server
        .store
        .update_user(&id, UserUpdate { totp_secret: Some(Some(secret.clone())), ..Default::default() })
        .unwrap();
    let r = anon.post("/api/v1/login", login("soc", None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.json["field"], "totp_code");
    let r = anon.post("/api/v1/login", login("soc", Some("000000".into()))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    let code = totp::current_code(&secret, jiff::Timestamp::now()).unwrap();
    let r = anon.post("/api/v1/login", login("soc", Some(code.clone()))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The same code a second time is refused (RFC 6238 §5.2).
    let r = anon.post("/api/v1/login", login("soc", Some(code))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    let audit = server.store.audit_entries(&Default::default()).unwrap();
    assert!(audit.iter().any(|e| e.action == "login.totp" && e.outcome == "failure"), "{audit:?}");
}
