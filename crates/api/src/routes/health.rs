//! Liveness, status, metrics and the API's own description.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::auth::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /api/v1/health`: for load balancers and monitoring; needs no login and says nothing
/// beyond "the API answers".
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok", "version": VERSION}))
}

/// `GET /api/v1/status`: the components, the log store's figures and the revision in force.
pub async fn status(State(state): State<AppState>, _op: Operator) -> Json<Value> {
    let current = state.current();
    Json(json!({
        "status": "ok",
        "version": VERSION,
        "revision": current.revision,
        "tenants": current.config.tenants.len(),
        "components": state.status_provider().components(),
        "logs": state.logs().stats(),
    }))
}

/// `GET /metrics`: Prometheus (OpenMetrics) text of every registered metric.
pub async fn metrics(State(state): State<AppState>, op: Result<Operator, ApiError>) -> ApiResult<impl IntoResponse> {
    if state.settings().metrics_require_auth {
        op?.require_all_tenants()?;
    }
    Ok((
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        mamori_core::metrics::render(),
    ))
}

/// `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every endpoint.
pub async fn openapi() -> Json<Value> {
    Json(crate::openapi::document().clone())
}
