//! Logging in to the console: the second factor (enrolment, codes, replay), lockout after
//! failures, logout, password change, cookies and security headers.

use crate::common::*;
use jiff::Timestamp;
use mamori_api::ApiSettings;
use mamori_api::auth::totp;
use mamori_store::{AuditFilter, ControlStore};
use reqwest::StatusCode;

fn secret_on(page: &str) -> String {
    let start = page.find("id=\"totp-secret\">").expect("secret on the enrolment page") + 17;
    page[start..start + page[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn first_login_of_an_analyst_enrols_a_second_factor() {
    let server = start().await;
    let mut b = Browser::new(&server);
    let r = b.password("soc", PASSWORD).await;
    assert_eq!(r.location(), "/console/login/second");
    // A pending session is short-lived and opens nothing but the second step, in the console
    // and the API.
    let hash = mamori_store::secret::hash_secret(&b.cookies["mamori_session"]);
    let pending = server.store.session_by_hash(&hash).unwrap().unwrap();
    assert!(pending.mfa_pending);
    assert!(pending.expires_at.duration_since(pending.created_at) <= jiff::SignedDuration::from_mins(10));
    assert_eq!(b.get("/console/").await.location(), "/console/login/second");
    assert_eq!(b.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let page = b.get("/console/login/second").await;
    assert!(page.text.contains("otpauth://totp/mamori:soc?secret="), "{}", page.text);
    assert!(page.text.contains("data:image/svg+xml;base64,"), "QR code");
    let secret = secret_on(&page.text);
    let csrf = page.csrf();

    let r = b.post("/console/login/second", &[("csrf", &csrf), ("secret", &secret), ("code", "000000")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(server.store.user_by_name("soc").unwrap().unwrap().totp_secret.is_none());
    let code = totp::current_code(&secret, Timestamp::now()).unwrap();
    let r = b.post("/console/login/second", &[("csrf", &csrf), ("secret", &secret), ("code", &code)]).await;
    assert_eq!(r.location(), "/console/", "{}", r.text);
    assert_eq!(b.get("/console/search").await.status, StatusCode::OK);
    assert_eq!(server.store.user_by_name("soc").unwrap().unwrap().totp_secret.as_deref(), Some(secret.as_str()));

    // The next login asks for a code; the one used to enrol does not work again.
    let mut again = Browser::new(&server);
    again.password("soc", PASSWORD).await;
    let page = again.get("/console/login/second").await;
    assert!(!page.text.contains("totp-secret"));
    let r = again.post("/console/login/second", &[("csrf", &page.csrf()), ("code", &code)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a code works once");

    let audit = server.store.audit_entries(&AuditFilter::default()).unwrap();
    assert!(audit.iter().any(|e| e.action == "user.totp_enrol" && e.actor == "soc"));
}

#[tokio::test]
async fn failures_lock_the_account_for_a_while_and_are_audited() {
    let server = start().await;
    let mut b = Browser::new(&server);
    for _ in 0..5 {
        let r = b.password("muni_a", "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = b.password("muni_a", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "locked even with the right password");
    assert!(r.text.contains("ロック"), "{}", r.text);
    let audit = server.store.audit_entries(&AuditFilter::default()).unwrap();
    assert!(audit.iter().any(|e| e.action == "login.lockout" && e.actor == "muni_a"), "{audit:?}");
    assert!(audit.iter().any(|e| e.action == "login" && e.outcome == "locked"));

    // Wrong second-factor codes count as failures too.
    let mut c = Browser::new(&server);
    c.password("muni_b", PASSWORD).await;
    let page = c.get("/console/login/second").await;
    for _ in 0..5 {
        let r = c.post("/console/login/second", &[("csrf", &page.csrf()), ("code", "000000")]).await;
        assert!(matches!(r.status.as_u16(), 401 | 429), "{}", r.status);
    }
    let code = totp::current_code(SECRET, Timestamp::now()).unwrap();
    let r = c.post("/console/login/second", &[("csrf", &page.csrf()), ("code", &code)]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn logout_password_change_cookies_and_headers() {
    let server = start_with(ApiSettings { tls: true, ..ApiSettings::default() }).await;
    let mut b = Browser::new(&server);
    let form = b.get("/console/login").await;
    let h = &form.headers;
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in
        ["script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"]
    {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["strict-transport-security"].to_str().unwrap().starts_with("max-age="));

    let r = b.password("admin", PASSWORD).await;
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("mamori_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let page = b.get("/console/login/second").await;
    let code = totp::current_code(SECRET, Timestamp::now()).unwrap();
    b.post("/console/login/second", &[("csrf", &page.csrf()), ("code", &code)]).await;
    let css = b.get("/console/static/console.css").await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert!(css.headers["cache-control"].to_str().unwrap().contains("max-age"));
    let js = b.get("/console/static/console.js").await;
    assert_eq!(js.headers["content-type"], "text/javascript; charset=utf-8");

    // English on request, Japanese by default.
    assert!(b.get("/console/").await.text.contains("ダッシュボード"));
    let r = b.get("/console/lang/en?back=%2Fconsole%2Ftenants").await;
    assert_eq!(r.location(), "/console/tenants");
    assert!(b.get("/console/").await.text.contains("Dashboard"));
    assert_eq!(b.get("/console/lang/en?back=https://evil.example/").await.location(), "/console/");

    let token = b.token().await;
    let r = b
        .post(
            "/console/account/password",
            &[
                ("csrf", &token),
                ("old_password", "wrong"),
                ("new_password", "a brand new password"),
                ("new_password2", "a brand new password"),
            ],
        )
        .await;
    assert!(r.text.contains("wrong") || r.text.contains("違います"), "{}", r.text);
    let r = b
        .post(
            "/console/account/password",
            &[
                ("csrf", &token),
                ("old_password", PASSWORD),
                ("new_password", "a brand new password"),
                ("new_password2", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), "/console/account?changed=1");
    assert!(b.get(r.location()).await.text.contains("The password was changed"), "in English, chosen above");
    let token = b.token().await; // a new session came with the change
    let r = b.post("/console/logout", &[("csrf", &token)]).await;
    assert_eq!(r.location(), "/console/login");
    assert_eq!(b.get("/console/").await.location(), "/console/login");
    assert_eq!(b.password("admin", PASSWORD).await.status, StatusCode::UNAUTHORIZED, "the old password is gone");
}
