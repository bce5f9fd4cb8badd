//! Tenants (member municipalities). Reading is scoped: a tenant outside the caller's scope is
//! answered exactly like one that does not exist. Changes become configuration revisions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mamori_core::Tenant;
use mamori_core::tenant::Contact;
use mamori_store::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Operator;
use crate::change::{ChangeMeta, apply_change, revision_view};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryParams};
use crate::state::AppState;

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("there is no tenant '{id}'"))
}

/// The tenant if it exists and the caller may see it; otherwise 404 either way.
fn visible(state: &AppState, op: &Operator, id: &str) -> ApiResult<Tenant> {
    if !op.scope.allows(id) {
        return Err(not_found(id));
    }
    state.current().config.tenant(id).cloned().ok_or_else(|| not_found(id))
}

/// `GET /api/v1/tenants`.
pub async fn list(State(state): State<AppState>, op: Operator) -> Json<Value> {
    let current = state.current();
    let tenants: Vec<&Tenant> = current.config.tenants.iter().filter(|t| op.scope.allows(&t.id)).collect();
    Json(json!({"revision": current.revision, "tenants": tenants}))
}

/// `GET /api/v1/tenants/{id}`.
pub async fn get_one(State(state): State<AppState>, op: Operator, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let tenant = visible(&state, &op, &id)?;
    Ok(Json(json!({"revision": state.current().revision, "tenant": tenant})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantChange {
    tenant: Tenant,
    reason: String,
    #[serde(default)]
    expected_revision: Option<i64>,
}

/// `POST /api/v1/tenants`.
pub async fn create(
    State(state): State<AppState>,
    op: Operator,
    JsonBody(body): JsonBody<TenantChange>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    op.require_config_change()?;
    let tenant = body.tenant;
    let id = tenant.id.clone();
    let meta = meta("tenant.create", &id, body.reason, body.expected_revision);
    let t = tenant.clone();
    let revision = apply_change(&state, &op, meta, move |config| {
        if config.tenant(&t.id).is_some() {
            return Err(ApiError::conflict(format!("a tenant '{}' already exists", t.id)).with_field("tenant.id"));
        }
        config.tenants.push(t);
        Ok(())
    })
    .await?;
    let mut view = revision_view(&revision);
    view["tenant"] = json!(tenant);
    Ok((StatusCode::CREATED, Json(view)))
}

/// `PUT /api/v1/tenants/{id}`: replaces the whole tenant. The id cannot change.
pub async fn replace(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<TenantChange>,
) -> ApiResult<Json<Value>> {
    visible(&state, &op, &id)?;
    op.require_config_change()?;
    if body.tenant.id != id {
        return Err(ApiError::field(
            "tenant.id",
            format!("the tenant id must stay '{id}'; create a new tenant to use another id"),
        ));
    }
    let tenant = body.tenant;
    let meta = meta("tenant.replace", &id, body.reason, body.expected_revision);
    let t = tenant.clone();
    let revision = apply_change(&state, &op, meta, move |config| {
        let slot = config.tenants.iter_mut().find(|x| x.id == t.id).ok_or_else(|| not_found(&t.id))?;
        *slot = t;
        Ok(())
    })
    .await?;
    let mut view = revision_view(&revision);
    view["tenant"] = json!(tenant);
    Ok(Json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    reason: String,
    #[serde(default)]
    expected_revision: Option<i64>,
}

/// `DELETE /api/v1/tenants/{id}?reason=...`. The reason is a query parameter because not every
/// client sends a body with DELETE. Log senders still pointing at the tenant make the change
/// invalid (422), so nothing is left dangling.
pub async fn remove(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<DeleteQuery>,
) -> ApiResult<Json<Value>> {
    visible(&state, &op, &id)?;
    op.require_config_change()?;
    let meta = meta("tenant.delete", &id, q.reason, q.expected_revision);
    let target = id.clone();
    let revision = apply_change(&state, &op, meta, move |config| {
        let before = config.tenants.len();
        config.tenants.retain(|t| t.id != target);
        if config.tenants.len() == before {
            return Err(not_found(&target));
        }
        Ok(())
    })
    .await?;
    Ok(Json(revision_view(&revision)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactsChange {
    contacts: Vec<Contact>,
    reason: String,
    #[serde(default)]
    expected_revision: Option<i64>,
}

/// `PATCH /api/v1/tenants/{id}/contacts`: the one change a municipality makes itself.
pub async fn set_contacts(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ContactsChange>,
) -> ApiResult<Json<Value>> {
    visible(&state, &op, &id)?;
    if !matches!(op.role(), Role::PrefectureAdmin | Role::MunicipalAdmin) {
        return Err(ApiError::forbidden(format!(
            "changing contacts needs the prefecture_admin or municipal_admin role (you are {})",
            op.role()
        )));
    }
    let mut meta = meta("tenant.contacts", &id, body.reason, body.expected_revision);
    if !op.scope.is_all() {
        let index = state.current().config.tenants.iter().position(|t| t.id == id);
        meta.visible_path = index.map(|i| format!("tenants[{i}]"));
    }
    let (target, contacts) = (id.clone(), body.contacts.clone());
    let revision = apply_change(&state, &op, meta, move |config| {
        let tenant = config.tenants.iter_mut().find(|t| t.id == target).ok_or_else(|| not_found(&target))?;
        tenant.contacts = contacts;
        Ok(())
    })
    .await?;
    let mut view = revision_view(&revision);
    view["contacts"] = json!(body.contacts);
    if !op.scope.is_all() {
        // The diff of a revision spans the whole configuration; show a municipality only what
        // it changed.
        view["diff"] = Value::Null;
    }
    Ok(Json(view))
}

fn meta(action: &'static str, id: &str, reason: String, expected: Option<i64>) -> ChangeMeta {
    ChangeMeta {
        action,
        target: format!("tenant:{id}"),
        tenant: Some(id.to_owned()),
        reason,
        expected_revision: expected,
        visible_path: None,
    }
}
