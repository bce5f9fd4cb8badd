//! 設定変更履歴: every configuration revision with author, reason and diff, and rollback with
//! a reason (itself a new revision). Revisions hold every tenant's configuration, so these
//! pages need a role that sees all tenants.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_api::blocking::blocking;
use mamori_api::{AppState, change};
use mamori_store::Role;
use maud::{Markup, html};

use crate::web::auth::Console;
use crate::web::error::{PageError, PageResult};
use crate::web::form::{Fields, Posted};
use crate::web::layout::{csrf, notice, page};
use crate::web::time::show;

const PAGE: usize = 100;

/// `GET /console/history`.
pub async fn list(State(state): State<AppState>, c: Console, RawQuery(q): RawQuery) -> PageResult<Response> {
    c.require_all_tenants()?;
    let before = Fields::parse(q.unwrap_or_default().as_bytes()).opt("before").and_then(|b| b.parse::<i64>().ok());
    let st = state.clone();
    let list = blocking(move || Ok(st.config_service().history(PAGE, before)?))
        .await
        .map_err(|e| PageError::api(c.lang, e))?;
    let body = html! {
        table.list #revisions {
            thead { tr { th.num { "#" } th { (c.t("history.at")) } th { (c.t("history.author")) } th { (c.t("history.source")) } th { (c.t("form.reason")) } } }
            tbody { @for r in &list { tr {
                td.num { a href={ "/console/history/" (r.number) } { (r.number) } }
                td { (show(r.created_at)) } td { (r.author) } td { (r.source) } td.reason { (r.reason) }
            } } }
        }
        @if list.len() == PAGE { @if let Some(last) = list.last() {
            p { a href={ "/console/history?before=" (last.number) } { (c.t("history.older")) } }
        } }
    };
    Ok(page(&c, c.t("nav.history"), "/console/history", body).into_response())
}

fn diff(text: &str) -> Markup {
    html! {
        pre.diff { @for line in text.lines() {
            @let class = if line.starts_with('+') { "add" } else if line.starts_with('-') { "del" } else { "ctx" };
            span class=(class) { (line) } "\n"
        } }
    }
}

/// `GET /console/history/{number}`.
pub async fn detail(
    State(state): State<AppState>,
    c: Console,
    Path(number): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<Response> {
    c.require_all_tenants()?;
    let n: i64 = number.parse().map_err(|_| PageError::not_found(c.lang))?;
    let st = state.clone();
    let r = blocking(move || Ok(st.config_service().revision(n)?)).await.map_err(|e| PageError::api(c.lang, e))?;
    let current = state.current().revision;
    let rolled = q.as_deref().and_then(|q| q.strip_prefix("rolled_back=")).map(str::to_owned);
    let body = html! {
        @if let Some(to) = rolled { (notice("ok", &format!("{} #{to}", c.t("history.rolled_back")))) }
        dl.kv #revision {
            dt { (c.t("history.at")) } dd { (show(r.created_at)) }
            dt { (c.t("history.author")) } dd { (r.author) }
            dt { (c.t("history.source")) } dd { (r.source) }
            dt { (c.t("form.reason")) } dd.reason { (r.reason) }
            dt { (c.t("history.parent")) } dd { (r.parent.map_or("-".to_owned(), |p| p.to_string())) }
        }
        h2 { (c.t("history.diff")) }
        @if r.diff.trim().is_empty() { p.empty { (c.t("history.no_diff")) } } @else { (diff(&r.diff)) }
        @if c.role() == Role::PrefectureAdmin && current != Some(r.number) {
            h2 { (c.t("history.rollback")) }
            form.stack method="post" action={ "/console/history/" (r.number) "/rollback" } data-confirm=(c.t("history.confirm")) {
                (csrf(&c.csrf))
                label { (c.t("form.reason")) input name="reason" required; }
                button.danger type="submit" { (c.t("history.rollback_to")) " #" (r.number) }
            }
        }
    };
    Ok(page(&c, &format!("{} #{}", c.t("history.revision"), r.number), "/console/history", body).into_response())
}

/// `POST /console/history/{number}/rollback`.
pub async fn rollback(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Posted { c, f }: Posted,
) -> PageResult<Response> {
    c.require_all_tenants()?;
    c.require(c.role() == Role::PrefectureAdmin)?;
    let n: i64 = number.parse().map_err(|_| PageError::not_found(c.lang))?;
    let reason = f.get("reason").trim().to_owned();
    let r = change::rollback(&state, &c.op, n, reason).await.map_err(|e| PageError::api(c.lang, e))?;
    Ok(Redirect::to(&format!("/console/history/{}?rolled_back={n}", r.number)).into_response())
}
