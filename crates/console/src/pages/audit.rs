//! 監査ログ: every operator action (who, when, from where, what), searchable by text, actor,
//! action and time, and scoped like everything else: a municipality's administrator sees only
//! entries about its own tenant.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use mamori_api::AppState;
use mamori_api::blocking::blocking;
use mamori_store::AuditFilter;
use maud::html;

use crate::web::auth::Console;
use crate::web::error::PageError;
use crate::web::form::Fields;
use crate::web::layout::{notice, page};
use crate::web::time::{RANGES, range, show};

const LIMIT: usize = 500;

/// `GET /console/audit`.
pub async fn page_handler(State(state): State<AppState>, c: Console, RawQuery(q): RawQuery) -> Response {
    let f = Fields::parse(q.unwrap_or_default().as_bytes());
    let title = c.t("nav.audit");
    let r = match range(f.opt("last").as_deref(), f.opt("from").as_deref(), f.opt("to").as_deref(), "7d") {
        Ok(r) => r,
        Err(e) => return page(&c, title, "/console/audit", notice("error", &e)).into_response(),
    };
    let filter = AuditFilter {
        tenants: c.op.scope.as_filter(),
        since: Some(r.from),
        until: Some(r.to),
        actor: f.opt("actor"),
        action: f.opt("action"),
        text: f.opt("q"),
        limit: Some(LIMIT),
    };
    let store = state.store().clone();
    let entries = match blocking(move || Ok(store.audit_entries(&filter)?)).await {
        Ok(e) => e,
        Err(e) => return PageError::api(c.lang, e).into_response(),
    };
    let last = r.last.clone().unwrap_or_default();
    let body = html! {
        form.searchbar method="get" action="/console/audit" {
            input.q name="q" value=(f.get("q")) placeholder=(c.t("audit.text")) aria-label=(c.t("audit.text"));
            input name="actor" value=(f.get("actor")) placeholder=(c.t("audit.actor")) aria-label=(c.t("audit.actor"));
            input name="action" value=(f.get("action")) placeholder=(c.t("audit.action")) aria-label=(c.t("audit.action"));
            select name="last" aria-label=(c.t("search.range")) {
                @for x in RANGES { option value=(x) selected[last == *x] { (c.t("search.last")) " " (x) } }
            }
            button type="submit" { (c.t("search.submit")) }
        }
        p.meta { (entries.len()) " " (c.t("audit.entries")) @if entries.len() == LIMIT { " (" (c.t("audit.limited")) ")" } }
        table.list.audit #audit {
            thead { tr {
                th { (c.t("col.time")) } th { (c.t("audit.actor")) } th { (c.t("audit.from")) } th { (c.t("audit.action")) }
                th { (c.t("audit.target")) } th { (c.t("col.tenant")) } th { (c.t("audit.outcome")) } th { (c.t("audit.detail")) }
            } }
            tbody { @for e in &entries { tr {
                td.t { (show(e.at)) } td { (e.actor) } td { (e.source_ip.as_deref().unwrap_or("")) } td { code { (e.action) } }
                td { (e.target) } td { (e.tenant.as_deref().unwrap_or("")) }
                td class={ "outcome " (e.outcome) } { (e.outcome) }
                td.detail { code { (e.detail.to_string()) } }
            } } }
        }
    };
    page(&c, title, "/console/audit", body).into_response()
}
