//! Who is calling: a session cookie from the console or an API token, checked on every request.
//!
//! Handlers take an [`Operator`] (a person, or a script with a user token) or a [`Caller`]
//! (an operator or an ingest-only token) as an argument; the extractor refuses the request
//! before the handler runs when the credential is missing, expired, revoked or belongs to a
//! disabled user, and refuses session requests that change state without the CSRF token.

pub mod login;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod token;
pub mod totp;

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use jiff::Timestamp;
use mamori_store::secret::hash_secret;
use mamori_store::{ControlStore, NewAuditEntry, Role, TokenKind, User};
use serde_json::{Value, json};

use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::client_ip;
use crate::scope::Scope;
use crate::settings::ApiSettings;
use crate::state::AppState;

/// How the caller proved who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A console session; `hash` identifies it in the store.
    Session { hash: String, csrf: String },
    /// An API token acting as its user.
    Token { id: String, name: String },
}

/// An authenticated operator: a person, or a script holding one of their user tokens.
#[derive(Debug, Clone)]
pub struct Operator {
    pub user: User,
    pub credential: Credential,
    pub scope: Scope,
    pub ip: Option<IpAddr>,
}

/// A token that may only ingest events.
#[derive(Debug, Clone)]
pub struct IngestToken {
    pub id: String,
    pub name: String,
    /// When set, every event it posts is stamped with this tenant.
    pub tenant: Option<String>,
    pub ip: Option<IpAddr>,
}

/// Anyone authenticated.
#[derive(Debug, Clone)]
pub enum Caller {
    Operator(Operator),
    Ingest(IngestToken),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        authenticate(parts, state).await
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        match authenticate(parts, state).await? {
            Caller::Operator(op) => Ok(op),
            Caller::Ingest(_) => Err(ApiError::forbidden("an ingest token may only post events to /api/v1/ingest")),
        }
    }
}

impl Operator {
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Refuses roles that see only some tenants (configuration and revisions hold every
    /// tenant's data).
    pub fn require_all_tenants(&self) -> ApiResult<()> {
        if self.scope.is_all() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "this needs a role that sees all tenants (soc_analyst, prefecture_admin or auditor)",
            ))
        }
    }

    pub fn require_config_change(&self) -> ApiResult<()> {
        if self.role().can_change_config() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "changing the configuration needs the prefecture_admin role (you are {})",
                self.role()
            )))
        }
    }

    pub fn require_user_admin(&self) -> ApiResult<()> {
        if self.role().can_manage_users() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "managing users and tokens needs the prefecture_admin role (you are {})",
                self.role()
            )))
        }
    }

    /// Reading users and tokens: the administrators who manage them and the auditors who
    /// oversee them.
    pub fn require_user_read(&self) -> ApiResult<()> {
        if matches!(self.role(), Role::PrefectureAdmin | Role::Auditor) {
            Ok(())
        } else {
            Err(ApiError::forbidden("reading users and tokens needs the prefecture_admin or auditor role"))
        }
    }

    /// An audit entry for an action of this operator. `detail` must not hold secrets.
    pub fn audit(
        &self,
        action: &str,
        target: impl Into<String>,
        tenant: Option<String>,
        outcome: &str,
        detail: Value,
    ) -> NewAuditEntry {
        let mut detail = match detail {
            Value::Object(m) => m,
            Value::Null => Default::default(),
            other => [("detail".to_owned(), other)].into_iter().collect(),
        };
        if let Credential::Token { id, name } = &self.credential {
            detail.insert("token".into(), json!({"id": id, "name": name}));
        }
        NewAuditEntry {
            at: Timestamp::now(),
            actor: self.user.username.clone(),
            source_ip: self.ip.map(|ip| ip.to_string()),
            action: action.to_owned(),
            target: target.into(),
            tenant,
            outcome: outcome.to_owned(),
            detail: Value::Object(detail),
        }
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> ApiResult<Caller> {
    let ip = client_ip(parts);
    let store = state.store().clone();
    if let Some(secret) = token::bearer(&parts.headers)? {
        let hash = hash_secret(secret);
        return blocking(move || by_token(&*store, &hash, ip)).await;
    }
    let Some(secret) = session::cookie_secret(&parts.headers) else {
        return Err(ApiError::unauthorized("authentication required: log in or send 'Authorization: Bearer <token>'"));
    };
    let hash = hash_secret(secret);
    let settings = state.settings().clone();
    let (op, pending) = blocking(move || by_session(&*store, hash, &settings, ip)).await?;
    if pending {
        return Err(ApiError::unauthorized(
            "the login is not finished: enter the two-factor code in the console (/console/)",
        ));
    }
    if changes_state(&parts.method) {
        let Credential::Session { csrf, .. } = &op.credential else {
            return Err(ApiError::internal("session credential expected"));
        };
        let sent = parts.headers.get(session::CSRF_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
        if !session::constant_time_eq(sent, csrf.as_bytes()) {
            return Err(ApiError::forbidden(
                "missing or wrong X-CSRF-Token header (send the csrf_token from the login response)",
            )
            .with_field("X-CSRF-Token"));
        }
    }
    Ok(Caller::Operator(op))
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn by_token(store: &dyn ControlStore, hash: &str, ip: Option<IpAddr>) -> ApiResult<Caller> {
    let now = Timestamp::now();
    let invalid = || ApiError::unauthorized("the API token is unknown, revoked or expired");
    let token = store.token_by_hash(hash)?.ok_or_else(invalid)?;
    if !token.is_usable(now) {
        return Err(invalid());
    }
    if token::needs_touch(&token, now) {
        store.touch_token(&token.id, now)?;
    }
    match token.kind {
        TokenKind::Ingest { tenant } => Ok(Caller::Ingest(IngestToken { id: token.id, name: token.name, tenant, ip })),
        TokenKind::User { user_id } => {
            let user = active_user(store, &user_id)?;
            Ok(Caller::Operator(Operator {
                scope: Scope::of(&user),
                user,
                credential: Credential::Token { id: token.id, name: token.name },
                ip,
            }))
        }
    }
}

/// The operator of a console session, without the CSRF check (the console checks the token
/// in its forms) and with a flag for sessions still waiting for the second factor, which the
/// console may use only on its two-factor pages.
pub async fn console_session(parts: &Parts, state: &AppState) -> ApiResult<(Operator, bool)> {
    let Some(secret) = session::cookie_secret(&parts.headers) else {
        return Err(ApiError::unauthorized("not logged in"));
    };
    let hash = hash_secret(secret);
    let store = state.store().clone();
    let settings = state.settings().clone();
    let ip = client_ip(parts);
    blocking(move || by_session(&*store, hash, &settings, ip)).await
}

/// The operator of a session, and whether the session still waits for the second factor.
fn by_session(
    store: &dyn ControlStore,
    hash: String,
    settings: &ApiSettings,
    ip: Option<IpAddr>,
) -> ApiResult<(Operator, bool)> {
    let now = Timestamp::now();
    let session = store
        .session_by_hash(&hash)?
        .ok_or_else(|| ApiError::unauthorized("not logged in (unknown session); log in again"))?;
    if let Some(why) = session::expired(&session, now, settings) {
        store.delete_session(&hash)?;
        return Err(ApiError::unauthorized(why));
    }
    let user = active_user(store, &session.user_id)?;
    if session::needs_touch(&session, now) {
        store.touch_session(&hash, now)?;
    }
    let op = Operator {
        scope: Scope::of(&user),
        user,
        credential: Credential::Session { hash, csrf: session.csrf_token },
        ip,
    };
    Ok((op, session.mfa_pending))
}

fn active_user(store: &dyn ControlStore, id: &str) -> ApiResult<User> {
    match store.user_by_id(id)? {
        Some(u) if !u.disabled => Ok(u),
        Some(_) => Err(ApiError::unauthorized("the account is disabled")),
        None => Err(ApiError::unauthorized("the account no longer exists")),
    }
}
