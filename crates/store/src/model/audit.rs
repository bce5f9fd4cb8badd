//! The audit log of operator actions (logins, configuration and user changes, SOC actions).
//! Entries are append-only; the store offers no way to change or delete one.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// An operator action to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub at: Timestamp,
    /// Username or token name that acted.
    pub actor: String,
    pub source_ip: Option<String>,
    /// What was done, e.g. `config.apply`, `user.create`, `login`.
    pub action: String,
    /// What it was done to, e.g. a username or revision number.
    pub target: String,
    /// The tenant concerned; `None` for actions that concern all tenants (or none), which only
    /// callers who see all tenants may read.
    pub tenant: Option<String>,
    /// e.g. `success`, `failure`, `denied`.
    pub outcome: String,
    /// Free-form details (never secrets).
    pub detail: serde_json::Value,
}

/// A recorded operator action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Assigned by the store, increasing in the order entries were appended.
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub source_ip: Option<String>,
    pub action: String,
    pub target: String,
    pub tenant: Option<String>,
    pub outcome: String,
    pub detail: serde_json::Value,
}

/// Which audit entries to return. The default returns everything, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Tenant scope of the caller: `None` sees every entry; `Some(list)` sees only entries whose
    /// tenant is in `list` (never tenant-less entries, which concern all tenants).
    pub tenants: Option<Vec<String>>,
    /// Only entries at or after this time.
    pub since: Option<Timestamp>,
    /// Only entries strictly before this time.
    pub until: Option<Timestamp>,
    /// Only entries by this actor (exact match).
    pub actor: Option<String>,
    /// Only entries with this action (exact match).
    pub action: Option<String>,
    /// Only entries whose actor, source address, action, target, tenant, outcome or detail
    /// contains this text (ASCII letters compared case-insensitively).
    #[serde(default)]
    pub text: Option<String>,
    /// At most this many entries; `None` for no limit.
    pub limit: Option<usize>,
}
