//! テナント: the list and the detail of each tenant (networks, domains, contacts, network
//! model, retention). A tenant outside the caller's scope is "not found", like one that does
//! not exist, so ids in URLs reveal nothing.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use mamori_api::AppState;
use mamori_core::{NetworkModel, Tenant};
use mamori_store::Role;
use maud::html;

use crate::i18n::Lang;
use crate::web::auth::Console;
use crate::web::error::{PageError, PageResult};
use crate::web::layout::{notice, page};

/// The tenant if the caller may see it; 404 otherwise.
pub fn visible(state: &AppState, c: &Console, id: &str) -> PageResult<Tenant> {
    if !c.op.scope.allows(id) {
        return Err(PageError::not_found(c.lang));
    }
    state.current().config.tenant(id).cloned().ok_or_else(|| PageError::not_found(c.lang))
}

pub fn name(t: &Tenant, lang: Lang) -> &str {
    if lang == Lang::Ja { &t.name_ja } else { &t.name_en }
}

pub fn model_name(m: NetworkModel) -> &'static str {
    match m {
        NetworkModel::Alpha => "α",
        NetworkModel::AlphaPrime => "α'",
        NetworkModel::Beta => "β",
        NetworkModel::BetaPrime => "β'",
    }
}

/// Whether the caller may change something of a tenant: all of it (prefecture) or its
/// contacts (its own municipality).
pub fn may_edit(c: &Console) -> bool {
    matches!(c.role(), Role::PrefectureAdmin | Role::MunicipalAdmin)
}

/// `GET /console/tenants`.
pub async fn list(State(state): State<AppState>, c: Console) -> Response {
    let current = state.current();
    let body = html! {
        table.list #tenants {
            thead { tr { th { "ID" } th { (c.t("tenant.name")) } th { (c.t("tenant.model")) } th.num { (c.t("tenant.networks")) } th.num { (c.t("tenant.domains")) } } }
            tbody {
                @for t in current.config.tenants.iter().filter(|t| c.op.scope.allows(&t.id)) {
                    tr {
                        td { a href={ "/console/tenants/" (t.id) } { (t.id) } }
                        td { (name(t, c.lang)) }
                        td { (model_name(t.network_model)) }
                        td.num { (t.networks.len()) }
                        td.num { (t.domains.len()) }
                    }
                }
            }
        }
        p.meta { (c.t("tenant.revision")) " " (current.revision.map_or("-".to_owned(), |r| r.to_string())) }
    };
    page(&c, c.t("nav.tenants"), "/console/tenants", body).into_response()
}

/// `GET /console/tenants/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<Response> {
    let t = visible(&state, &c, &id)?;
    let defaults = state.current().config.logs;
    let saved = q.as_deref().and_then(|q| q.strip_prefix("saved=")).map(str::to_owned);
    let body = html! {
        @if let Some(n) = saved { (notice("ok", &format!("{} {n}", c.t("tenant.saved")))) }
        dl.kv #tenant {
            dt { "ID" } dd { (t.id) }
            dt { (c.t("tenant.name_ja")) } dd { (t.name_ja) }
            dt { (c.t("tenant.name_en")) } dd { (t.name_en) }
            dt { (c.t("tenant.model")) } dd { (model_name(t.network_model)) }
            dt { (c.t("tenant.networks")) } dd { @for n in &t.networks { code { (n) } " " } }
            dt { (c.t("tenant.domains")) } dd { @for d in &t.domains { code { (d) } " " } }
            dt { (c.t("tenant.hot_days")) } dd { (t.retention.hot_days.unwrap_or(defaults.hot_days)) @if t.retention.hot_days.is_none() { " (" (c.t("tenant.default")) ")" } }
            dt { (c.t("tenant.archive_years")) } dd { (t.retention.archive_years.unwrap_or(defaults.archive_years)) @if t.retention.archive_years.is_none() { " (" (c.t("tenant.default")) ")" } }
        }
        h2 { (c.t("tenant.contacts")) }
        table.list {
            thead { tr { th { (c.t("contact.name")) } th { (c.t("contact.role")) } th { (c.t("contact.email")) } th { (c.t("contact.phone")) } } }
            tbody { @for ct in &t.contacts { tr {
                td { (ct.name) } td { (ct.role.as_deref().unwrap_or("")) } td { (ct.email.as_deref().unwrap_or("")) } td { (ct.phone.as_deref().unwrap_or("")) }
            } } }
        }
        p.actions {
            @if may_edit(&c) { a.button href={ "/console/tenants/" (t.id) "/edit" } #edit { (c.t("tenant.edit")) } }
            @let q: String = form_urlencoded::Serializer::new(String::new()).append_pair("q", &format!("organization.id:\"{}\"", t.id)).finish();
            a href={ "/console/search?" (q) } { (c.t("tenant.search_logs")) }
            @if c.op.scope.is_all() { a href="/console/history" { (c.t("nav.history")) } }
        }
    };
    Ok(page(&c, &format!("{} ({})", name(&t, c.lang), t.id), "/console/tenants", body).into_response())
}
