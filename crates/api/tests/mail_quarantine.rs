//! The quarantine endpoints: every call is scoped to the caller's tenants (a municipal
//! administrator of `b` cannot see, release or delete `a`'s mail, and is told the same as for a
//! message that does not exist), auditors only read, a reason is required, and without a
//! running relay the answer is 503.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use mamori_api::mail_quarantine::{QuarantineAccess, Tenants};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Two messages, one per tenant; actions are recorded.
#[derive(Default)]
struct FakeQuarantine {
    actions: Mutex<Vec<(String, String, String, String)>>,
    gone: Mutex<Vec<String>>,
}

impl FakeQuarantine {
    fn records(&self) -> Vec<Value> {
        let gone = self.gone.lock().unwrap().clone();
        [("qa1", "a"), ("qb1", "b")]
            .into_iter()
            .filter(|(id, _)| !gone.iter().any(|g| g == id))
            .map(|(id, t)| json!({"id": id, "tenant": t, "cause": "virus"}))
            .collect()
    }

    fn visible(&self, id: &str, tenants: Tenants<'_>) -> Option<Value> {
        self.records()
            .into_iter()
            .find(|r| r["id"] == id && tenants.is_none_or(|ts| ts.iter().any(|t| r["tenant"] == t.as_str())))
    }

    fn act(&self, what: &str, id: &str, tenants: Tenants<'_>, actor: &str, reason: &str) -> Option<Value> {
        let r = self.visible(id, tenants)?;
        self.actions.lock().unwrap().push((what.into(), id.into(), actor.into(), reason.into()));
        self.gone.lock().unwrap().push(id.into());
        Some(r)
    }
}

/// The API holds one handle, the test another.
struct Shared(Arc<FakeQuarantine>);

impl QuarantineAccess for Shared {
    fn list(&self, tenants: Tenants<'_>) -> Result<Vec<Value>, String> {
        Ok(self
            .0
            .records()
            .into_iter()
            .filter(|r| tenants.is_none_or(|ts| ts.iter().any(|t| r["tenant"] == t.as_str())))
            .collect())
    }
    fn get(&self, id: &str, tenants: Tenants<'_>) -> Result<Option<(Value, String)>, String> {
        Ok(self.0.visible(id, tenants).map(|r| (r, "Subject: x\r\n".into())))
    }
    fn release(&self, id: &str, tenants: Tenants<'_>, actor: &str, reason: &str) -> Result<Option<Value>, String> {
        Ok(self.0.act("release", id, tenants, actor, reason))
    }
    fn delete(&self, id: &str, tenants: Tenants<'_>, actor: &str, reason: &str) -> Result<Option<Value>, String> {
        Ok(self.0.act("delete", id, tenants, actor, reason))
    }
}

#[tokio::test]
async fn quarantine_endpoints_are_scoped_and_audited() {
    let s = start().await;
    let admin = s.login("admin").await;
    assert_eq!(admin.get("/api/v1/mail/quarantine").await.status, StatusCode::SERVICE_UNAVAILABLE);
    let fake = Arc::new(FakeQuarantine::default());
    s.state.set_quarantine(Arc::new(Shared(fake.clone())));

    let all = admin.get("/api/v1/mail/quarantine").await;
    assert_eq!(all.json["messages"].as_array().unwrap().len(), 2);
    let b_admin = s.login("muni_b").await;
    let own = b_admin.get("/api/v1/mail/quarantine").await;
    assert_eq!(own.json["messages"], json!([{"id": "qb1", "tenant": "b", "cause": "virus"}]));
    // Another tenant's message looks like one that does not exist, for every method.
    let other = b_admin.get("/api/v1/mail/quarantine/qa1").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let missing = b_admin.get("/api/v1/mail/quarantine/nosuch").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.json["error"].as_str().unwrap().replace("qa1", "ID"),
        missing.json["error"].as_str().unwrap().replace("nosuch", "ID")
    );
    let r = b_admin.post("/api/v1/mail/quarantine/qa1/release", json!({"reason": "x"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b_admin.send(Method::DELETE, "/api/v1/mail/quarantine/qa1", Some(json!({"reason": "x"}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(fake.actions.lock().unwrap().is_empty());

    // Auditors read but do not act; a reason is required.
    let auditor = s.login("auditor").await;
    assert_eq!(auditor.get("/api/v1/mail/quarantine/qb1").await.status, StatusCode::OK);
    let r = auditor.post("/api/v1/mail/quarantine/qb1/release", json!({"reason": "x"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b_admin.post("/api/v1/mail/quarantine/qb1/release", json!({"reason": " "})).await;
    assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")));

    let r = b_admin.post("/api/v1/mail/quarantine/qb1/release", json!({"reason": "業務上必要"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["action"], "released");
    let r = admin.send(Method::DELETE, "/api/v1/mail/quarantine/qa1", Some(json!({"reason": "spam"}))).await;
    assert_eq!(r.json["action"], "deleted");
    let actions = fake.actions.lock().unwrap().clone();
    assert_eq!(actions[0], ("release".into(), "qb1".into(), "api:muni_b".into(), "業務上必要".into()));
    assert_eq!(actions[1], ("delete".into(), "qa1".into(), "api:admin".into(), "spam".into()));
}
