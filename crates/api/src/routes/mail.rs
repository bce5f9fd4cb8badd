//! The mail relay's quarantine: list and show for every role within its tenants; release and
//! delete (with a reason, kept in the quarantine's audit trail) for the administrators and the
//! SOC, never for auditors.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mamori_store::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Operator;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::mail_quarantine::QuarantineAccess;
use crate::state::AppState;

fn access(state: &AppState) -> ApiResult<Arc<dyn QuarantineAccess>> {
    state
        .quarantine()
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the mail relay is not running"))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("there is no quarantined message '{id}'"))
}

/// `GET /api/v1/mail/quarantine`.
pub async fn list(State(state): State<AppState>, op: Operator) -> ApiResult<Json<Value>> {
    let q = access(&state)?;
    let tenants = op.scope.as_filter();
    let messages = blocking(move || q.list(tenants.as_deref()).map_err(ApiError::internal)).await?;
    Ok(Json(json!({ "messages": messages })))
}

/// `GET /api/v1/mail/quarantine/{id}`.
pub async fn get_one(State(state): State<AppState>, op: Operator, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let q = access(&state)?;
    let tenants = op.scope.as_filter();
    let key = id.clone();
    let found = blocking(move || q.get(&key, tenants.as_deref()).map_err(ApiError::internal)).await?;
    let (message, header) = found.ok_or_else(|| not_found(&id))?;
    Ok(Json(json!({ "message": message, "header": header })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    reason: String,
}

fn may_act(op: &Operator, what: &str) -> ApiResult<()> {
    if op.role() == Role::Auditor {
        return Err(ApiError::forbidden(format!("auditors cannot {what} quarantined mail")));
    }
    Ok(())
}

/// `POST /api/v1/mail/quarantine/{id}/release`.
pub async fn release(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Action>,
) -> ApiResult<Json<Value>> {
    act(state, op, id, body, "release").await
}

/// `DELETE /api/v1/mail/quarantine/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Action>,
) -> ApiResult<Json<Value>> {
    act(state, op, id, body, "delete").await
}

async fn act(state: AppState, op: Operator, id: String, body: Action, what: &'static str) -> ApiResult<Json<Value>> {
    may_act(&op, what)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason must say why").with_field("reason"));
    }
    let q = access(&state)?;
    let tenants = op.scope.as_filter();
    let actor = format!("api:{}", op.user.username);
    let key = id.clone();
    let done = blocking(move || {
        let t = tenants.as_deref();
        match what {
            "release" => q.release(&key, t, &actor, &body.reason),
            _ => q.delete(&key, t, &actor, &body.reason),
        }
        .map_err(ApiError::internal)
    })
    .await?;
    let message = done.ok_or_else(|| not_found(&id))?;
    Ok(Json(json!({ "action": if what == "release" { "released" } else { "deleted" }, "message": message })))
}
