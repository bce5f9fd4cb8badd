//! ユーザーと権限: accounts, their roles, tenants and second factor. The prefecture's
//! administrators manage them; auditors read them.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use mamori_api::AppState;
use mamori_api::blocking::blocking;
use mamori_store::{Role, User};
use maud::{Markup, html};

use crate::web::auth::Console;
use crate::web::error::{PageError, PageResult};
use crate::web::layout::{csrf, notice, page, role_key};
use crate::web::time::show;

pub fn may_read(c: &Console) -> bool {
    matches!(c.role(), Role::PrefectureAdmin | Role::Auditor)
}

pub async fn load_users(state: &AppState, c: &Console) -> PageResult<Vec<User>> {
    let store = state.store().clone();
    blocking(move || Ok(store.users()?)).await.map_err(|e| PageError::api(c.lang, e))
}

pub fn role_select(c: &Console, selected: Option<Role>) -> Markup {
    html! {
        select name="role" {
            @for r in Role::ALL { option value=(r.as_str()) selected[selected == Some(r)] { (c.t(role_key(r))) } }
        }
    }
}

fn yes_no(c: &Console, v: bool) -> &'static str {
    if v { c.t("common.yes") } else { c.t("common.no") }
}

/// A one-word message from the query (`?done=...`) after a change.
pub fn done_notice(c: &Console, q: Option<&str>) -> Option<Markup> {
    let key = match q?.strip_prefix("done=")? {
        "created" => "users.created",
        "updated" => "users.updated",
        "reset" => "users.reset_done",
        _ => return None,
    };
    Some(notice("ok", c.t(key)))
}

/// `GET /console/users`.
pub async fn list(State(state): State<AppState>, c: Console, RawQuery(q): RawQuery) -> PageResult<Response> {
    c.require(may_read(&c))?;
    let users = load_users(&state, &c).await?;
    let admin = c.role() == Role::PrefectureAdmin;
    let body = html! {
        @if let Some(n) = done_notice(&c, q.as_deref()) { (n) }
        table.list #users {
            thead { tr { th { (c.t("users.username")) } th { (c.t("users.display_name")) } th { (c.t("users.role")) } th { (c.t("users.tenants")) } th { (c.t("users.two_factor")) } th { (c.t("users.disabled")) } } }
            tbody { @for u in &users { tr {
                td { a href={ "/console/users/" (u.id) } { (u.username) } }
                td { (u.display_name) } td { (c.t(role_key(u.role))) } td { (u.tenants.join(", ")) }
                td { (yes_no(&c, u.totp_secret.is_some())) } td { (yes_no(&c, u.disabled)) }
            } } }
        }
        @if admin {
            h2 { (c.t("users.new")) }
            form.stack.edit method="post" action="/console/users" {
                (csrf(&c.csrf))
                label { (c.t("users.username")) input name="username" required; }
                label { (c.t("users.display_name")) input name="display_name"; }
                label { (c.t("users.role")) (role_select(&c, Some(Role::MunicipalAdmin))) }
                label { (c.t("users.tenants")) " " small { (c.t("form.comma")) } input name="tenants"; }
                label { (c.t("users.password")) input name="password" type="password" autocomplete="new-password" minlength="12" required; }
                button type="submit" { (c.t("users.create")) }
            }
        }
    };
    Ok(page(&c, c.t("nav.users"), "/console/users", body).into_response())
}

/// `GET /console/users/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<Response> {
    c.require(may_read(&c))?;
    let store = state.store().clone();
    let lookup = id.clone();
    let u = blocking(move || Ok(store.user_by_id(&lookup)?))
        .await
        .map_err(|e| PageError::api(c.lang, e))?
        .ok_or_else(|| PageError::not_found(c.lang))?;
    Ok(page(&c, &u.username, "/console/users", user_body(&c, &u, q.as_deref(), None)).into_response())
}

pub fn user_body(c: &Console, u: &User, q: Option<&str>, error: Option<&str>) -> Markup {
    let admin = c.role() == Role::PrefectureAdmin;
    html! {
        @if let Some(n) = done_notice(c, q) { (n) }
        @if let Some(e) = error { (notice("error", e)) }
        dl.kv #user {
            dt { (c.t("users.username")) } dd { (u.username) }
            dt { (c.t("users.display_name")) } dd { (u.display_name) }
            dt { (c.t("users.role")) } dd { (c.t(role_key(u.role))) }
            dt { (c.t("users.tenants")) } dd { (u.tenants.join(", ")) }
            dt { (c.t("users.two_factor")) } dd { (yes_no(c, u.totp_secret.is_some())) }
            dt { (c.t("users.disabled")) } dd { (yes_no(c, u.disabled)) }
            dt { (c.t("users.created_at")) } dd { (show(u.created_at)) }
        }
        @if admin {
            h2 { (c.t("users.change")) }
            form.stack.edit method="post" action={ "/console/users/" (u.id) } {
                (csrf(&c.csrf))
                label { (c.t("users.display_name")) input name="display_name" value=(u.display_name); }
                label { (c.t("users.role")) (role_select(c, Some(u.role))) }
                label { (c.t("users.tenants")) " " small { (c.t("form.comma")) } input name="tenants" value=(u.tenants.join(", ")); }
                label.check { input type="checkbox" name="disabled" value="1" checked[u.disabled]; (c.t("users.disabled")) }
                label { (c.t("users.new_password")) " " small { (c.t("form.empty_keep")) } input name="password" type="password" autocomplete="new-password"; }
                button type="submit" { (c.t("form.save")) }
            }
            @if u.totp_secret.is_some() {
                h2 { (c.t("users.reset_2fa")) }
                form.stack method="post" action={ "/console/users/" (u.id) "/reset-2fa" } data-confirm=(c.t("users.reset_confirm")) {
                    (csrf(&c.csrf))
                    p { (c.t("users.reset_explain")) }
                    button.danger type="submit" { (c.t("users.reset_2fa")) }
                }
            }
        }
    }
}
