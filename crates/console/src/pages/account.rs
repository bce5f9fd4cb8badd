//! One's own account: the password, and the console's language.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use mamori_api::auth::login::audit_tenant;
use mamori_api::auth::password;
use mamori_api::auth::session::{new_session, set_cookie};
use mamori_api::blocking::blocking;
use mamori_api::{AppState, audit};
use mamori_store::UserUpdate;
use mamori_store::password::hash_password;
use maud::html;
use serde_json::json;

use crate::i18n::{COOKIE, Lang};
use crate::web::auth::Console;
use crate::web::form::Posted;
use crate::web::layout::{csrf, notice, page};

/// `GET /console/lang/{code}?back=/console/...`: remembers the language for a year.
pub async fn language(
    Path(code): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_else(|| Lang::from_headers(&headers));
    let back = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "back")
        .map(|(_, v)| v.into_owned())
        // Only back into the console, never to another site.
        .filter(|b| b.starts_with("/console/") && !b.starts_with("//"))
        .unwrap_or_else(|| "/console/".to_owned());
    let mut r = Redirect::to(&back).into_response();
    let cookie = format!("{COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000", lang.code());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn form_page(c: &Console, message: Option<(&str, &str)>) -> Response {
    let body = html! {
        @if let Some((kind, text)) = message { (notice(kind, text)) }
        dl.kv {
            dt { (c.t("users.username")) } dd { (c.op.user.username) }
            dt { (c.t("users.role")) } dd { (c.op.user.role.as_str()) }
            dt { (c.t("users.two_factor")) } dd { (if c.op.user.totp_secret.is_some() { c.t("common.yes") } else { c.t("common.no") }) }
        }
        h2 { (c.t("account.password")) }
        form.stack method="post" action="/console/account/password" {
            (csrf(&c.csrf))
            label { (c.t("account.old")) input name="old_password" type="password" autocomplete="current-password" required; }
            label { (c.t("account.new")) input name="new_password" type="password" autocomplete="new-password" minlength="12" required; }
            label { (c.t("account.repeat")) input name="new_password2" type="password" autocomplete="new-password" minlength="12" required; }
            button type="submit" { (c.t("account.change")) }
        }
    };
    page(c, c.t("nav.account"), "", body).into_response()
}

/// `GET /console/account` (`?changed=1` after a change).
pub async fn form(c: Console, axum::extract::RawQuery(q): axum::extract::RawQuery) -> Response {
    let changed = q.as_deref() == Some("changed=1");
    form_page(&c, changed.then(|| ("ok", c.t("account.changed"))))
}

/// `POST /console/account/password`: every session of the user ends; this browser gets a
/// new one.
pub async fn change_password(State(state): State<AppState>, Posted { c, f }: Posted) -> Response {
    let (old, new) = (f.get("old_password").to_owned(), f.get("new_password").to_owned());
    if new != f.get("new_password2") {
        return form_page(&c, Some(("error", c.t("account.mismatch"))));
    }
    let user = c.op.user.clone();
    if let Err(e) = password::check_new(&new, &user.username, state.settings().min_password_chars, "new_password") {
        return form_page(&c, Some(("error", &e.message)));
    }
    let ip = c.op.ip.map(|i| i.to_string());
    if state.limiter().locked(&user.username, ip.as_deref()).is_some() {
        return form_page(&c, Some(("error", c.t("login.locked"))));
    }
    let store = state.store().clone();
    let settings = state.settings().clone();
    let (u, ip2) = (user.clone(), ip.clone());
    let slot = state.password_slot().await;
    let result = blocking(move || {
        if !password::verify(&old, Some(&u.password_hash)) {
            return Ok(None);
        }
        store.update_user(&u.id, UserUpdate { password_hash: Some(hash_password(&new)), ..Default::default() })?;
        store.delete_user_sessions(&u.id)?;
        let (secret, session) = new_session(&u.id, ip2, &settings, Timestamp::now());
        store.create_session(session)?;
        Ok(Some(secret))
    })
    .await;
    drop(slot);
    let tenant = audit_tenant(&user);
    match result {
        Ok(Some(secret)) => {
            let e = c.op.audit("user.password_change", &user.username, tenant, "success", json!({"via": "console"}));
            audit::record(&state, e).await;
            let mut r = Redirect::to("/console/account?changed=1").into_response();
            r.headers_mut().append(header::SET_COOKIE, set_cookie(&secret, state.settings()));
            r
        }
        Ok(None) => {
            state.limiter().failed(&user.username, ip.as_deref());
            let e = c.op.audit("user.password_change", &user.username, tenant, "failure", json!({"via": "console"}));
            audit::record(&state, e).await;
            form_page(&c, Some(("error", c.t("account.wrong_old"))))
        }
        Err(e) => form_page(&c, Some(("error", &e.message))),
    }
}
