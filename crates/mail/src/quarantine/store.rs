//! The quarantine on disk: a [`MessageDir`] of `msg/ID.eml` (the message as it would have been
//! delivered, trace headers included) and `rec/ID.json` (why, whose, until when, and the
//! envelope to deliver it with on release), written like the queue, so a quarantined message is
//! as safe as a queued one; and `audit.jsonl`. The CLI and the relay share the files.

use std::fs;
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::durable::{MessageDir, StoreError};
use crate::queue::Envelope;

#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("message {id} belongs to tenant '{owner}', not to '{asked}'")]
    OtherTenant { id: String, owner: String, asked: String },
}

impl QuarantineError {
    /// No such message (or not a quarantine id): what a caller outside may be told.
    pub fn is_not_found(&self) -> bool {
        matches!(self, QuarantineError::Store(StoreError::NotFound { .. } | StoreError::BadId { .. }))
    }
}

/// Why a message is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Virus,
    Suspicious,
    Dmarc,
    Spam,
    Advertising,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Virus => "virus",
            Cause::Suspicious => "suspicious",
            Cause::Dmarc => "dmarc",
            Cause::Spam => "spam",
            Cause::Advertising => "advertising",
        }
    }
}

/// What the quarantine keeps beside each message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub quarantined_at: Timestamp,
    /// Deleted by the expiry after this time.
    pub expires_at: Timestamp,
    /// Whose mail it is (the tenant whose policy quarantined it); `None` for mail of no tenant.
    pub tenant: Option<String>,
    pub cause: Cause,
    /// One line per finding, e.g. `virus: Eicar-Test-Signature in message.eml > part 2: a.zip`.
    pub reasons: Vec<String>,
    /// The envelope a release queues the message with.
    pub envelope: Envelope,
}

/// One line of the quarantine's audit trail (`audit.jsonl`): every release, deletion and expiry,
/// by whom and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub time: Timestamp,
    /// `released`, `deleted` or `expired`.
    pub action: String,
    pub id: String,
    pub tenant: Option<String>,
    /// Who did it: a user of the API, an operating-system user of the CLI, or `mamori` for the
    /// expiry.
    pub actor: String,
    pub reason: String,
}

/// The quarantine directory.
#[derive(Debug, Clone)]
pub struct QuarantineStore {
    dir: MessageDir,
}

impl QuarantineStore {
    /// Opens (creating) the quarantine and removes what a crash left half-written.
    pub fn open(root: &Path) -> Result<QuarantineStore, QuarantineError> {
        Ok(QuarantineStore { dir: MessageDir::open(root, "quarantine", "rec", &[])? })
    }

    pub fn root(&self) -> &Path {
        self.dir.root()
    }

    /// Keeps a message durably. Blocking: call from a blocking thread.
    pub fn insert(&self, record: &Record, text: &[u8]) -> Result<(), QuarantineError> {
        Ok(self.dir.insert(&record.id, record, text)?)
    }

    pub fn load(&self, id: &str) -> Result<Record, QuarantineError> {
        Ok(self.dir.load(id)?)
    }

    /// Loads a record only if it belongs to `tenant` (when given): a municipal administrator
    /// acts on the own tenant's mail only.
    pub fn load_for(&self, id: &str, tenant: Option<&str>) -> Result<Record, QuarantineError> {
        let record = self.load(id)?;
        if let Some(asked) = tenant
            && record.tenant.as_deref() != Some(asked)
        {
            return Err(QuarantineError::OtherTenant {
                id: id.into(),
                owner: record.tenant.unwrap_or_else(|| "-".into()),
                asked: asked.into(),
            });
        }
        Ok(record)
    }

    pub fn text(&self, id: &str) -> Result<Vec<u8>, QuarantineError> {
        Ok(self.dir.text(id)?)
    }

    /// Every record, oldest first; records that cannot be read are returned as errors so that
    /// a listing shows them instead of hiding them.
    pub fn list(&self) -> Result<Vec<Result<Record, QuarantineError>>, QuarantineError> {
        Ok(self.dir.ids()?.iter().map(|id| self.load(id)).collect())
    }

    pub fn remove(&self, id: &str) -> Result<(), QuarantineError> {
        Ok(self.dir.remove(id)?)
    }

    /// Appends to the audit trail, durably: an action is not done until it is recorded.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), QuarantineError> {
        use std::io::Write as _;
        let path = self.root().join("audit.jsonl");
        let mut line = serde_json::to_vec(entry).map_err(|e| StoreError::Corrupt {
            what: "quarantine audit trail",
            path: path.clone(),
            message: e.to_string(),
        })?;
        line.push(b'\n');
        let mut f = {
            use std::os::unix::fs::OpenOptionsExt as _;
            fs::OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| self.dir.io(&path, e))?
        };
        f.write_all(&line).map_err(|e| self.dir.io(&path, e))?;
        Ok(f.sync_data().map_err(|e| self.dir.io(&path, e))?)
    }

    /// The audit trail, oldest first; a damaged line is skipped with a warning.
    pub fn audit_trail(&self) -> Result<Vec<AuditEntry>, QuarantineError> {
        let path = self.root().join("audit.jsonl");
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.dir.io(&path, e).into()),
        };
        Ok(text
            .lines()
            .filter_map(|l| match serde_json::from_str(l) {
                Ok(entry) => Some(entry),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping a damaged line of the quarantine audit trail");
                    None
                }
            })
            .collect())
    }

    /// Deletes every message whose time is up; returns the records deleted.
    pub fn expire(&self, now: Timestamp) -> Result<Vec<Record>, QuarantineError> {
        let mut gone = Vec::new();
        for record in self.list()?.into_iter().flatten() {
            if record.expires_at <= now {
                self.remove(&record.id)?;
                gone.push(record);
            }
        }
        Ok(gone)
    }
}
