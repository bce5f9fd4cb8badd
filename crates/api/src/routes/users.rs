//! Operator accounts: listing, creating and changing them (prefecture administrators).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mamori_store::password::hash_password;
use mamori_store::{ControlStore, NewUser, Role, StoreError, User, UserUpdate};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit;
use crate::auth::{Operator, password};
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

/// A user as the API shows it: never a password hash or TOTP secret.
pub(crate) fn user_view(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "tenants": u.tenants,
        "disabled": u.disabled,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
    })
}

/// The tenant an audit entry about this user belongs to, so a municipality's administrators
/// can read what happened to their own accounts.
pub(crate) fn audit_tenant(u: &User) -> Option<String> {
    crate::auth::login::audit_tenant(u)
}

/// `GET /api/v1/users`.
pub async fn list(State(state): State<AppState>, op: Operator) -> ApiResult<Json<Value>> {
    op.require_user_read()?;
    let store = state.store().clone();
    let users = blocking(move || Ok(store.users()?)).await?;
    Ok(Json(json!({"users": users.iter().map(user_view).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    username: String,
    #[serde(default)]
    display_name: Option<String>,
    role: String,
    #[serde(default)]
    tenants: Vec<String>,
    password: String,
}

/// `POST /api/v1/users`.
pub async fn create(
    State(state): State<AppState>,
    op: Operator,
    JsonBody(body): JsonBody<CreateUser>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    op.require_user_admin()?;
    check_username(&body.username)?;
    let role = parse_role(&body.role)?;
    check_tenants(&state, role, &body.tenants)?;
    password::check_new(&body.password, &body.username, state.settings().min_password_chars, "password")?;
    let store = state.store().clone();
    let new = NewUser {
        display_name: body.display_name.filter(|d| !d.trim().is_empty()).unwrap_or_else(|| body.username.clone()),
        username: body.username,
        role,
        tenants: body.tenants,
        password_hash: String::new(),
        totp_secret: None,
    };
    let name = new.username.clone();
    let _slot = state.password_slot().await;
    let user = blocking(move || {
        let mut new = new;
        new.password_hash = hash_password(&body.password);
        match store.create_user(new) {
            Err(StoreError::Conflict(_)) => {
                Err(ApiError::conflict(format!("a user named '{name}' already exists")).with_field("username"))
            }
            other => Ok(other?),
        }
    })
    .await?;
    let detail = json!({"role": user.role, "tenants": user.tenants});
    let entry = op.audit("user.create", &user.username, audit_tenant(&user), "success", detail);
    audit::record(&state, entry).await;
    Ok((StatusCode::CREATED, Json(json!({"user": user_view(&user)}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    tenants: Option<Vec<String>>,
    #[serde(default)]
    disabled: Option<bool>,
    /// A password reset by an administrator.
    #[serde(default)]
    password: Option<String>,
}

/// `PATCH /api/v1/users/{id}`: role, tenants, disabling, display name, password reset. Every
/// session of the user ends when anything but the display name changes, so a demoted or
/// disabled user loses access at once.
pub async fn update(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateUser>,
) -> ApiResult<Json<Value>> {
    op.require_user_admin()?;
    let store = state.store().clone();
    let lookup = id.clone();
    let existing = blocking(move || Ok(store.user_by_id(&lookup)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no user with id '{id}'")))?;
    let role = body.role.as_deref().map(parse_role).transpose()?;
    let new_role = role.unwrap_or(existing.role);
    let new_tenants = body.tenants.clone().unwrap_or_else(|| existing.tenants.clone());
    if role.is_some() || body.tenants.is_some() {
        check_tenants(&state, new_role, &new_tenants)?;
    }
    if let Some(p) = &body.password {
        password::check_new(p, &existing.username, state.settings().min_password_chars, "password")?;
    }
    let mut changed: Vec<&str> = Vec::new();
    for (name, set) in [
        ("display_name", body.display_name.is_some()),
        ("role", body.role.is_some()),
        ("tenants", body.tenants.is_some()),
        ("disabled", body.disabled.is_some()),
        ("password", body.password.is_some()),
    ] {
        if set {
            changed.push(name);
        }
    }
    let ends_sessions = changed.iter().any(|c| *c != "display_name");
    let demotes = existing.role == Role::PrefectureAdmin
        && !existing.disabled
        && (new_role != Role::PrefectureAdmin || body.disabled == Some(true));
    let store = state.store().clone();
    let _slot = state.password_slot().await;
    let user = blocking(move || {
        if demotes && !other_active_admin(&*store, &existing.id)? {
            return Err(ApiError::conflict(
                "this would leave no active prefecture_admin; create or enable another one first",
            ));
        }
        let update = UserUpdate {
            display_name: body.display_name,
            role,
            tenants: body.tenants,
            disabled: body.disabled,
            password_hash: body.password.as_deref().map(hash_password),
            totp_secret: None,
        };
        let user = store.update_user(&existing.id, update)?;
        if ends_sessions {
            store.delete_user_sessions(&user.id)?;
        }
        Ok(user)
    })
    .await?;
    let detail = json!({"changed": changed, "role": user.role, "tenants": user.tenants, "disabled": user.disabled});
    let entry = op.audit("user.update", &user.username, audit_tenant(&user), "success", detail);
    audit::record(&state, entry).await;
    Ok(Json(json!({"user": user_view(&user)})))
}

pub fn other_active_admin(store: &dyn ControlStore, except: &str) -> ApiResult<bool> {
    Ok(store.users()?.iter().any(|u| u.id != except && u.role == Role::PrefectureAdmin && !u.disabled))
}

pub fn parse_role(s: &str) -> ApiResult<Role> {
    s.parse::<Role>().map_err(|e| ApiError::field("role", e.to_string()))
}

/// Usernames appear in URLs, logs and the audit log: keep them to a safe alphabet.
pub fn check_username(name: &str) -> ApiResult<()> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::field("username", "a username is 1-64 characters of a-z, A-Z, 0-9, '.', '_', '-' or '@'"))
    }
}

/// A municipal administrator needs tenants, and every tenant named must exist.
pub fn check_tenants(state: &AppState, role: Role, tenants: &[String]) -> ApiResult<()> {
    if role == Role::MunicipalAdmin && tenants.is_empty() {
        return Err(ApiError::field("tenants", "a municipal_admin needs at least one tenant"));
    }
    let current = state.current();
    if let Some(i) = tenants.iter().position(|t| current.config.tenant(t).is_none()) {
        return Err(ApiError::field(format!("tenants[{i}]"), format!("there is no tenant '{}'", tenants[i])));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(check_username("taro.yamada@midori").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username("田中").is_err());
    }

    #[test]
    fn roles_name_the_field() {
        let e = parse_role("admin").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("role"));
        assert!(e.message.contains("prefecture_admin"));
    }
}
