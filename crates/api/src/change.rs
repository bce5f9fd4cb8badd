//! Changing the managed configuration through the API: read the latest revision, edit a
//! copy, validate and record it as a new revision, put it in force, audit it. A change that
//! fails validation or loses a race is refused and nothing is applied.

use mamori_core::ManagedConfig;
use mamori_core::config::Problem;
use mamori_store::{Revision, RevisionSummary};
use serde_json::{Value, json};

use crate::audit;
use crate::auth::Operator;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a change is, for the audit log and for the caller's view of problems.
pub struct ChangeMeta {
    /// Audit action, e.g. `tenant.create`.
    pub action: &'static str,
    pub target: String,
    pub tenant: Option<String>,
    pub reason: String,
    /// The revision the editor started from; a change on top of another one is refused.
    pub expected_revision: Option<i64>,
    /// For callers who see only one tenant: the path (`tenants[3]`) whose problems they may
    /// read. Problems elsewhere name other tenants and are summarised instead.
    pub visible_path: Option<String>,
}

/// The revision as the API returns it after a change.
pub fn revision_view(r: &Revision) -> Value {
    json!({"revision": RevisionSummary::from(r), "diff": r.diff})
}

/// Applies `edit` to the latest configuration and records the result.
pub async fn apply_change<F>(state: &AppState, op: &Operator, meta: ChangeMeta, edit: F) -> ApiResult<Revision>
where
    F: FnOnce(&mut ManagedConfig) -> ApiResult<()> + Send + 'static,
{
    if meta.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "a change needs a reason (it goes into the history)"));
    }
    let _guard = state.change_lock().lock().await;
    let st = state.clone();
    let author = op.user.username.clone();
    let (reason, expected) = (meta.reason.clone(), meta.expected_revision);
    let result = blocking(move || {
        let service = st.config_service();
        let (base, mut config) = match service.current()? {
            Some((r, c)) => (Some(r.number), c),
            None => (None, ManagedConfig::default()),
        };
        if let Some(exp) = expected
            && Some(exp) != base
        {
            return Err(stale(exp, base));
        }
        edit(&mut config)?;
        let revision = service.change(&config, &author, "api", &reason, base)?;
        st.apply(&revision, config);
        Ok(revision)
    })
    .await
    .map_err(|e| redact(e, meta.visible_path.as_deref()));
    let (outcome, detail) = match &result {
        Ok(r) => ("success", json!({"revision": r.number, "reason": meta.reason})),
        Err(e) => ("refused", json!({"status": e.status.as_u16(), "error": e.message, "reason": meta.reason})),
    };
    let entry = op.audit(meta.action, meta.target, meta.tenant, outcome, detail);
    audit::record(state, entry).await;
    result
}

/// Puts revision `number` back in force as a new revision.
pub async fn rollback(state: &AppState, op: &Operator, number: i64, reason: String) -> ApiResult<Revision> {
    if reason.trim().is_empty() {
        return Err(ApiError::field("reason", "a rollback needs a reason"));
    }
    let _guard = state.change_lock().lock().await;
    let st = state.clone();
    let author = op.user.username.clone();
    let why = reason.clone();
    let result = blocking(move || {
        let service = st.config_service();
        let revision = service.rollback(number, &author, &why)?;
        let config = ManagedConfig::from_json(&revision.config_json).map_err(ApiError::internal)?;
        st.apply(&revision, config);
        Ok(revision)
    })
    .await
    .map_err(|e| if e.status.as_u16() == 404 { e.with_field("revision") } else { e });
    let (outcome, detail) = match &result {
        Ok(r) => ("success", json!({"revision": r.number, "to": number, "reason": reason})),
        Err(e) => ("refused", json!({"status": e.status.as_u16(), "error": e.message, "to": number})),
    };
    let entry = op.audit("config.rollback", format!("revision {number}"), None, outcome, detail);
    audit::record(state, entry).await;
    result
}

fn stale(expected: i64, latest: Option<i64>) -> ApiError {
    let latest = latest.map_or("none".to_owned(), |n| n.to_string());
    ApiError::conflict(format!(
        "you edited revision {expected}, but the latest is {latest}: reload and apply your change on top of it"
    ))
    .with_field("expected_revision")
    .with("latest_revision", json!(latest))
}

/// Keeps only the problems under `visible` in a 422 for a single-tenant caller.
fn redact(e: ApiError, visible: Option<&str>) -> ApiError {
    let Some(prefix) = visible else { return e };
    let Some(Value::Array(problems)) = e.extra.get("problems") else {
        return e;
    };
    let under = |p: &Value| {
        p["path"].as_str().is_some_and(|s| {
            s == prefix || s.starts_with(&format!("{prefix}.")) || s.starts_with(&format!("{prefix}["))
        })
    };
    let mut kept: Vec<Problem> = Vec::new();
    let mut hidden = 0;
    for p in problems {
        if under(p) {
            let path = mamori_core::config::FieldPath::parse(p["path"].as_str().unwrap_or(""));
            kept.push(Problem::new(path, p["message"].as_str().unwrap_or("")));
        } else {
            hidden += 1;
        }
    }
    if hidden > 0 {
        kept.push(Problem::new(
            Default::default(),
            format!("{hidden} problem(s) outside your tenant; ask the prefecture's administrators"),
        ));
    }
    ApiError::invalid_config(&kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_core::config::FieldPath;

    #[test]
    fn single_tenant_callers_see_only_their_problems() {
        let e = ApiError::invalid_config(&[
            Problem::new(FieldPath::parse("tenants[1].contacts[0].email"), "not an address"),
            Problem::new(FieldPath::parse("tenants[10].domains[0]"), "claimed by tenant 'b'"),
        ]);
        let r = redact(e, Some("tenants[1]"));
        let text = serde_json::to_string(&r.extra).unwrap();
        assert!(text.contains("not an address"));
        assert!(!text.contains("tenant 'b'"), "{text}");
        assert!(text.contains("1 problem(s) outside your tenant"));
    }
}
