//! A tenant's web-filter policy (its own block and allow lists, categories, allow-only mode,
//! trusted proxies, helpdesk). A municipality changes its own; every change is a revision.

use axum::Json;
use axum::extract::{Path, State};
use mamori_core::web::WebPolicy;
use mamori_store::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Operator;
use crate::change::{ChangeMeta, apply_change, revision_view};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

fn visible(state: &AppState, op: &Operator, id: &str) -> ApiResult<()> {
    if !op.scope.allows(id) || state.current().config.tenant(id).is_none() {
        return Err(ApiError::not_found(format!("there is no tenant '{id}'")));
    }
    Ok(())
}

/// `GET /api/v1/tenants/{id}/web`: the tenant's own policy and the common one it adds to.
pub async fn get(State(state): State<AppState>, op: Operator, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    visible(&state, &op, &id)?;
    let current = state.current();
    let web = &current.config.web;
    Ok(Json(json!({
        "revision": current.revision,
        "tenant": id,
        "policy": web.tenants.get(&id).cloned().unwrap_or_default(),
        "common": web.common,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebChange {
    policy: WebPolicy,
    reason: String,
    #[serde(default)]
    expected_revision: Option<i64>,
}

/// `PUT /api/v1/tenants/{id}/web`.
pub async fn put(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WebChange>,
) -> ApiResult<Json<Value>> {
    visible(&state, &op, &id)?;
    if !matches!(op.role(), Role::PrefectureAdmin | Role::MunicipalAdmin) {
        return Err(ApiError::forbidden(format!(
            "changing a web policy needs the prefecture_admin or municipal_admin role (you are {})",
            op.role()
        )));
    }
    let meta = ChangeMeta {
        action: "tenant.web",
        target: format!("tenant:{id}"),
        tenant: Some(id.clone()),
        reason: body.reason,
        expected_revision: body.expected_revision,
        visible_path: (!op.scope.is_all()).then(|| format!("web.tenants.{id}")),
    };
    let (target, policy) = (id.clone(), body.policy.clone());
    let revision = apply_change(&state, &op, meta, move |config| {
        if policy == WebPolicy::default() {
            config.web.tenants.remove(&target);
        } else {
            config.web.tenants.insert(target, policy);
        }
        Ok(())
    })
    .await?;
    let mut view = revision_view(&revision);
    view["policy"] = json!(body.policy);
    if !op.scope.is_all() {
        view["diff"] = Value::Null;
    }
    Ok(Json(view))
}
