//! Logging in, shared by the API (`POST /api/v1/login`) and the console's login pages: the
//! password, the second factor (TOTP), throttling and lockout, and the audit entries.
//!
//! A console login whose password is right but whose second factor is still missing gets a
//! *pending* session, which opens only the pages that ask for the code or enrol one; the API,
//! which has no such pages, asks for the code in the same request instead.

use std::net::IpAddr;

use axum::http::StatusCode;
use jiff::Timestamp;
use mamori_store::{NewAuditEntry, Session, User, UserUpdate};
use serde_json::{Value, json};

use super::rate_limit::Lockouts;
use super::session::new_session;
use super::{password, totp};
use crate::audit;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A session waiting for its second factor is good for this long: enough to find the phone,
/// short enough that a password alone does not keep a foot in the door.
const PENDING_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// Longest username looked up; longer ones cannot exist and are refused before any work.
const MAX_USERNAME: usize = 128;
pub const BAD_LOGIN: &str = "invalid username or password";

/// Who is logging in, with what.
pub struct Attempt {
    pub username: String,
    pub password: String,
    /// The TOTP code sent with the password (API only).
    pub totp_code: Option<String>,
    pub ip: Option<IpAddr>,
    /// A console login: a missing second factor gives a pending session instead of an error.
    pub console: bool,
}

/// A login that got past the password.
pub struct LoggedIn {
    pub user: Box<User>,
    /// The cookie value.
    pub secret: String,
    pub session: Session,
}

/// The audit entry of a login step by `actor` (the name typed, which may not exist).
fn entry(
    actor: &str,
    ip: Option<IpAddr>,
    action: &str,
    outcome: &str,
    tenant: Option<String>,
    detail: Value,
) -> NewAuditEntry {
    NewAuditEntry {
        at: Timestamp::now(),
        actor: actor.to_owned(),
        source_ip: ip.map(|i| i.to_string()),
        action: action.into(),
        target: actor.to_owned(),
        tenant,
        outcome: outcome.into(),
        detail,
    }
}

/// The tenant an audit entry about this user belongs to, so a municipality's administrators
/// can read what happened to their own accounts.
pub fn audit_tenant(u: &User) -> Option<String> {
    if u.role.sees_all_tenants() { None } else { u.tenants.first().cloned() }
}

fn locked_error(wait: std::time::Duration) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many failed logins; try again in {} seconds", wait.as_secs().max(1)),
    )
    .retry_after(wait.as_secs() + 1)
    .with("locked_seconds", json!(wait.as_secs().max(1)))
}

/// Counts a failure and audits the lockouts it started.
async fn fail(state: &AppState, username: &str, ip: Option<IpAddr>, tenant: Option<String>) {
    let ip_text = ip.map(|i| i.to_string());
    let started: Lockouts = state.limiter().failed(username, ip_text.as_deref());
    if started.any() {
        let detail = json!({"account": started.user, "address": started.ip});
        audit::record(state, entry(username, ip, "login.lockout", "locked", tenant, detail)).await;
    }
}

enum Checked {
    Ok(Box<User>),
    Disabled(Box<User>),
    Failed,
}

/// Checks the password (and, for the API, the TOTP code) and opens a session.
pub async fn login(state: &AppState, a: Attempt) -> ApiResult<LoggedIn> {
    let username = a.username.trim().to_owned();
    if username.is_empty() || username.chars().count() > MAX_USERNAME {
        return Err(ApiError::field("username", "a username of 1-128 characters is required"));
    }
    let ip_text = a.ip.map(|i| i.to_string());
    if let Some(wait) = state.limiter().locked(&username, ip_text.as_deref()) {
        audit::record(state, entry(&username, a.ip, "login", "locked", None, json!({}))).await;
        return Err(locked_error(wait));
    }
    let store = state.store().clone();
    let name = username.clone();
    let pw = a.password;
    let slot = state.password_slot().await;
    let checked = blocking(move || {
        let user = store.user_by_name(&name)?;
        let ok = password::verify(&pw, user.as_ref().map(|u| u.password_hash.as_str()));
        Ok(match user {
            Some(u) if ok && u.disabled => Checked::Disabled(Box::new(u)),
            Some(u) if ok => Checked::Ok(Box::new(u)),
            _ => Checked::Failed,
        })
    })
    .await?;
    drop(slot);
    let user = match checked {
        Checked::Ok(u) => u,
        Checked::Disabled(u) => {
            fail(state, &username, a.ip, audit_tenant(&u)).await;
            let detail = json!({"reason": "account disabled"});
            audit::record(state, entry(&username, a.ip, "login", "failure", audit_tenant(&u), detail)).await;
            return Err(ApiError::forbidden("the account is disabled"));
        }
        Checked::Failed => {
            fail(state, &username, a.ip, None).await;
            audit::record(state, entry(&username, a.ip, "login", "failure", None, json!({}))).await;
            return Err(ApiError::unauthorized(BAD_LOGIN));
        }
    };
    let tenant = audit_tenant(&user);
    let needs_factor = user.totp_secret.is_some() || state.settings().requires_two_factor(user.role);
    if needs_factor && a.console {
        let logged = open_session(state, user, ip_text, true).await?;
        let detail = json!({"second_factor": "pending"});
        audit::record(state, entry(&username, a.ip, "login", "password_ok", tenant, detail)).await;
        return Ok(logged);
    }
    if needs_factor {
        let Some(secret) = user.totp_secret.clone() else {
            let detail = json!({"reason": "two-factor login not set up"});
            audit::record(state, entry(&username, a.ip, "login", "refused", tenant, detail)).await;
            return Err(ApiError::forbidden(format!(
                "the role {} must log in with a second factor: log in once in the console (/console/) to set it up",
                user.role
            )));
        };
        let Some(code) = a.totp_code.as_deref().filter(|c| !c.trim().is_empty()) else {
            return Err(ApiError::unauthorized("this account logs in with a second factor: send totp_code as well")
                .with_field("totp_code"));
        };
        check_code(state, &user, &secret, code, a.ip).await?;
    }
    let logged = open_session(state, user, ip_text, false).await?;
    state.limiter().succeeded(&username);
    audit::record(state, entry(&username, a.ip, "login", "success", tenant, json!({}))).await;
    Ok(logged)
}

/// Verifies a TOTP code and claims its step; a wrong or reused code counts as a failed login.
async fn check_code(state: &AppState, user: &User, secret: &str, code: &str, ip: Option<IpAddr>) -> ApiResult<()> {
    let step = totp::verify(secret, code, Timestamp::now());
    let claimed = match step {
        Some(step) => {
            let store = state.store().clone();
            let id = user.id.clone();
            blocking(move || Ok(store.claim_totp_step(&id, step)?)).await?
        }
        None => false,
    };
    if claimed {
        return Ok(());
    }
    fail(state, &user.username, ip, audit_tenant(user)).await;
    let reason = if step.is_some() { "code already used" } else { "wrong code" };
    let detail = json!({"reason": reason});
    audit::record(state, entry(&user.username, ip, "login.totp", "failure", audit_tenant(user), detail)).await;
    Err(ApiError::unauthorized("the two-factor code is wrong or was already used; wait for the next one")
        .with_field("totp_code"))
}

async fn open_session(state: &AppState, user: Box<User>, ip: Option<String>, pending: bool) -> ApiResult<LoggedIn> {
    let store = state.store().clone();
    let settings = state.settings().clone();
    let id = user.id.clone();
    let (secret, session) = blocking(move || {
        let now = Timestamp::now();
        store.delete_expired_sessions(now)?;
        let (secret, mut session) = new_session(&id, ip, &settings, now);
        session.mfa_pending = pending;
        if pending {
            session.expires_at = session.expires_at.min(now.checked_add(PENDING_LIFETIME).unwrap_or(now));
        }
        store.create_session(session.clone())?;
        Ok((secret, session))
    })
    .await?;
    Ok(LoggedIn { user, secret, session })
}

/// Finishes a pending console login with a TOTP code (`enrol_secret: None`), or by enrolling
/// the new secret `enrol_secret` proved by a code from it. Replaces the pending session with
/// a full one (a new secret, so a pending cookie seen by someone else is worth nothing).
pub async fn second_factor(
    state: &AppState,
    user: &User,
    pending_hash: &str,
    code: &str,
    enrol_secret: Option<&str>,
    ip: Option<IpAddr>,
) -> ApiResult<LoggedIn> {
    if let Some(wait) = state.limiter().locked(&user.username, ip.map(|i| i.to_string()).as_deref()) {
        return Err(locked_error(wait));
    }
    let secret = match (enrol_secret, &user.totp_secret) {
        (Some(new), _) => {
            if totp::decode_secret(new).is_none() {
                return Err(ApiError::field("secret", "the enrolment secret is not valid base32; reload the page"));
            }
            new.to_owned()
        }
        (None, Some(existing)) => existing.clone(),
        (None, None) => return Err(ApiError::bad_request("no second factor is set up for this account yet")),
    };
    if enrol_secret.is_some() {
        // The code proves the app holds the secret; only then does the secret replace any old one.
        let Some(step) = totp::verify(&secret, code, Timestamp::now()) else {
            fail(state, &user.username, ip, audit_tenant(user)).await;
            return Err(ApiError::unauthorized("the code does not match the secret; check the app's clock and retry")
                .with_field("totp_code"));
        };
        let store = state.store().clone();
        let (id, s) = (user.id.clone(), secret.clone());
        blocking(move || {
            store.update_user(&id, UserUpdate { totp_secret: Some(Some(s)), ..Default::default() })?;
            store.claim_totp_step(&id, step)?;
            Ok(())
        })
        .await?;
        let e = entry(&user.username, ip, "user.totp_enrol", "success", audit_tenant(user), json!({}));
        audit::record(state, e).await;
    } else {
        check_code(state, user, &secret, code, ip).await?;
    }
    let store = state.store().clone();
    let hash = pending_hash.to_owned();
    blocking(move || Ok(store.delete_session(&hash)?)).await?;
    let logged = open_session(state, Box::new(user.clone()), ip.map(|i| i.to_string()), false).await?;
    state.limiter().succeeded(&user.username);
    let detail = json!({"second_factor": "totp"});
    audit::record(state, entry(&user.username, ip, "login", "success", audit_tenant(user), detail)).await;
    Ok(logged)
}
