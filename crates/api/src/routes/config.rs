//! The managed configuration and its history. Every revision holds every tenant's
//! configuration, so all of this needs a role that sees all tenants.

use axum::Json;
use axum::extract::{Path, State};
use mamori_core::ManagedConfig;
use mamori_store::RevisionSummary;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Operator;
use crate::blocking::blocking;
use crate::change::{self, ChangeMeta, apply_change, revision_view};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryParams};
use crate::state::AppState;

const DEFAULT_REVISIONS: usize = 50;
const MAX_REVISIONS: usize = 500;

/// `GET /api/v1/config`: the configuration in force and its revision.
pub async fn current(State(state): State<AppState>, op: Operator) -> ApiResult<Json<Value>> {
    op.require_all_tenants()?;
    let current = state.current();
    Ok(Json(json!({"revision": current.revision, "config": current.config})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    config: ManagedConfig,
    reason: String,
    #[serde(default)]
    expected_revision: Option<i64>,
}

/// `PUT /api/v1/config`: replaces the whole managed configuration (retention defaults, log
/// senders and tenants) in one revision.
pub async fn replace(
    State(state): State<AppState>,
    op: Operator,
    JsonBody(body): JsonBody<ConfigChange>,
) -> ApiResult<Json<Value>> {
    op.require_config_change()?;
    let meta = ChangeMeta {
        action: "config.change",
        target: "config".into(),
        tenant: None,
        reason: body.reason,
        expected_revision: body.expected_revision,
        visible_path: None,
    };
    let new = body.config;
    let revision = apply_change(&state, &op, meta, move |config| {
        *config = new;
        Ok(())
    })
    .await?;
    Ok(Json(revision_view(&revision)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    limit: Option<usize>,
    before: Option<i64>,
}

/// `GET /api/v1/config/revisions`: newest first; page with `before`.
pub async fn revisions(
    State(state): State<AppState>,
    op: Operator,
    QueryParams(q): QueryParams<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    op.require_all_tenants()?;
    let limit = q.limit.unwrap_or(DEFAULT_REVISIONS);
    if limit == 0 || limit > MAX_REVISIONS {
        return Err(ApiError::field("limit", format!("limit must be between 1 and {MAX_REVISIONS}")));
    }
    let st = state.clone();
    let list = blocking(move || Ok(st.config_service().history(limit, q.before)?)).await?;
    Ok(Json(json!({"revisions": list})))
}

/// `GET /api/v1/config/revisions/{number}`: one revision with its diff and configuration.
pub async fn revision(
    State(state): State<AppState>,
    op: Operator,
    Path(number): Path<String>,
) -> ApiResult<Json<Value>> {
    op.require_all_tenants()?;
    let number: i64 =
        number.parse().map_err(|_| ApiError::field("number", format!("'{number}' is not a revision number")))?;
    let st = state.clone();
    let r = blocking(move || Ok(st.config_service().revision(number)?)).await?;
    let config: Value = serde_json::from_str(&r.config_json).map_err(ApiError::internal)?;
    Ok(Json(json!({
        "revision": RevisionSummary::from(&r),
        "diff": r.diff,
        "config": config,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    from: i64,
    to: i64,
}

/// `GET /api/v1/config/diff?from=A&to=B`.
pub async fn diff(
    State(state): State<AppState>,
    op: Operator,
    QueryParams(q): QueryParams<DiffQuery>,
) -> ApiResult<Json<Value>> {
    op.require_all_tenants()?;
    let st = state.clone();
    let diff = blocking(move || Ok(st.config_service().diff(q.from, q.to)?)).await?;
    Ok(Json(json!({"from": q.from, "to": q.to, "diff": diff})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    revision: i64,
    reason: String,
}

/// `POST /api/v1/config/rollback`: makes an earlier revision's configuration current again,
/// as a new revision (history is never rewritten).
pub async fn rollback(
    State(state): State<AppState>,
    op: Operator,
    JsonBody(body): JsonBody<RollbackBody>,
) -> ApiResult<Json<Value>> {
    op.require_config_change()?;
    let revision = change::rollback(&state, &op, body.revision, body.reason).await?;
    Ok(Json(revision_view(&revision)))
}
