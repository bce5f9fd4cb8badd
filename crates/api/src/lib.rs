//! The REST API of mamori.
//!
//! One API serves the prefecture's SOC, its administrators, the municipalities and their log
//! shippers. Every request is authenticated (console session cookie or API token) and every
//! read is scoped on the server to the tenants the caller's role allows; a request can narrow
//! that scope, never widen it.
//!
//! ```no_run
//! # async fn example(
//! #     store: std::sync::Arc<dyn mamori_store::ControlStore>,
//! #     logs: std::sync::Arc<mamori_logs::LogStore>,
//! #     api: mamori_core::config::ApiConfig,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! let state = mamori_api::AppState::builder(store, logs)
//!     .settings(mamori_api::ApiSettings::from_config(&api))
//!     .on_change(|revision, config| { /* hand the new revision to the services */ })
//!     .build()?;
//! let listener = tokio::net::TcpListener::bind(api.listen).await?;
//! let tls = mamori_api::load_tls(&api)?;
//! let shutdown = async { let _ = tokio::signal::ctrl_c().await; };
//! mamori_api::serve(listener, mamori_api::router(state), tls, shutdown).await?;
//! # Ok(()) }
//! ```

pub mod audit;
pub mod auth;
mod backend;
pub mod blocking;
pub mod change;
pub mod error;
pub mod extract;
mod headers;
pub mod mail_quarantine;
mod metrics;
pub mod openapi;
mod routes;
pub mod scope;
mod serve;
pub mod settings;
mod state;
pub mod time;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::middleware::from_fn_with_state;

pub use backend::LogBackend;
pub use error::ApiError;
pub use routes::users::{check_tenants, check_username, other_active_admin, parse_role};
pub use serve::{Peer, TlsListener, load_tls, serve};
pub use settings::{ApiSettings, LoginLimit};
pub use state::{AppState, AppStateBuilder, Current, OnChange, StatusProvider};

/// The router of the whole API, with security headers, body limits and JSON errors for
/// unknown paths and methods.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The API's router with `extra` routes (the console) served next to it, under the same
/// security headers and body limit.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    auth::password::prepare();
    let settings = state.settings().clone();
    routes::table(&settings)
        .router
        .merge(extra)
        .fallback(|| async { ApiError::not_found("no such endpoint; see /api/v1/openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this endpoint")
        })
        .layer(DefaultBodyLimit::max(settings.max_json_bytes))
        .layer(from_fn_with_state(state.clone(), headers::security_headers))
        .with_state(state)
}

/// Every `(method, path)` the router serves, paths in axum's `{param}` form (the same as
/// OpenAPI's).
pub fn routes() -> Vec<(Method, &'static str)> {
    routes::table(&ApiSettings::default()).routes
}
