//! Every state-changing request of the console without the right CSRF token is refused (403)
//! and changes nothing. The routes come from the console's own route table, so a new form
//! route is covered the day it is added.

use crate::common::*;
use mamori_store::ControlStore;
use reqwest::StatusCode;

/// A path of the table with its parameters filled in.
fn fill(path: &str, user_id: &str) -> String {
    path.replace("{id}", if path.starts_with("/console/users") { user_id } else { "a" }).replace("{number}", "1")
}

#[tokio::test]
async fn every_post_route_refuses_a_missing_or_wrong_token() {
    let server = start().await;
    let mut admin = Browser::login(&server, "admin", 0).await;
    let good = admin.token().await;
    let muni_id = server.store.user_by_name("muni_b").unwrap().unwrap().id;
    let before = server.state.current().revision;
    let posts: Vec<_> = mamori_console::routes().into_iter().filter(|(m, _)| m == "POST").collect();
    assert!(posts.len() >= 9, "{posts:?}");
    for (_, path) in &posts {
        let url = fill(path, &muni_id);
        // The second step needs a session that waits for its code.
        let mut b = match *path {
            "/console/login" => Browser::new(&server),
            "/console/login/second" => {
                let mut p = Browser::new(&server);
                let r = p.password("muni_a", PASSWORD).await;
                assert_eq!(r.location(), "/console/login/second");
                p
            }
            _ => admin.clone(),
        };
        if *path == "/console/login" {
            b.get("/console/login").await; // a login-form cookie, but no token in the form
        }
        let fields = [
            ("username", "admin"),
            ("password", PASSWORD),
            ("reason", "csrf test"),
            ("name_ja", "x"),
            ("name_en", "x"),
            ("network_model", "beta"),
            ("networks", "10.9.0.0/16"),
            ("contacts", "attacker | | evil@example.com |"),
            ("role", "prefecture_admin"),
            ("code", "123456"),
            ("old_password", PASSWORD),
            ("new_password", "a new password 123"),
            ("new_password2", "a new password 123"),
        ];
        let r = b.post(&url, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {url} without a token: {}", r.text);
        let mut wrong = fields.to_vec();
        wrong.push(("csrf", "not-the-token"));
        let r = b.post(&url, &wrong).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {url} with a wrong token: {}", r.text);
        if *path == "/console/login" {
            // The login form's token is the cookie's, not a session's: another one fails too.
            let r = b.post(&url, &[("csrf", &good), ("username", "admin"), ("password", PASSWORD)]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {url} with a session token: {}", r.text);
        }
    }
    // Nothing changed: no revision, the session still works, the password is the same.
    assert_eq!(server.state.current().revision, before);
    assert_eq!(admin.get("/console/users").await.status, StatusCode::OK);
    assert_eq!(server.store.user_by_name("muni_b").unwrap().unwrap().role, mamori_store::Role::MunicipalAdmin);

    // And with the token the same kind of request goes through.
    let r = admin
        .post(
            "/console/tenants/a",
            &[
                ("csrf", &good),
                ("name_ja", "a町"),
                ("name_en", "a town"),
                ("network_model", "beta"),
                ("networks", "10.1.0.0/16"),
                ("domains", "a.example.lg.jp"),
                ("contacts", "a-contact | | joho@a.example.lg.jp |"),
                ("reason", "with a token"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_ne!(server.state.current().revision, before);
}
