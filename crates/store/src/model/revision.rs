//! Configuration revisions: every change of the configuration is kept as a numbered, immutable
//! snapshot so that operators can see who changed what, diff two revisions and roll back.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The places a revision may come from; `source` must be one of them so that the history can be
/// filtered and shown consistently.
pub const REVISION_SOURCES: &[&str] = &["file", "api", "cli", "rollback", "init"];

/// One stored configuration snapshot. Revisions are numbered 1, 2, 3, ... without gaps; `parent`
/// is the revision that was the latest when this one was appended (`None` for the first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub number: i64,
    pub parent: Option<i64>,
    pub created_at: Timestamp,
    pub author: String,
    /// One of [`REVISION_SOURCES`].
    pub source: String,
    pub reason: String,
    /// The whole configuration as JSON; opaque to the store.
    pub config_json: String,
    /// Human-readable diff against the parent, computed by the caller.
    pub diff: String,
}

/// A revision without its (possibly large) configuration and diff, for history listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionSummary {
    pub number: i64,
    pub parent: Option<i64>,
    pub created_at: Timestamp,
    pub author: String,
    pub source: String,
    pub reason: String,
}

impl From<&Revision> for RevisionSummary {
    fn from(r: &Revision) -> Self {
        RevisionSummary {
            number: r.number,
            parent: r.parent,
            created_at: r.created_at,
            author: r.author.clone(),
            source: r.source.clone(),
            reason: r.reason.clone(),
        }
    }
}

/// What the caller supplies to append a revision; the store assigns number, parent and time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRevision {
    pub author: String,
    pub source: String,
    pub reason: String,
    pub config_json: String,
    pub diff: String,
}
