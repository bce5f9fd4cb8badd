//! A municipality's administrator sees only its own tenant everywhere: navigation, pages,
//! search, charts, counts and exports; another tenant's id in a URL is "not found". An auditor
//! reads everything and changes nothing.

use crate::common::*;
use mamori_store::ControlStore;
use reqwest::StatusCode;

#[tokio::test]
async fn a_municipal_session_cannot_reach_another_tenant() {
    let server = start().await;
    let mut a = Browser::login(&server, "muni_a", 0).await;
    let token = a.token().await;

    for path in ["/console/tenants/b", "/console/tenants/b/edit", "/console/tenants/nosuch"] {
        let r = a.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!r.text.contains("b town") && !r.text.contains("b-contact"), "{path}: {}", r.text);
    }
    let r =
        a.post("/console/tenants/b", &[("csrf", &token), ("contacts", "x | | x@example.com |"), ("reason", "r")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let list = a.get("/console/tenants").await;
    assert!(list.text.contains("/console/tenants/a") && !list.text.contains("/console/tenants/b"), "{}", list.text);

    // Search, the dashboard and both exports hold tenant a's events only, whatever the query.
    for path in [
        "/console/search?q=&last=24h",
        "/console/search?q=organization.id%3Ab&last=24h",
        "/console/search/export.csv?q=&last=24h",
        "/console/search/export.ndjson?q=secret-b&last=24h",
        "/console/",
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert!(!r.text.contains("secret-b") && !r.text.contains("web-b"), "{path} leaks tenant b: {}", r.text);
    }
    let csv = a.get("/console/search/export.csv?q=&last=24h").await;
    assert_eq!(csv.text.matches("secret-a").count(), 3, "{}", csv.text);
    let search = a.get("/console/search?q=&last=24h").await;
    assert!(search.text.contains("<span id=\"total\">3</span>"), "{}", search.text);

    // Pages spanning every tenant are closed; the navigation does not offer them.
    assert_eq!(a.get("/console/history").await.status, StatusCode::FORBIDDEN);
    assert_eq!(a.get("/console/history/1").await.status, StatusCode::FORBIDDEN);
    assert_eq!(a.get("/console/users").await.status, StatusCode::FORBIDDEN);
    assert!(!search.text.contains("href=\"/console/history\"") && !search.text.contains("href=\"/console/users\""));

    // Its own contacts it may change; the audit log then shows that, and nothing of b's.
    let r = a
        .post(
            "/console/tenants/a",
            &[("csrf", &token), ("contacts", "new-a | | a2@example.com |"), ("reason", "new contact")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let mut b = Browser::login(&server, "muni_b", 0).await;
    let audit_b = b.get("/console/audit?q=&last=24h").await;
    assert!(!audit_b.text.contains("new contact") && !audit_b.text.contains("muni_a"), "{}", audit_b.text);
    let audit_a = a.get("/console/audit?last=24h").await;
    assert!(audit_a.text.contains("tenant.contacts") && !audit_a.text.contains("muni_b"), "{}", audit_a.text);
    let b_search = b.get("/console/search?q=&last=24h").await;
    assert!(b_search.text.contains("secret-b") && !b_search.text.contains("secret-a"));
}

#[tokio::test]
async fn an_auditor_reads_everything_and_changes_nothing() {
    let server = start().await;
    let mut aud = Browser::login(&server, "auditor", 0).await;
    let token = aud.token().await;
    for path in [
        "/console/",
        "/console/search?q=",
        "/console/tenants/b",
        "/console/history/1",
        "/console/users",
        "/console/audit",
    ] {
        let r = aud.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    assert!(!aud.get("/console/tenants/a").await.text.contains("/console/tenants/a/edit"));
    let id = server.store.user_by_name("muni_a").unwrap().unwrap().id;
    let before = server.state.current().revision;
    for (path, form) in [
        ("/console/tenants/a".to_owned(), vec![("contacts", "x | | x@example.com |"), ("reason", "r")]),
        ("/console/history/1/rollback".to_owned(), vec![("reason", "r")]),
        ("/console/users".to_owned(), vec![("username", "x"), ("role", "auditor"), ("password", "a long password 1")]),
        (format!("/console/users/{id}"), vec![("role", "prefecture_admin")]),
        (format!("/console/users/{id}/reset-2fa"), vec![]),
    ] {
        let mut f = form.clone();
        f.push(("csrf", &token));
        let r = aud.post(&path, &f).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
    }
    assert_eq!(server.state.current().revision, before);
    assert!(server.store.user_by_name("muni_a").unwrap().unwrap().totp_secret.is_some());
}
