//! The queue on disk. A message is two files: `msg/ID.eml` (the text) and `env/ID.json` (the
//! envelope and delivery state). Each is written to `tmp/`, fsynced, renamed into place, and
//! the directory fsynced; the envelope goes last, so an envelope always has its text. Only then
//! does the client get its `250`. A text without an envelope was never acknowledged and is
//! removed on start. Holds are marker files in `hold/`; a `flush` file asks the worker to try
//! everything now. The CLI works on the same files as the running relay.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::envelope::Envelope;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("queue {path}: envelope is not valid: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("no message {0} in the queue")]
    NotFound(String),
    #[error("'{0}' is not a queue id")]
    BadId(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> QueueError + '_ {
    move |source| QueueError::Io { path: path.to_path_buf(), source }
}

/// The queue directory.
#[derive(Debug, Clone)]
pub struct QueueStore {
    root: PathBuf,
}

impl QueueStore {
    /// Opens (creating) the queue and removes what a crash left half-written.
    pub fn open(root: &Path) -> Result<QueueStore, QueueError> {
        for d in ["msg", "env", "tmp", "hold"] {
            let p = root.join(d);
            fs::create_dir_all(&p).map_err(io(&p))?;
        }
        let store = QueueStore { root: root.to_path_buf() };
        store.clean_up()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn clean_up(&self) -> Result<(), QueueError> {
        let tmp = self.root.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(io(&tmp))?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        let msg = self.root.join("msg");
        for entry in fs::read_dir(&msg).map_err(io(&msg))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".eml")
                && !self.env_path(id).exists()
            {
                tracing::warn!(id, "removing a message text without envelope (never acknowledged)");
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    /// A new queue id: time-ordered and unique (UUID v7, no dashes).
    pub fn new_id() -> String {
        uuid::Uuid::now_v7().simple().to_string()
    }

    fn check_id(id: &str) -> Result<(), QueueError> {
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(QueueError::BadId(id.to_string()));
        }
        Ok(())
    }

    fn env_path(&self, id: &str) -> PathBuf {
        self.root.join("env").join(format!("{id}.json"))
    }

    pub fn msg_path(&self, id: &str) -> PathBuf {
        self.root.join("msg").join(format!("{id}.eml"))
    }

    fn hold_path(&self, id: &str) -> PathBuf {
        self.root.join("hold").join(id)
    }

    /// Stores a new message durably. Blocking: call from a blocking thread.
    pub fn insert(&self, envelope: &Envelope, text: &[u8]) -> Result<(), QueueError> {
        Self::check_id(&envelope.id)?;
        self.write_durably(&self.msg_path(&envelope.id), text)?;
        self.save(envelope)
    }

    /// Replaces an envelope durably (delivery state after an attempt).
    pub fn save(&self, envelope: &Envelope) -> Result<(), QueueError> {
        Self::check_id(&envelope.id)?;
        let json = serde_json::to_vec_pretty(envelope)
            .map_err(|e| QueueError::Corrupt { path: self.env_path(&envelope.id), message: e.to_string() })?;
        self.write_durably(&self.env_path(&envelope.id), &json)
    }

    fn write_durably(&self, dest: &Path, bytes: &[u8]) -> Result<(), QueueError> {
        crate::durable::write(&self.root.join("tmp"), dest, bytes)
            .map_err(|(path, source)| QueueError::Io { path, source })
    }

    pub fn load(&self, id: &str) -> Result<Envelope, QueueError> {
        Self::check_id(id)?;
        let path = self.env_path(id);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(QueueError::NotFound(id.into())),
            Err(e) => return Err(QueueError::Io { path, source: e }),
        };
        serde_json::from_slice(&bytes).map_err(|e| QueueError::Corrupt { path, message: e.to_string() })
    }

    pub fn text(&self, id: &str) -> Result<Vec<u8>, QueueError> {
        Self::check_id(id)?;
        let path = self.msg_path(id);
        fs::read(&path).map_err(io(&path))
    }

    /// Ids of every queued message, oldest first.
    pub fn ids(&self) -> Result<Vec<String>, QueueError> {
        let dir = self.root.join("env");
        let mut ids: Vec<String> = fs::read_dir(&dir)
            .map_err(io(&dir))?
            .flatten()
            .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".json").map(str::to_string))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Removes a message: the envelope first, so a crash halfway leaves a text the next start
    /// removes, never an envelope without text.
    pub fn remove(&self, id: &str) -> Result<(), QueueError> {
        Self::check_id(id)?;
        let env = self.env_path(id);
        match fs::remove_file(&env) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(QueueError::NotFound(id.into())),
            Err(e) => return Err(QueueError::Io { path: env, source: e }),
        }
        crate::durable::sync_dir(&self.root.join("env")).map_err(|(path, source)| QueueError::Io { path, source })?;
        let _ = fs::remove_file(self.msg_path(id));
        let _ = fs::remove_file(self.hold_path(id));
        Ok(())
    }

    pub fn is_held(&self, id: &str) -> bool {
        self.hold_path(id).exists()
    }

    pub fn hold(&self, id: &str) -> Result<(), QueueError> {
        self.load(id)?;
        let p = self.hold_path(id);
        File::create(&p).map(|_| ()).map_err(io(&p))
    }

    pub fn release(&self, id: &str) -> Result<(), QueueError> {
        self.load(id)?;
        match fs::remove_file(self.hold_path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(QueueError::Io { path: self.hold_path(id), source: e })
            }
            _ => Ok(()),
        }
    }

    /// Asks the delivery worker to try every message now.
    pub fn request_flush(&self) -> Result<(), QueueError> {
        let p = self.root.join("flush");
        File::create(&p).map(|_| ()).map_err(io(&p))
    }

    /// True (once) when a flush was requested.
    pub fn take_flush(&self) -> bool {
        fs::remove_file(self.root.join("flush")).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Route;
    use crate::queue::envelope::{Recipient, Status};

    pub fn envelope(id: &str) -> Envelope {
        Envelope {
            id: id.into(),
            received_at: jiff::Timestamp::now(),
            sender: "a@x.jp".into(),
            client_ip: None,
            helo: "h".into(),
            tenant: None,
            message_id: None,
            subject: None,
            size: 3,
            eight_bit: false,
            smtputf8: false,
            recipients: vec![Recipient {
                address: "b@y.jp".into(),
                route: Route::Mx { domain: "y.jp".into() },
                status: Status::Pending,
                attempts: 0,
                next_attempt: None,
                last_result: None,
                remote: None,
                dsn_status: None,
            }],
            delay_warned: false,
        }
    }

    #[test]
    fn insert_load_hold_remove_and_orphans() {
        let dir = tempfile::tempdir().unwrap();
        let q = QueueStore::open(dir.path()).unwrap();
        let id = QueueStore::new_id();
        q.insert(&envelope(&id), b"abc").unwrap();
        assert_eq!(q.load(&id).unwrap(), envelope_with_time(&q.load(&id).unwrap(), &id));
        assert_eq!(q.ids().unwrap(), vec![id.clone()]);
        q.hold(&id).unwrap();
        assert!(q.is_held(&id));
        q.release(&id).unwrap();
        assert!(!q.is_held(&id));
        fs::write(dir.path().join("msg/orphan1.eml"), b"never acknowledged").unwrap();
        let q = QueueStore::open(dir.path()).unwrap();
        assert!(!dir.path().join("msg/orphan1.eml").exists());
        q.remove(&id).unwrap();
        assert!(matches!(q.load(&id), Err(QueueError::NotFound(_))));
        assert!(matches!(q.load("../etc"), Err(QueueError::BadId(_))));
    }

    fn envelope_with_time(e: &Envelope, id: &str) -> Envelope {
        Envelope { received_at: e.received_at, ..envelope(id) }
    }
}
