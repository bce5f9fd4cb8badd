//! A directory of messages, each two files: `msg/ID.eml` (the text) and `META/ID.json` (what the
//! relay knows of it: the queue's envelope, the quarantine's record). The text is written first
//! and the JSON last, each durably, so a JSON file always has its text; a text without JSON was
//! never acknowledged and is removed on open. The queue and the quarantine are both one.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{what} {path}: not valid: {message}")]
    Corrupt { what: &'static str, path: PathBuf, message: String },
    #[error("no message {id} in the {what}")]
    NotFound { what: &'static str, id: String },
    #[error("'{id}' is not a {what} id")]
    BadId { what: &'static str, id: String },
}

#[derive(Debug, Clone)]
pub struct MessageDir {
    root: PathBuf,
    /// `queue`, `quarantine`: for error messages.
    what: &'static str,
    /// The JSON files' folder: `env`, `rec`.
    meta: &'static str,
}

impl MessageDir {
    /// Opens (creating) the directory with its `extra` folders and removes what a crash left
    /// half-written.
    pub fn open(root: &Path, what: &'static str, meta: &'static str, extra: &[&str]) -> Result<MessageDir, StoreError> {
        let dir = MessageDir { root: root.to_path_buf(), what, meta };
        for d in ["msg", meta, "tmp"].iter().chain(extra) {
            let p = root.join(d);
            fs::create_dir_all(&p).map_err(|e| dir.io(&p, e))?;
        }
        let tmp = root.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(|e| dir.io(&tmp, e))?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        let msg = root.join("msg");
        for entry in fs::read_dir(&msg).map_err(|e| dir.io(&msg, e))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".eml")
                && !dir.meta_path(id).exists()
            {
                tracing::warn!(what, id, "removing a message text without its record (never acknowledged)");
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(dir)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn io(&self, path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io { what: self.what, path: path.to_path_buf(), source }
    }

    /// Ids are what the relay makes them (UUID v7 in hex): anything else, such as a path, is refused.
    pub fn check_id(&self, id: &str) -> Result<(), StoreError> {
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(StoreError::BadId { what: self.what, id: id.to_string() });
        }
        Ok(())
    }

    fn meta_path(&self, id: &str) -> PathBuf {
        self.root.join(self.meta).join(format!("{id}.json"))
    }

    pub fn msg_path(&self, id: &str) -> PathBuf {
        self.root.join("msg").join(format!("{id}.eml"))
    }

    fn write(&self, dest: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        super::write(&self.root.join("tmp"), dest, bytes).map_err(|(path, e)| self.io(&path, e))
    }

    /// Stores a new message durably: text, then JSON. Blocking.
    pub fn insert<T: Serialize>(&self, id: &str, meta: &T, text: &[u8]) -> Result<(), StoreError> {
        self.check_id(id)?;
        self.write(&self.msg_path(id), text)?;
        self.save(id, meta)
    }

    /// Replaces a message's JSON durably.
    pub fn save<T: Serialize>(&self, id: &str, meta: &T) -> Result<(), StoreError> {
        self.check_id(id)?;
        let path = self.meta_path(id);
        let json = serde_json::to_vec_pretty(meta).map_err(|e| StoreError::Corrupt {
            what: self.what,
            path: path.clone(),
            message: e.to_string(),
        })?;
        self.write(&path, &json)
    }

    pub fn load<T: DeserializeOwned>(&self, id: &str) -> Result<T, StoreError> {
        self.check_id(id)?;
        let path = self.meta_path(id);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound { what: self.what, id: id.into() });
            }
            Err(e) => return Err(self.io(&path, e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            what: self.what,
            path,
            message: e.to_string(),
        })
    }

    pub fn text(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        self.check_id(id)?;
        let path = self.msg_path(id);
        fs::read(&path).map_err(|e| self.io(&path, e))
    }

    /// Ids of every message, oldest first (ids are time-ordered).
    pub fn ids(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join(self.meta);
        let mut ids: Vec<String> = fs::read_dir(&dir)
            .map_err(|e| self.io(&dir, e))?
            .flatten()
            .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".json").map(str::to_string))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Removes a message: the JSON first, so a crash halfway leaves a text the next open removes,
    /// never a record without its text.
    pub fn remove(&self, id: &str) -> Result<(), StoreError> {
        self.check_id(id)?;
        let path = self.meta_path(id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound { what: self.what, id: id.into() });
            }
            Err(e) => return Err(self.io(&path, e)),
        }
        super::sync_dir(&self.root.join(self.meta)).map_err(|(p, e)| self.io(&p, e))?;
        let _ = fs::remove_file(self.msg_path(id));
        Ok(())
    }
}
