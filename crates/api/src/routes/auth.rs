//! Login, logout, who am I, and changing one's own password.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use mamori_store::password::hash_password;
use mamori_store::{NewAuditEntry, Session, User, UserUpdate};
use serde::Deserialize;
use serde_json::{Value, json};

use super::users::{audit_tenant, user_view};
use crate::audit;
use crate::auth::session::{clear_cookie, new_session, set_cookie};
use crate::auth::{Credential, Operator, password};
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientIp, JsonBody};
use crate::state::AppState;

/// Longest username looked up; longer ones cannot exist and are refused before any work.
const MAX_USERNAME: usize = 128;
const BAD_LOGIN: &str = "invalid username or password";

#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
}

enum Outcome {
    Success(Box<User>, String, Session),
    Disabled(Box<User>),
    Failed,
}

/// `POST /api/v1/login`.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<Response> {
    let username = body.username.trim().to_owned();
    if username.is_empty() || username.chars().count() > MAX_USERNAME {
        return Err(ApiError::field("username", "a username of 1-128 characters is required"));
    }
    let ip_text = ip.map(|i| i.to_string());
    let entry = |outcome: &str, tenant: Option<String>, detail: Value| NewAuditEntry {
        at: Timestamp::now(),
        actor: username.clone(),
        source_ip: ip_text.clone(),
        action: "login".into(),
        target: username.clone(),
        tenant,
        outcome: outcome.into(),
        detail,
    };
    if let Some(wait) = state.limiter().locked(&username, ip_text.as_deref()) {
        audit::record(&state, entry("locked", None, json!({}))).await;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed logins; try again in {} seconds", wait.as_secs().max(1)),
        )
        .retry_after(wait.as_secs() + 1));
    }

    let store = state.store().clone();
    let settings = state.settings().clone();
    let (name, ip_for_session) = (username.clone(), ip_text.clone());
    let slot = state.password_slot().await;
    let outcome = blocking(move || {
        let user = store.user_by_name(&name)?;
        let ok = password::verify(&body.password, user.as_ref().map(|u| u.password_hash.as_str()));
        Ok(match user {
            Some(u) if ok && u.disabled => Outcome::Disabled(Box::new(u)),
            Some(u) if ok => {
                let now = Timestamp::now();
                store.delete_expired_sessions(now)?;
                let (secret, session) = new_session(&u.id, ip_for_session, &settings, now);
                store.create_session(session.clone())?;
                Outcome::Success(Box::new(u), secret, session)
            }
            _ => Outcome::Failed,
        })
    })
    .await?;
    drop(slot);

    match outcome {
        Outcome::Success(user, secret, session) => {
            state.limiter().succeeded(&username);
            audit::record(&state, entry("success", audit_tenant(&user), json!({}))).await;
            let body = json!({
                "csrf_token": session.csrf_token,
                "expires_at": session.expires_at,
                "user": user_view(&user),
            });
            let cookie = set_cookie(&secret, state.settings());
            Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
        }
        Outcome::Disabled(user) => {
            state.limiter().failed(&username, ip_text.as_deref());
            let detail = json!({"reason": "account disabled"});
            audit::record(&state, entry("failure", audit_tenant(&user), detail)).await;
            Err(ApiError::forbidden("the account is disabled"))
        }
        Outcome::Failed => {
            state.limiter().failed(&username, ip_text.as_deref());
            audit::record(&state, entry("failure", None, json!({}))).await;
            Err(ApiError::unauthorized(BAD_LOGIN))
        }
    }
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
