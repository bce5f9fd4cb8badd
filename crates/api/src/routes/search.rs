//! Log search, `POST /api/v1/search` (JSON body) and `GET /api/v1/search?q=...` (shareable
//! URLs).
//!
//! The tenants searched come from the caller's role; `tenants` in the request can only narrow
//! them. The log store applies that scope to the query itself, so neither a query naming
//! another tenant (`organization.id:b`), nor an aggregation over `organization.id`, nor a total
//! count can see outside it.

use axum::Json;
use axum::extract::State;
use jiff::{SignedDuration, Timestamp};
use mamori_logs::search::MAX_LIMIT;
use mamori_logs::{LogError, SearchRequest, TenantScope};
use mamori_query::Aggregation;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Operator;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryParams};
use crate::scope::Scope;
use crate::state::AppState;
use crate::time::parse_time;

const DEFAULT_LIMIT: usize = 100;
const DEFAULT_RANGE: SignedDuration = SignedDuration::from_hours(24);

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    #[default]
    Newest,
    Oldest,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    #[serde(default)]
    query: String,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
    #[serde(default)]
    order: Order,
    #[serde(default)]
    tenants: Vec<String>,
    #[serde(default)]
    aggregations: Vec<Aggregation>,
}

/// `POST /api/v1/search`.
pub async fn post(
    State(state): State<AppState>,
    op: Operator,
    JsonBody(body): JsonBody<SearchBody>,
) -> ApiResult<Json<Value>> {
    run(&state, &op, body).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
    #[serde(default)]
    order: Order,
    /// Comma-separated.
    tenants: Option<String>,
}

/// `GET /api/v1/search`.
pub async fn get(
    State(state): State<AppState>,
    op: Operator,
    QueryParams(p): QueryParams<SearchParams>,
) -> ApiResult<Json<Value>> {
    let tenants = p
        .tenants
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let body = SearchBody {
        query: p.q,
        from: p.from,
        to: p.to,
        limit: p.limit,
        order: p.order,
        tenants,
        aggregations: Vec::new(),
    };
    run(&state, &op, body).await
}

async fn run(state: &AppState, op: &Operator, body: SearchBody) -> ApiResult<Json<Value>> {
    let now = Timestamp::now();
    let time = |v: &Option<String>, field: &str| -> ApiResult<Option<Timestamp>> {
        v.as_deref().map(|s| parse_time(s, now).map_err(|e| ApiError::field(field, e))).transpose()
    };
    let to = time(&body.to, "to")?.unwrap_or(now);
    let from = match time(&body.from, "from")? {
        Some(t) => t,
        None => to.checked_sub(DEFAULT_RANGE).unwrap_or(Timestamp::MIN),
    };
    if from >= to {
        return Err(ApiError::field("from", format!("the time range is empty: from {from} is not before to {to}")));
    }
    let limit = body.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(ApiError::field(
            "limit",
            format!("limit must be at most {MAX_LIMIT}; narrow the search or page by time"),
        ));
    }
    let query = mamori_query::parse(&body.query, now)
        .map_err(|e| ApiError::field("query", e.to_string()).with("position", json!(e.position)))?;
    let scope = op.scope.narrow(&body.tenants, "tenants")?;
    let tenants = match &scope {
        Scope::All => TenantScope::All,
        Scope::Only(list) => TenantScope::Only(list.clone()),
    };
    let canonical = query.to_string();
    let request = SearchRequest {
        query,
        from,
        to,
        tenants,
        limit,
        oldest_first: body.order == Order::Oldest,
        aggregations: body.aggregations,
    };
    let logs = state.logs().clone();
    let response = blocking(move || logs.search(&request).map_err(search_error)).await?;
    let mut out = serde_json::to_value(response).map_err(ApiError::internal)?;
    out["query"] = json!(canonical);
    out["from"] = json!(from);
    out["to"] = json!(to);
    out["tenants"] = json!(scope.as_filter());
    Ok(Json(out))
}

/// A query the store refuses is the caller's to fix; anything else is ours.
fn search_error(e: LogError) -> ApiError {
    match e {
        LogError::Query(m) => ApiError::bad_request(m),
        other => ApiError::internal(format!("log search: {other}")),
    }
}
