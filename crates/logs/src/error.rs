//! Errors of the log store, each naming the file or directory involved.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("index {path}: {message}")]
    Index { path: PathBuf, message: String },
    #[error("archive {path}: {message}")]
    Archive { path: PathBuf, message: String },
    #[error("query: {0}")]
    Query(String),
    #[error("the log store in {0} is in use by another mamori process")]
    Locked(PathBuf),
    #[error("{0}")]
    Wal(#[from] crate::wal::WalError),
}

impl LogError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        LogError::Io { path: path.to_path_buf(), source }
    }

    pub fn index(path: &Path, e: impl std::fmt::Display) -> Self {
        LogError::Index { path: path.to_path_buf(), message: e.to_string() }
    }

    pub fn archive(path: &Path, message: impl Into<String>) -> Self {
        LogError::Archive { path: path.to_path_buf(), message: message.into() }
    }
}
