//! Every page of the console, registered through one table so that the tests can walk every
//! form route (each must refuse a post without the CSRF token).

mod account;
mod audit;
mod dashboard;
mod export;
mod history;
mod login;
mod search;
mod tenant_edit;
mod tenants;
mod users;
mod users_edit;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{get, post};
use mamori_api::AppState;

use crate::web::assets;

pub(crate) struct Table {
    pub router: Router<AppState>,
    pub routes: Vec<(Method, &'static str)>,
}

impl Table {
    fn get<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        self.router = self.router.route(path, get(h));
        self.routes.push((Method::GET, path));
        self
    }

    fn post<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, h: H) -> Self {
        self.router = self.router.route(path, post(h));
        self.routes.push((Method::POST, path));
        self
    }
}

pub(crate) fn table() -> Table {
    let t = Table { router: Router::new(), routes: Vec::new() };
    // Paths with both methods are registered once per method: axum merges them.
    t.get("/console/static/{file}", assets::file)
        .get("/console/lang/{code}", account::language)
        .get("/console/login", login::form)
        .post("/console/login", login::submit)
        .get("/console/login/second", login::second_form)
        .post("/console/login/second", login::second_submit)
        .post("/console/logout", login::logout)
        .get("/console/account", account::form)
        .post("/console/account/password", account::change_password)
        .get("/console/", dashboard::view)
        .get("/console/search", search::view)
        .get("/console/search/export.csv", export::csv)
        .get("/console/search/export.ndjson", export::ndjson)
        .get("/console/tenants", tenants::list)
        .get("/console/tenants/{id}", tenants::detail)
        .get("/console/tenants/{id}/edit", tenant_edit::form_page)
        .post("/console/tenants/{id}", tenant_edit::submit)
        .get("/console/history", history::list)
        .get("/console/history/{number}", history::detail)
        .post("/console/history/{number}/rollback", history::rollback)
        .get("/console/users", users::list)
        .post("/console/users", users_edit::create)
        .get("/console/users/{id}", users::detail)
        .post("/console/users/{id}", users_edit::update)
        .post("/console/users/{id}/reset-2fa", users_edit::reset_two_factor)
        .get("/console/audit", audit::page_handler)
}
