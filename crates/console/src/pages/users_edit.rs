//! Creating and changing accounts, and resetting a second factor, with the same rules as the
//! API (`mamori_api::check_*`): a municipal_admin needs tenants that exist, the last active
//! prefecture_admin cannot be demoted, and every session of a changed user ends.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_api::auth::login::audit_tenant;
use mamori_api::auth::password;
use mamori_api::blocking::blocking;
use mamori_api::{ApiError, AppState, audit, check_tenants, check_username, other_active_admin, parse_role};
use mamori_store::password::hash_password;
use mamori_store::{NewUser, Role, StoreError, UserUpdate};
use serde_json::json;

use super::users::user_body;
use crate::web::error::{PageError, PageResult};
use crate::web::form::{Fields, Posted};
use crate::web::layout::page;

fn tenants(f: &Fields) -> Vec<String> {
    f.get("tenants").split([',', ' ', '\n']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

fn admin_only(p: &Posted) -> PageResult<()> {
    p.c.require(p.c.role() == Role::PrefectureAdmin)
}

/// `POST /console/users`.
pub async fn create(State(state): State<AppState>, p: Posted) -> PageResult<Response> {
    admin_only(&p)?;
    let Posted { c, f } = p;
    let username = f.get("username").trim().to_owned();
    let fail = |e: ApiError| PageError::api(c.lang, e);
    check_username(&username).map_err(fail)?;
    let role = parse_role(f.get("role")).map_err(fail)?;
    let list = if role == Role::MunicipalAdmin { tenants(&f) } else { Vec::new() };
    check_tenants(&state, role, &list).map_err(fail)?;
    let pw = f.get("password").to_owned();
    password::check_new(&pw, &username, state.settings().min_password_chars, "password").map_err(fail)?;
    let new = NewUser {
        display_name: f.opt("display_name").unwrap_or_else(|| username.clone()),
        username: username.clone(),
        role,
        tenants: list,
        password_hash: String::new(),
        totp_secret: None,
    };
    let store = state.store().clone();
    let slot = state.password_slot().await;
    let user = blocking(move || {
        let mut new = new;
        new.password_hash = hash_password(&pw);
        match store.create_user(new) {
            Err(StoreError::Conflict(_)) => {
                Err(ApiError::conflict(format!("a user named '{username}' already exists")))
            }
            other => Ok(other?),
        }
    })
    .await
    .map_err(fail)?;
    drop(slot);
    let detail = json!({"role": user.role, "tenants": user.tenants, "via": "console"});
    audit::record(&state, c.op.audit("user.create", &user.username, audit_tenant(&user), "success", detail)).await;
    Ok(Redirect::to(&format!("/console/users/{}?done=created", user.id)).into_response())
}

/// `POST /console/users/{id}`.
pub async fn update(State(state): State<AppState>, Path(id): Path<String>, p: Posted) -> PageResult<Response> {
    admin_only(&p)?;
    let Posted { c, f } = p;
    let fail = |e: ApiError| PageError::api(c.lang, e);
    let store = state.store().clone();
    let lookup = id.clone();
    let existing = blocking(move || Ok(store.user_by_id(&lookup)?))
        .await
        .map_err(fail)?
        .ok_or_else(|| PageError::not_found(c.lang))?;
    let role = parse_role(f.get("role")).map_err(fail)?;
    let list = if role == Role::MunicipalAdmin { tenants(&f) } else { Vec::new() };
    let disabled = f.has("disabled");
    let new_password = f.opt("password");
    let error = |msg: String| {
        page(&c, &existing.username, "/console/users", user_body(&c, &existing, None, Some(&msg))).into_response()
    };
    if let Err(e) = check_tenants(&state, role, &list) {
        return Ok((e.status, error(e.message.clone())).into_response());
    }
    if let Some(pw) = &new_password
        && let Err(e) = password::check_new(pw, &existing.username, state.settings().min_password_chars, "password")
    {
        return Ok((e.status, error(e.message.clone())).into_response());
    }
    let display = f.opt("display_name").unwrap_or_else(|| existing.display_name.clone());
    let mut changed = Vec::new();
    if display != existing.display_name {
        changed.push("display_name");
    }
    if role != existing.role {
        changed.push("role");
    }
    if list != existing.tenants {
        changed.push("tenants");
    }
    if disabled != existing.disabled {
        changed.push("disabled");
    }
    if new_password.is_some() {
        changed.push("password");
    }
    let ends_sessions = changed.iter().any(|c| *c != "display_name");
    let demotes =
        existing.role == Role::PrefectureAdmin && !existing.disabled && (role != Role::PrefectureAdmin || disabled);
    let store = state.store().clone();
    let existing_id = existing.id.clone();
    let slot = state.password_slot().await;
    let result = blocking(move || {
        if demotes && !other_active_admin(&*store, &existing_id)? {
            return Err(ApiError::conflict(
                "this would leave no active prefecture_admin; create or enable another one first",
            ));
        }
        let update = UserUpdate {
            display_name: Some(display),
            role: Some(role),
            tenants: Some(list),
            disabled: Some(disabled),
            password_hash: new_password.as_deref().map(hash_password),
            totp_secret: None,
        };
        let user = store.update_user(&existing_id, update)?;
        if ends_sessions {
            store.delete_user_sessions(&user.id)?;
        }
        Ok(user)
    })
    .await;
    drop(slot);
    let user = match result {
        Ok(u) => u,
        Err(e) if e.status.as_u16() == 409 => return Ok((e.status, error(e.message.clone())).into_response()),
        Err(e) => return Err(fail(e)),
    };
    let detail = json!({"changed": changed, "role": user.role, "tenants": user.tenants, "disabled": user.disabled, "via": "console"});
    audit::record(&state, c.op.audit("user.update", &user.username, audit_tenant(&user), "success", detail)).await;
    Ok(Redirect::to(&format!("/console/users/{}?done=updated", user.id)).into_response())
}

/// `POST /console/users/{id}/reset-2fa`: the user enrols again at the next login.
pub async fn reset_two_factor(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> PageResult<Response> {
    admin_only(&p)?;
    let c = p.c;
    let store = state.store().clone();
    let user = blocking(move || {
        let user = store.update_user(&id, UserUpdate { totp_secret: Some(None), ..Default::default() })?;
        store.delete_user_sessions(&user.id)?;
        Ok(user)
    })
    .await
    .map_err(|e| PageError::api(c.lang, e))?;
    audit::record(
        &state,
        c.op.audit("user.totp_reset", &user.username, audit_tenant(&user), "success", json!({"via": "console"})),
    )
    .await;
    Ok(Redirect::to(&format!("/console/users/{}?done=reset", user.id)).into_response())
}
