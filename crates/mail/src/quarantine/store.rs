//! The quarantine on disk: `msg/ID.eml` (the message as it would have been delivered, trace
//! headers included) and `rec/ID.json` (why, whose, until when, and the envelope to deliver it
//! with on release). Written like the queue (fsync, rename, directory fsync; the record last), so
//! a quarantined message is as safe as a queued one. The CLI and the relay share the files.

use std::fs;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::queue::Envelope;

#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    #[error("quarantine {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("quarantine {path}: record is not valid: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("no message {0} in the quarantine")]
    NotFound(String),
    #[error("'{0}' is not a quarantine id")]
    BadId(String),
    #[error("message {id} belongs to tenant '{owner}', not to '{asked}'")]
    OtherTenant { id: String, owner: String, asked: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> QuarantineError + '_ {
    move |source| QuarantineError::Io { path: path.to_path_buf(), source }
}

fn durable_err((path, source): (PathBuf, std::io::Error)) -> QuarantineError {
    QuarantineError::Io { path, source }
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
    root: PathBuf,
}

impl QuarantineStore {
    /// Opens (creating) the quarantine and removes what a crash left half-written.
    pub fn open(root: &Path) -> Result<QuarantineStore, QuarantineError> {
        for d in ["msg", "rec", "tmp"] {
            let p = root.join(d);
            fs::create_dir_all(&p).map_err(io(&p))?;
        }
        let store = QuarantineStore { root: root.to_path_buf() };
        let tmp = root.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(io(&tmp))?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        let msg = root.join("msg");
        for entry in fs::read_dir(&msg).map_err(io(&msg))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".eml")
                && !store.rec_path(id).exists()
            {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn check_id(id: &str) -> Result<(), QuarantineError> {
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(QuarantineError::BadId(id.to_string()));
        }
        Ok(())
    }

    fn rec_path(&self, id: &str) -> PathBuf {
        self.root.join("rec").join(format!("{id}.json"))
    }

    fn msg_path(&self, id: &str) -> PathBuf {
        self.root.join("msg").join(format!("{id}.eml"))
    }

    /// Keeps a message durably. Blocking: call from a blocking thread.
    pub fn insert(&self, record: &Record, text: &[u8]) -> Result<(), QuarantineError> {
        Self::check_id(&record.id)?;
        let tmp = self.root.join("tmp");
        crate::durable::write(&tmp, &self.msg_path(&record.id), text).map_err(durable_err)?;
        let json = serde_json::to_vec_pretty(record)
            .map_err(|e| QuarantineError::Corrupt { path: self.rec_path(&record.id), message: e.to_string() })?;
        crate::durable::write(&tmp, &self.rec_path(&record.id), &json).map_err(durable_err)
    }

    pub fn load(&self, id: &str) -> Result<Record, QuarantineError> {
        Self::check_id(id)?;
        let path = self.rec_path(id);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(QuarantineError::NotFound(id.into())),
            Err(e) => return Err(QuarantineError::Io { path, source: e }),
        };
        serde_json::from_slice(&bytes).map_err(|e| QuarantineError::Corrupt { path, message: e.to_string() })
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
        Self::check_id(id)?;
        let path = self.msg_path(id);
        fs::read(&path).map_err(io(&path))
    }

    /// Every record, oldest first; records that cannot be read are returned as errors so that
    /// a listing shows them instead of hiding them.
    pub fn list(&self) -> Result<Vec<Result<Record, QuarantineError>>, QuarantineError> {
        let dir = self.root.join("rec");
        let mut ids: Vec<String> = fs::read_dir(&dir)
            .map_err(io(&dir))?
            .flatten()
            .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".json").map(str::to_string))
            .collect();
        ids.sort();
        Ok(ids.iter().map(|id| self.load(id)).collect())
    }

    /// Removes a message: the record first, so a crash halfway leaves a text the next open
    /// removes.
    pub fn remove(&self, id: &str) -> Result<(), QuarantineError> {
        Self::check_id(id)?;
        let rec = self.rec_path(id);
        match fs::remove_file(&rec) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(QuarantineError::NotFound(id.into())),
            Err(e) => return Err(QuarantineError::Io { path: rec, source: e }),
        }
        crate::durable::sync_dir(&self.root.join("rec")).map_err(durable_err)?;
        let _ = fs::remove_file(self.msg_path(id));
        Ok(())
    }

    /// Appends to the audit trail, durably: an action is not done until it is recorded.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), QuarantineError> {
        use std::io::Write as _;
        let path = self.root.join("audit.jsonl");
        let mut line = serde_json::to_vec(entry)
            .map_err(|e| QuarantineError::Corrupt { path: path.clone(), message: e.to_string() })?;
        line.push(b'\n');
        let mut f = {
            use std::os::unix::fs::OpenOptionsExt as _;
            fs::OpenOptions::new().append(true).create(true).mode(0o600).open(&path).map_err(io(&path))?
        };
        f.write_all(&line).map_err(io(&path))?;
        f.sync_data().map_err(io(&path))
    }

    /// The audit trail, oldest first; a damaged line is skipped with a warning.
    pub fn audit_trail(&self) -> Result<Vec<AuditEntry>, QuarantineError> {
        let path = self.root.join("audit.jsonl");
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(QuarantineError::Io { path, source: e }),
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
