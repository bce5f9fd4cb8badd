//! What the prefecture's administrator does in the console: accounts (create, change, reset a
//! second factor), tenant changes with a reason, rollback; each audited.

use crate::common::*;
use mamori_store::{AuditFilter, ControlStore, Role};
use reqwest::StatusCode;

#[tokio::test]
async fn accounts_tenants_and_rollback() {
    let server = start().await;
    let mut admin = Browser::login(&server, "admin", 0).await;
    let t = admin.token().await;

    let r = admin
        .post(
            "/console/users",
            &[
                ("csrf", &t),
                ("username", "tanaka"),
                ("role", "municipal_admin"),
                ("tenants", "b"),
                ("password", "tanaka's long password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let tanaka = server.store.user_by_name("tanaka").unwrap().unwrap();
    assert_eq!((tanaka.role, tanaka.tenants.clone()), (Role::MunicipalAdmin, vec!["b".to_owned()]));
    let r = admin
        .post(
            "/console/users",
            &[("csrf", &t), ("username", "x y"), ("role", "auditor"), ("password", "long enough pw")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a bad username is refused");
    let r = admin
        .post(
            "/console/users",
            &[
                ("csrf", &t),
                ("username", "nobody"),
                ("role", "municipal_admin"),
                ("tenants", "zz"),
                ("password", "long enough pw"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "an unknown tenant is refused");

    let r = admin
        .post(&format!("/console/users/{}", tanaka.id), &[("csrf", &t), ("role", "auditor"), ("display_name", "田中")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let tanaka = server.store.user_by_name("tanaka").unwrap().unwrap();
    assert_eq!((tanaka.role, tanaka.display_name.as_str()), (Role::Auditor, "田中"));

    // The last prefecture admin cannot demote itself.
    let admin_id = server.store.user_by_name("admin").unwrap().unwrap().id;
    let r = admin.post(&format!("/console/users/{admin_id}"), &[("csrf", &t), ("role", "auditor")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    let muni = server.store.user_by_name("muni_a").unwrap().unwrap();
    let r = admin.post(&format!("/console/users/{}/reset-2fa", muni.id), &[("csrf", &t)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(server.store.user_by_name("muni_a").unwrap().unwrap().totp_secret.is_none());
    let mut again = Browser::new(&server);
    again.password("muni_a", PASSWORD).await;
    assert!(again.get("/console/login/second").await.text.contains("totp-secret"), "enrols again");

    // A refused tenant change shows the problem and applies nothing.
    let before = server.state.current().revision;
    let edit = |networks: &'static str, reason: &'static str| {
        vec![
            ("name_ja", "a町"),
            ("name_en", "a town"),
            ("network_model", "alpha"),
            ("networks", networks),
            ("domains", "a.example.lg.jp"),
            ("contacts", "a-contact | | joho@a.example.lg.jp |"),
            ("reason", reason),
        ]
    };
    let mut f = edit("10.2.0.0/24", "overlaps b");
    f.push(("csrf", &t));
    let r = admin.post("/console/tenants/a", &f).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(server.state.current().revision, before);
    let mut f = edit("10.1.0.0/16\n10.11.0.0/16", "");
    f.push(("csrf", &t));
    assert_eq!(
        admin.post("/console/tenants/a", &f).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is needed"
    );
    let mut f = edit("10.1.0.0/16\n10.11.0.0/16", "second office");
    f.push(("csrf", &t));
    let r = admin.post("/console/tenants/a", &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let changed = server.state.current().revision.unwrap();
    let page = admin.get(&format!("/console/history/{changed}")).await;
    assert!(page.text.contains("second office") && page.text.contains("10.11.0.0/16"), "{}", page.text);

    let first = before.unwrap();
    let r =
        admin.post(&format!("/console/history/{first}/rollback"), &[("csrf", &t), ("reason", "undo the office")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let current = server.state.current();
    assert_eq!(current.revision, Some(changed + 1));
    assert_eq!(current.config.tenant("a").unwrap().networks.len(), 1);

    let actions: Vec<String> =
        server.store.audit_entries(&AuditFilter::default()).unwrap().into_iter().map(|e| e.action).collect();
    for a in ["user.create", "user.update", "user.totp_reset", "tenant.replace", "config.rollback"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}
