//! The SOC console: server-rendered HTML pages served by mamori itself on the API port, under
//! `/console/`.
//!
//! It works on the same [`mamori_api::AppState`] as the REST API and through the same rules:
//! sessions from the same store, the caller's tenant scope applied on the server to every page
//! and export, configuration changes through the same validated revisions, every action in
//! the same audit log. Pages are plain HTML forms; the little JavaScript there is only asks
//! for confirmation. Charts are SVG drawn on the server, so the Content-Security-Policy needs
//! no inline scripts or styles.
//!
//! Messages are Japanese by default, English on request (`/console/lang/en`), one catalogue
//! per language in `i18n/`.

mod i18n;
mod pages;
mod web;

use axum::Router;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::response::Redirect;
use axum::routing::get;
use mamori_api::AppState;

pub use i18n::Lang;

/// The console's routes, to merge into the API's router (`mamori_api::router_with`).
pub fn router(state: &AppState) -> Router<AppState> {
    pages::table()
        .router
        // A catch-all rather than a fallback, which the API's router already has.
        .route("/console/{*rest}", get(web::error::not_found))
        .layer(from_fn_with_state(state.clone(), web::headers::console_headers))
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
}

/// Every `(method, path)` the console serves, for the tests that check every form route
/// refuses a request without a CSRF token.
pub fn routes() -> Vec<(Method, &'static str)> {
    pages::table().routes
}
