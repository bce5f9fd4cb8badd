//! API tokens: user tokens for scripts acting as a user, ingest tokens for log shippers.
//! The secret is returned once, at creation; the store keeps only its hash.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use mamori_store::secret::{hash_secret, new_secret};
use mamori_store::{NewToken, Token, TokenKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit;
use crate::auth::Operator;
use crate::auth::token::TOKEN_PREFIX;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

fn token_view(t: &Token) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "kind": t.kind,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "last_used_at": t.last_used_at,
        "revoked": t.revoked,
    })
}

fn token_tenant(kind: &TokenKind) -> Option<String> {
    match kind {
        TokenKind::Ingest { tenant } => tenant.clone(),
        TokenKind::User { .. } => None,
    }
}

/// `GET /api/v1/tokens`.
pub async fn list(State(state): State<AppState>, op: Operator) -> ApiResult<Json<Value>> {
    op.require_user_read()?;
    let store = state.store().clone();
    let tokens = blocking(move || Ok(store.tokens()?)).await?;
    Ok(Json(json!({"tokens": tokens.iter().map(token_view).collect::<Vec<_>>()})))
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    User,
    Ingest,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    name: String,
    kind: Kind,
    /// For a user token: whose; the caller when absent.
    #[serde(default)]
    user_id: Option<String>,
    /// For an ingest token: the tenant every event is stamped with.
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    expires_at: Option<Timestamp>,
}

/// `POST /api/v1/tokens`.
pub async fn create(
    State(state): State<AppState>,
    op: Operator,
    JsonBody(body): JsonBody<CreateToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    op.require_user_admin()?;
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field("name", "a token needs a name of 1-100 characters"));
    }
    if body.expires_at.is_some_and(|t| t <= Timestamp::now()) {
        return Err(ApiError::field("expires_at", "the expiry must be in the future"));
    }
    let kind = match body.kind {
        Kind::User => {
            if body.tenant.is_some() {
                return Err(ApiError::field(
                    "tenant",
                    "a user token acts with its user's tenants; tenant is for ingest tokens",
                ));
            }
            let user_id = body.user_id.unwrap_or_else(|| op.user.id.clone());
            let store = state.store().clone();
            let id = user_id.clone();
            if blocking(move || Ok(store.user_by_id(&id)?)).await?.is_none() {
                return Err(ApiError::field("user_id", format!("there is no user with id '{user_id}'")));
            }
            TokenKind::User { user_id }
        }
        Kind::Ingest => {
            if body.user_id.is_some() {
                return Err(ApiError::field("user_id", "an ingest token belongs to no user"));
            }
            if let Some(t) = &body.tenant
                && state.current().config.tenant(t).is_none()
            {
                return Err(ApiError::field("tenant", format!("there is no tenant '{t}'")));
            }
            TokenKind::Ingest { tenant: body.tenant }
        }
    };
    let secret = new_secret(TOKEN_PREFIX);
    let new = NewToken { name, kind, token_hash: hash_secret(&secret), expires_at: body.expires_at };
    let store = state.store().clone();
    let token = blocking(move || Ok(store.create_token(new)?)).await?;
    let detail = json!({"id": token.id, "kind": token.kind});
    let entry = op.audit("token.create", &token.name, token_tenant(&token.kind), "success", detail);
    audit::record(&state, entry).await;
    let mut view = token_view(&token);
    view["token"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// `DELETE /api/v1/tokens/{id}`: revokes the token at once. It stays listed, marked revoked,
/// so the audit log can still name it.
pub async fn revoke(State(state): State<AppState>, op: Operator, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    op.require_user_admin()?;
    let store = state.store().clone();
    let lookup = id.clone();
    let token = blocking(move || {
        let token = store.tokens()?.into_iter().find(|t| t.id == lookup);
        if token.is_some() {
            store.revoke_token(&lookup)?;
        }
        Ok(token)
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("there is no token with id '{id}'")))?;
    let detail = json!({"id": token.id});
    let entry = op.audit("token.revoke", &token.name, token_tenant(&token.kind), "success", detail);
    audit::record(&state, entry).await;
    Ok(Json(json!({"revoked": true, "id": token.id})))
}
