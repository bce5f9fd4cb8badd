//! The errors of the archive. Every error says what was wrong and where: the file, the block,
//! the manifest line, or the part of a block that did not decode.

use std::path::{Path, PathBuf};

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in the archive.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A block's bytes do not decode: damaged on disk, truncated, or not a block at all.
    #[error("damaged block: {0}")]
    Damaged(String),
    /// The events cannot be encoded (for example, nested deeper than the format allows).
    #[error("cannot encode block: {0}")]
    Encode(String),
    /// The block being built cannot take this event; it fits an empty block, or no block.
    #[error("block full: {0}")]
    BlockFull(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A segment file is damaged or is not a segment file; `block` names the block when one
    /// block is at fault.
    #[error("{}{}: {message}", path.display(), block.map(|b| format!(" block {b}")).unwrap_or_default())]
    Segment { path: PathBuf, block: Option<usize>, message: String },
    /// The manifest is damaged or cannot be used; `line` is 1-based.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Manifest { path: PathBuf, line: Option<usize>, message: String },
    /// The caller passed something the archive cannot take (a tenant id that is not a safe
    /// file name, a day that is not `YYYY-MM-DD`, ...).
    #[error("invalid argument: {0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn damaged(message: impl Into<String>) -> Self {
        Error::Damaged(message.into())
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn segment(path: &Path, block: Option<usize>, message: impl Into<String>) -> Self {
        Error::Segment { path: path.to_path_buf(), block, message: message.into() }
    }

    pub(crate) fn manifest(path: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Error::Manifest { path: path.to_path_buf(), line, message: message.into() }
    }
}
