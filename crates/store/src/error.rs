//! The one error type of the store.
//!
//! Callers (the API layer) map the variants to HTTP statuses, so each variant is a kind of
//! failure the caller handles differently, and the message says what exactly was wrong.

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The operation collides with existing data: a duplicate username or token hash, or a
    /// configuration revision appended on top of a parent that is no longer the latest.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record the operation refers to does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller passed a value the store refuses to keep (empty name, plain-text secret, ...).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The database failed or holds data this binary cannot read (I/O error, corrupt row,
    /// schema newer than this binary).
    #[error("store backend error: {0}")]
    Backend(String),
}
