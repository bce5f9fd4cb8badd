//! Reading the audit log, scoped to the caller's tenants like everything else: a municipal
//! administrator sees only entries about their own tenants, never prefecture-wide ones.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use mamori_store::AuditFilter;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Operator;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::QueryParams;
use crate::state::AppState;
use crate::time::parse_time;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    since: Option<String>,
    until: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    /// Text anywhere in the entry.
    q: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/audit`.
pub async fn list(
    State(state): State<AppState>,
    op: Operator,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let now = Timestamp::now();
    let time = |v: &Option<String>, field: &str| -> ApiResult<Option<Timestamp>> {
        v.as_deref().map(|s| parse_time(s, now).map_err(|e| ApiError::field(field, e))).transpose()
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::field("limit", format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let filter = AuditFilter {
        tenants: op.scope.as_filter(),
        since: time(&q.since, "since")?,
        until: time(&q.until, "until")?,
        actor: q.actor.filter(|s| !s.is_empty()),
        action: q.action.filter(|s| !s.is_empty()),
        text: q.q.filter(|s| !s.is_empty()),
        limit: Some(limit),
    };
    let store = state.store().clone();
    let entries = blocking(move || Ok(store.audit_entries(&filter)?)).await?;
    Ok(Json(json!({"entries": entries})))
}
