//! The control-plane store of mamori: configuration revisions, operator accounts, API tokens,
//! console sessions and the audit log of operator actions.
//!
//! Everything is reached through the [`ControlStore`] trait so that a deployment can swap the
//! embedded SQLite database ([`SqliteStore`]) for PostgreSQL at prefecture scale without the
//! API layer noticing. The trait is synchronous; async callers run it in `spawn_blocking`.
//!
//! The store keeps only hashes of credentials: passwords as Argon2id PHC strings
//! ([`password`]), tokens and session secrets as SHA-256 ([`secret`]).

mod error;
pub mod migrations;
mod model;
pub mod password;
pub mod secret;
mod sqlite;

use jiff::Timestamp;

pub use error::StoreError;
pub use model::{
    AuditEntry, AuditFilter, NewAuditEntry, NewRevision, NewToken, NewUser, REVISION_SOURCES, Revision,
    RevisionSummary, Role, Session, Token, TokenKind, UnknownRole, User, UserUpdate,
};
pub use sqlite::SqliteStore;

/// The operations of the control-plane store. Every method is atomic on its own.
pub trait ControlStore: Send + Sync {
    // --- configuration revisions (the JSON is opaque to the store) ---

    /// The newest revision, or `None` before the first one was appended.
    fn latest_revision(&self) -> Result<Option<Revision>, StoreError>;
    /// The revision with that number, if any.
    fn revision(&self, number: i64) -> Result<Option<Revision>, StoreError>;
    /// Up to `limit` revisions numbered below `before` (all if `None`), newest first.
    fn revisions(&self, limit: usize, before: Option<i64>) -> Result<Vec<RevisionSummary>, StoreError>;
    /// Appends revision latest+1 atomically. `expected_parent` is the optimistic-concurrency
    /// guard between two editors: `Some(p)` fails with [`StoreError::Conflict`] unless the
    /// latest revision is `p` (`Some(None)`: unless there is no revision yet); `None` appends
    /// unconditionally.
    fn append_revision(&self, new: NewRevision, expected_parent: Option<Option<i64>>) -> Result<Revision, StoreError>;

    // --- users ---

    /// Creates a user; [`StoreError::Conflict`] if the username is taken.
    fn create_user(&self, new: NewUser) -> Result<User, StoreError>;
    fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError>;
    fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// All users, ordered by username.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Applies the `Some` fields of `update`; [`StoreError::NotFound`] for an unknown id.
    fn update_user(&self, id: &str, update: UserUpdate) -> Result<User, StoreError>;
    /// Records that the user logged in with the TOTP code of time step `step`, and returns
    /// `false` (recording nothing) when that step or a later one was already used: a code
    /// must never work twice (RFC 6238, section 5.2). Atomic, so two requests racing with the
    /// same code cannot both win.
    fn claim_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError>;
    /// Number of users; zero means the first-run bootstrap of an administrator is allowed.
    fn count_users(&self) -> Result<u64, StoreError>;

    // --- API tokens (only a SHA-256 of the token is stored) ---

    fn create_token(&self, new: NewToken) -> Result<Token, StoreError>;
    /// The token with that hash, revoked or expired ones included (see [`Token::is_usable`]).
    fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError>;
    /// All tokens, oldest first.
    fn tokens(&self) -> Result<Vec<Token>, StoreError>;
    /// Marks the token revoked; `false` if no token has that id. Revoked tokens are kept so
    /// that the audit log can still name them.
    fn revoke_token(&self, id: &str) -> Result<bool, StoreError>;
    /// Records a use of the token. Best effort: an unknown id is not an error, so that a
    /// request racing with a revocation does not fail here.
    fn touch_token(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;

    // --- login sessions (hash of the session secret) ---

    fn create_session(&self, s: Session) -> Result<(), StoreError>;
    /// The session with that hash, expired ones included (see [`Session::is_expired`]).
    fn session_by_hash(&self, hash: &str) -> Result<Option<Session>, StoreError>;
    /// Records activity on the session. Best effort like [`ControlStore::touch_token`].
    fn touch_session(&self, hash: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Logs the session out; deleting an unknown session is not an error.
    fn delete_session(&self, hash: &str) -> Result<(), StoreError>;
    /// Deletes every session of the user (after a password change, disabling or role change)
    /// and returns how many there were.
    fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError>;
    /// Deletes sessions with `expires_at <= now` and returns how many there were.
    fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError>;

    // --- audit log of operator actions ---

    /// Appends an entry; the store assigns the next id.
    fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError>;
    /// Entries matching `filter`, newest first (by time, then id).
    fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
}
