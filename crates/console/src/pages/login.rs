//! Logging in and out: the password form, then the second factor (a TOTP code, or enrolling
//! an authenticator app on the first login of a role that needs one).
//!
//! The login form has no session to tie a CSRF token to, so it gets its own: a random value
//! in a short-lived cookie that the form must echo (double submit).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mamori_api::auth::login::{self, Attempt};
use mamori_api::auth::session::{clear_cookie, set_cookie};
use mamori_api::auth::{Credential, console_session, totp};
use mamori_api::extract::ClientIp;
use mamori_api::{AppState, audit};
use mamori_store::secret::new_secret;
use maud::{Markup, html};
use serde_json::json;

use crate::i18n::Lang;
use crate::web::auth::Pending;
use crate::web::error::PageError;
use crate::web::form::{Fields, PendingPosted, token_ok};
use crate::web::layout::{bare, csrf, notice};

const LOGIN_COOKIE: &str = "mamori_login";

fn login_token(headers: &HeaderMap) -> Option<String> {
    mamori_api::extract::cookie(headers, LOGIN_COOKIE).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn login_page(lang: Lang, token: &str, username: &str, error: Option<String>) -> Markup {
    html! {
        main.narrow {
            h1 { (lang.t("login.title")) }
            @if let Some(e) = error { (notice("error", &e)) }
            form.stack method="post" action="/console/login" {
                (csrf(token))
                label { (lang.t("login.username")) input name="username" value=(username) autocomplete="username" required autofocus; }
                label { (lang.t("login.password")) input name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { (lang.t("login.submit")) }
            }
        }
    }
}

/// The login form, with a fresh token cookie.
fn render_login(state: &AppState, lang: Lang, status: StatusCode, username: &str, error: Option<String>) -> Response {
    let token = new_secret("");
    let secure = if state.settings().tls { "; Secure" } else { "" };
    let cookie =
        format!("{LOGIN_COOKIE}={token}; Path=/console/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}");
    let mut r = (status, bare(lang, lang.t("login.title"), login_page(lang, &token, username, error))).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `GET /console/login`.
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    render_login(&state, Lang::from_headers(&headers), StatusCode::OK, "", None)
}

/// `POST /console/login`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    body: axum::body::Bytes,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let f = Fields::parse(&body);
    match login_token(&headers) {
        Some(t) if token_ok(&f, &t) => {}
        _ => return PageError::csrf(lang).into_response(),
    }
    let username = f.get("username").trim().to_owned();
    let attempt = Attempt {
        username: username.clone(),
        password: f.get("password").to_owned(),
        totp_code: None,
        ip,
        console: true,
    };
    match login::login(&state, attempt).await {
        Ok(done) => {
            let to = if done.session.mfa_pending { "/console/login/second" } else { "/console/" };
            with_session(&state, &done.secret, to)
        }
        Err(e) => {
            let msg = match e.status.as_u16() {
                429 => format!(
                    "{} ({}s)",
                    lang.t("login.locked"),
                    e.extra.get("locked_seconds").and_then(|v| v.as_u64()).unwrap_or(60)
                ),
                403 => lang.t("login.disabled").to_owned(),
                400 | 401 => lang.t("login.failed").to_owned(),
                _ => lang.t("error.internal").to_owned(),
            };
            render_login(&state, lang, e.status, &username, Some(msg))
        }
    }
}

/// Installs the session cookie and goes on to `to`.
fn with_session(state: &AppState, secret: &str, to: &str) -> Response {
    let mut r = Redirect::to(to).into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(secret, state.settings()));
    r
}

/// The second step: a code for an enrolled user, enrolment for the others.
fn second_page(p: &Pending, enrol_secret: Option<&str>, error: Option<&str>) -> Markup {
    let l = p.lang;
    html! {
        main.narrow {
            @if let Some(secret) = enrol_secret {
                h1 { (l.t("enrol.title")) }
                p { (l.t("enrol.explain")) }
                @let uri = totp::otpauth_uri("mamori", &p.op.user.username, secret);
                @if let Some(qr) = qr_data_uri(&uri) { img.qr src=(qr) alt=(l.t("enrol.qr")) width="200" height="200"; }
                dl.kv {
                    dt { (l.t("enrol.secret")) } dd { code #totp-secret { (secret) } }
                    dt { (l.t("enrol.uri")) } dd { code.wrap { (uri) } }
                }
            } @else {
                h1 { (l.t("second.title")) }
                p { (l.t("second.explain")) }
            }
            @if let Some(e) = error { (notice("error", e)) }
            form.stack method="post" action="/console/login/second" {
                (csrf(&p.csrf))
                @if let Some(secret) = enrol_secret { input type="hidden" name="secret" value=(secret); }
                label { (l.t("second.code")) input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required autofocus; }
                button type="submit" { (l.t("second.submit")) }
            }
            form.inline method="post" action="/console/logout" {
                (csrf(&p.csrf))
                button.link type="submit" { (l.t("nav.logout")) }
            }
        }
    }
}

/// The `otpauth://` URI as a QR code image (`data:` URI; SVG).
fn qr_data_uri(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
    Some(format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)))
}

/// `GET /console/login/second`.
pub async fn second_form(p: Pending) -> Response {
    let title = if p.op.user.totp_secret.is_some() { p.lang.t("second.title") } else { p.lang.t("enrol.title") };
    let secret = p.op.user.totp_secret.is_none().then(totp::new_secret);
    bare(p.lang, title, second_page(&p, secret.as_deref(), None)).into_response()
}

/// `POST /console/login/second`.
pub async fn second_submit(State(state): State<AppState>, PendingPosted { p, f }: PendingPosted) -> Response {
    let enrol = if p.op.user.totp_secret.is_none() { f.opt("secret") } else { None };
    let result = login::second_factor(&state, &p.op.user, &p.hash, f.get("code"), enrol.as_deref(), p.op.ip).await;
    match result {
        Ok(done) => with_session(&state, &done.secret, "/console/"),
        Err(e) => {
            let msg = if e.status.as_u16() == 429 { p.lang.t("login.locked") } else { p.lang.t("second.failed") };
            let title = p.lang.t("second.title");
            // Enrolment keeps the same secret so the app the user just set up stays valid.
            (e.status, bare(p.lang, title, second_page(&p, enrol.as_deref(), Some(msg)))).into_response()
        }
    }
}

/// `POST /console/logout`: works for full and pending sessions alike.
pub async fn logout(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let lang = Lang::from_headers(req.headers());
    let (parts, body) = req.into_parts();
    let Ok((op, _pending)) = console_session(&parts, &state).await else {
        return Redirect::to("/console/login").into_response();
    };
    let Credential::Session { hash, csrf } = op.credential.clone() else {
        return Redirect::to("/console/login").into_response();
    };
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return PageError::csrf(lang).into_response(),
    };
    if !token_ok(&Fields::parse(&bytes), &csrf) {
        return PageError::csrf(lang).into_response();
    }
    let store = state.store().clone();
    let _ = mamori_api::blocking::blocking(move || Ok(store.delete_session(&hash)?)).await;
    let target = op.user.username.clone();
    let tenant = login::audit_tenant(&op.user);
    audit::record(&state, op.audit("logout", target, tenant, "success", json!({"via": "console"}))).await;
    let mut r = Redirect::to("/console/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, clear_cookie(state.settings()));
    r
}
