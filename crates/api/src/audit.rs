//! Appending to the audit log of operator actions.

use mamori_store::NewAuditEntry;

use crate::blocking::blocking;
use crate::state::AppState;

/// Appends `entry`. A failure to write the audit log is logged loudly but does not undo or
/// fail the action it describes, which has already happened.
pub async fn record(state: &AppState, entry: NewAuditEntry) {
    let store = state.store().clone();
    let action = entry.action.clone();
    let actor = entry.actor.clone();
    if let Err(e) = blocking(move || Ok(store.append_audit(entry)?)).await {
        tracing::error!(%action, %actor, error = %e, "cannot append to the audit log");
    }
}
