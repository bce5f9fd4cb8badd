//! The queue on disk: a [`MessageDir`] of `msg/ID.eml` (the text) and `env/ID.json` (the
//! envelope and delivery state), both durable before the client gets its `250`. Holds are
//! marker files in `hold/`; a `flush` file asks the worker to try everything now. The CLI works
//! on the same files as the running relay.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::envelope::Envelope;
use crate::durable::{MessageDir, StoreError};

/// Why a queue operation failed.
pub type QueueError = StoreError;

/// The queue directory.
#[derive(Debug, Clone)]
pub struct QueueStore {
    dir: MessageDir,
}

impl QueueStore {
    /// Opens (creating) the queue and removes what a crash left half-written.
    pub fn open(root: &Path) -> Result<QueueStore, QueueError> {
        Ok(QueueStore { dir: MessageDir::open(root, "queue", "env", &["hold"])? })
    }

    pub fn root(&self) -> &Path {
        self.dir.root()
    }

    /// A new queue id: time-ordered and unique (UUID v7, no dashes).
    pub fn new_id() -> String {
        uuid::Uuid::now_v7().simple().to_string()
    }

    pub fn msg_path(&self, id: &str) -> PathBuf {
        self.dir.msg_path(id)
    }

    fn hold_path(&self, id: &str) -> PathBuf {
        self.root().join("hold").join(id)
    }

    /// Stores a new message durably. Blocking: call from a blocking thread.
    pub fn insert(&self, envelope: &Envelope, text: &[u8]) -> Result<(), QueueError> {
        self.dir.insert(&envelope.id, envelope, text)
    }

    /// Replaces an envelope durably (delivery state after an attempt).
    pub fn save(&self, envelope: &Envelope) -> Result<(), QueueError> {
        self.dir.save(&envelope.id, envelope)
    }

    pub fn load(&self, id: &str) -> Result<Envelope, QueueError> {
        self.dir.load(id)
    }

    pub fn text(&self, id: &str) -> Result<Vec<u8>, QueueError> {
        self.dir.text(id)
    }

    /// Ids of every queued message, oldest first.
    pub fn ids(&self) -> Result<Vec<String>, QueueError> {
        self.dir.ids()
    }

    /// Removes a message and its hold.
    pub fn remove(&self, id: &str) -> Result<(), QueueError> {
        self.dir.remove(id)?;
        let _ = fs::remove_file(self.hold_path(id));
        Ok(())
    }

    pub fn is_held(&self, id: &str) -> bool {
        self.hold_path(id).exists()
    }

    pub fn hold(&self, id: &str) -> Result<(), QueueError> {
        self.load(id)?;
        let p = self.hold_path(id);
        File::create(&p).map(|_| ()).map_err(|e| self.dir.io(&p, e))
    }

    pub fn release(&self, id: &str) -> Result<(), QueueError> {
        self.load(id)?;
        match fs::remove_file(self.hold_path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.dir.io(&self.hold_path(id), e)),
            _ => Ok(()),
        }
    }

    /// Asks the delivery worker to try every message now.
    pub fn request_flush(&self) -> Result<(), QueueError> {
        let p = self.root().join("flush");
        File::create(&p).map(|_| ()).map_err(|e| self.dir.io(&p, e))
    }

    /// True (once) when a flush was requested.
    pub fn take_flush(&self) -> bool {
        fs::remove_file(self.root().join("flush")).is_ok()
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
        assert!(matches!(q.load(&id), Err(QueueError::NotFound { .. })));
        assert!(matches!(q.load("../etc"), Err(QueueError::BadId { .. })));
    }

    fn envelope_with_time(e: &Envelope, id: &str) -> Envelope {
        Envelope { received_at: e.received_at, ..envelope(id) }
    }
}
