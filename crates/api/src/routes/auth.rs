//! Login, logout, who am I, and changing one's own password.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use mamori_store::UserUpdate;
use mamori_store::password::hash_password;
use serde::Deserialize;
use serde_json::{Value, json};

use super::users::{audit_tenant, user_view};
use crate::audit;
use crate::auth::login::{self, Attempt, LoggedIn};
use crate::auth::session::{clear_cookie, new_session, set_cookie};
use crate::auth::{Credential, Operator, password};
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientIp, JsonBody};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
    /// The current code of the user's authenticator app, for accounts with two-factor login.
    #[serde(default)]
    totp_code: Option<String>,
}

/// `POST /api/v1/login`.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<Response> {
    let attempt =
        Attempt { username: body.username, password: body.password, totp_code: body.totp_code, ip, console: false };
    let LoggedIn { user, secret, session } = login::login(&state, attempt).await?;
    let body = json!({
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at,
        "user": user_view(&user),
    });
    let cookie = set_cookie(&secret, state.settings());
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// `POST /api/v1/logout`: ends the console session.
pub async fn logout(State(state): State<AppState>, op: Operator) -> ApiResult<Response> {
    let Credential::Session { hash, .. } = &op.credential else {
        return Err(ApiError::bad_request(
            "logout ends a console session; revoke a token with DELETE /api/v1/tokens/{id}",
        ));
    };
    let store = state.store().clone();
    let hash = hash.clone();
    blocking(move || Ok(store.delete_session(&hash)?)).await?;
    let tenant = audit_tenant(&op.user);
    let target = op.user.username.clone();
    audit::record(&state, op.audit("logout", target, tenant, "success", json!({}))).await;
    let cookie = clear_cookie(state.settings());
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({"logged_out": true}))).into_response())
}

/// `GET /api/v1/me`: the caller, what it may do, and (for a console session) the CSRF token,
/// so a reloaded console page can pick it up again.
pub async fn me(op: Operator) -> Json<Value> {
    let role = op.role();
    let (auth, csrf) = match &op.credential {
        Credential::Session { csrf, .. } => ("session", Some(csrf.clone())),
        Credential::Token { .. } => ("token", None),
    };
    Json(json!({
        "user": user_view(&op.user),
        "auth": auth,
        "csrf_token": csrf,
        "tenant_scope": op.scope.as_filter(),
        "permissions": {
            "sees_all_tenants": role.sees_all_tenants(),
            "change_config": role.can_change_config(),
            "manage_users": role.can_manage_users(),
        },
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    old_password: String,
    new_password: String,
}

/// `POST /api/v1/me/password`: changes the caller's own password given the old one. Every
/// session of the user ends; a console caller gets a fresh one in the response.
pub async fn change_password(
    State(state): State<AppState>,
    op: Operator,
    JsonBody(body): JsonBody<PasswordBody>,
) -> ApiResult<Response> {
    let username = op.user.username.clone();
    let ip = op.ip.map(|i| i.to_string());
    if let Some(wait) = state.limiter().locked(&username, ip.as_deref()) {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too many failed password checks; try again later")
            .retry_after(wait.as_secs() + 1));
    }
    let settings = state.settings().clone();
    password::check_new(&body.new_password, &username, settings.min_password_chars, "new_password")?;
    let store = state.store().clone();
    let user = op.user.clone();
    let from_session = matches!(op.credential, Credential::Session { .. });
    let ip_for_session = ip.clone();
    let slot = state.password_slot().await;
    let result = blocking(move || {
        if !password::verify(&body.old_password, Some(&user.password_hash)) {
            return Ok(None);
        }
        let update = UserUpdate { password_hash: Some(hash_password(&body.new_password)), ..Default::default() };
        store.update_user(&user.id, update)?;
        store.delete_user_sessions(&user.id)?;
        if !from_session {
            return Ok(Some(None));
        }
        let (secret, session) = new_session(&user.id, ip_for_session, &settings, Timestamp::now());
        store.create_session(session.clone())?;
        Ok(Some(Some((secret, session))))
    })
    .await?;
    drop(slot);
    let tenant = audit_tenant(&op.user);
    let Some(new_session) = result else {
        state.limiter().failed(&username, ip.as_deref());
        let e = op.audit("user.password_change", &username, tenant, "failure", json!({}));
        audit::record(&state, e).await;
        return Err(ApiError::forbidden("the old password is wrong").with_field("old_password"));
    };
    let e = op.audit("user.password_change", &username, tenant, "success", json!({}));
    audit::record(&state, e).await;
    match new_session {
        Some((secret, session)) => {
            let cookie = set_cookie(&secret, state.settings());
            let body = json!({"changed": true, "csrf_token": session.csrf_token});
            Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
        }
        None => Ok(Json(json!({"changed": true, "csrf_token": null})).into_response()),
    }
}
