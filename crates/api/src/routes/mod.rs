//! Every endpoint of the API, registered through one table so that the list of routes the
//! router serves is also available to check the OpenAPI document against.

mod audit;
mod auth;
mod config;
mod health;
mod ingest;
mod mail;
mod search;
mod tenant_web;
mod tenants;
mod tokens;
pub(crate) mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};

use crate::settings::ApiSettings;
use crate::state::AppState;

/// The routes and the list of `(method, path)` they serve.
pub(crate) struct Table {
    pub router: Router<AppState>,
    pub routes: Vec<(Method, &'static str)>,
}

impl Table {
    fn add(mut self, method: Method, path: &'static str, mr: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, mr);
        self.routes.push((method, path));
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::GET, path, get(h))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::POST, path, post(h))
    }

    fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::PUT, path, put(h))
    }

    fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::PATCH, path, patch(h))
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::DELETE, path, delete(h))
    }
}

/// Builds the table. Ingestion gets the large body limit; every other route keeps the small
/// default set on the whole router.
pub(crate) fn table(settings: &ApiSettings) -> Table {
    let t = Table { router: Router::new(), routes: Vec::new() };
    let ingest_limit = DefaultBodyLimit::max(settings.max_body_bytes);
    t.get("/api/v1/health", health::health)
        .get("/api/v1/status", health::status)
        .get("/metrics", health::metrics)
        .get("/api/v1/openapi.json", health::openapi)
        .post("/api/v1/login", auth::login)
        .post("/api/v1/logout", auth::logout)
        .get("/api/v1/me", auth::me)
        .post("/api/v1/me/password", auth::change_password)
        .add(Method::POST, "/api/v1/ingest", post(ingest::ingest).layer(ingest_limit))
        .post("/api/v1/search", search::post)
        .get("/api/v1/search", search::get)
        .get("/api/v1/tenants", tenants::list)
        .post("/api/v1/tenants", tenants::create)
        .get("/api/v1/tenants/{id}", tenants::get_one)
        .put("/api/v1/tenants/{id}", tenants::replace)
        .delete("/api/v1/tenants/{id}", tenants::remove)
        .patch("/api/v1/tenants/{id}/contacts", tenants::set_contacts)
        .get("/api/v1/tenants/{id}/web", tenant_web::get)
        .put("/api/v1/tenants/{id}/web", tenant_web::put)
        .get("/api/v1/config", config::current)
        .put("/api/v1/config", config::replace)
        .get("/api/v1/config/revisions", config::revisions)
        .get("/api/v1/config/revisions/{number}", config::revision)
        .get("/api/v1/config/diff", config::diff)
        .post("/api/v1/config/rollback", config::rollback)
        .get("/api/v1/users", users::list)
        .post("/api/v1/users", users::create)
        .patch("/api/v1/users/{id}", users::update)
        .get("/api/v1/tokens", tokens::list)
        .post("/api/v1/tokens", tokens::create)
        .delete("/api/v1/tokens/{id}", tokens::revoke)
        .get("/api/v1/audit", audit::list)
        .get("/api/v1/mail/quarantine", mail::list)
        .get("/api/v1/mail/quarantine/{id}", mail::get_one)
        .delete("/api/v1/mail/quarantine/{id}", mail::delete)
        .post("/api/v1/mail/quarantine/{id}/release", mail::release)
}
