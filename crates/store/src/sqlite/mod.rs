//! The embedded SQLite backend of [`ControlStore`], the default for a single-machine install.
//!
//! One connection behind a mutex: the control plane sees a handful of writes per minute, and a
//! single connection makes every method trivially serialisable within the process. Writes that
//! read-then-write use `BEGIN IMMEDIATE` so that they stay atomic against another process (the
//! CLI) opening the same file.

mod audit;
mod migrate;
mod revisions;
mod sessions;
mod sql;
mod tokens;
mod users;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::Connection;

use crate::{
    AuditEntry, AuditFilter, ControlStore, NewAuditEntry, NewRevision, NewToken, NewUser, Revision, RevisionSummary,
    Session, StoreError, Token, User, UserUpdate,
};
use sql::Ctx;

/// How long a statement waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The control-plane store in one SQLite file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and its parent directory, and
    /// brings the schema up to date. The file is created readable by its owner only, since it
    /// holds password hashes and TOTP secrets.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Backend(format!("creating directory {}: {e}", parent.display())))?;
        }
        create_private_file(path).map_err(|e| StoreError::Backend(format!("creating {shown}: {e}")))?;
        let conn = Connection::open(path).with_ctx(|| format!("opening {shown}"))?;
        // WAL lets readers (the console) proceed while a writer commits.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .with_ctx(|| format!("enabling WAL on {shown}"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!("{shown}: journal mode stayed {mode:?}, WAL is required")));
        }
        Self::init(conn, &shown.to_string())
    }

    /// An empty, fully migrated store that lives only as long as the value (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().ctx("opening in-memory database")?;
        Self::init(conn, ":memory:")
    }

    fn init(mut conn: Connection, shown: &str) -> Result<Self, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT).with_ctx(|| format!("setting busy timeout on {shown}"))?;
        // SQLite leaves foreign keys off unless asked, per connection.
        conn.pragma_update(None, "foreign_keys", true).with_ctx(|| format!("enabling foreign keys on {shown}"))?;
        migrate::migrate(&mut conn).map_err(|e| match e {
            StoreError::Backend(msg) => StoreError::Backend(format!("{shown}: {msg}")),
            other => other,
        })?;
        Ok(SqliteStore { conn: Mutex::new(conn) })
    }

    /// Runs `f` with the connection. A panic in another caller poisons the mutex but cannot
    /// leave a half-written transaction behind (rusqlite rolls back on drop), so the
    /// connection is still usable.
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut conn)
    }
}

/// Creates `path` with mode 0600 if it does not exist yet; SQLite gives its `-wal` and `-shm`
/// files the same mode.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl ControlStore for SqliteStore {
    fn latest_revision(&self) -> Result<Option<Revision>, StoreError> {
        self.with(|c| revisions::latest(c))
    }

    fn revision(&self, number: i64) -> Result<Option<Revision>, StoreError> {
        self.with(|c| revisions::by_number(c, number))
    }

    fn revisions(&self, limit: usize, before: Option<i64>) -> Result<Vec<RevisionSummary>, StoreError> {
        self.with(|c| revisions::list(c, limit, before))
    }

    fn append_revision(&self, new: NewRevision, expected_parent: Option<Option<i64>>) -> Result<Revision, StoreError> {
        self.with(|c| revisions::append(c, new, expected_parent))
    }

    fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        self.with(|c| users::create(c, new))
    }

    fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.with(|c| users::by_name(c, username))
    }

    fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.with(|c| users::by_id(c, id))
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        self.with(|c| users::list(c))
    }

    fn update_user(&self, id: &str, update: UserUpdate) -> Result<User, StoreError> {
        self.with(|c| users::update(c, id, update))
    }

    fn claim_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        self.with(|c| users::claim_totp_step(c, user_id, step))
    }

    fn count_users(&self) -> Result<u64, StoreError> {
        self.with(|c| users::count(c))
    }

    fn create_token(&self, new: NewToken) -> Result<Token, StoreError> {
        self.with(|c| tokens::create(c, new))
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        self.with(|c| tokens::by_hash(c, hash))
    }

    fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        self.with(|c| tokens::list(c))
    }

    fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        self.with(|c| tokens::revoke(c, id))
    }

    fn touch_token(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.with(|c| tokens::touch(c, id, at))
    }

    fn create_session(&self, s: Session) -> Result<(), StoreError> {
        self.with(|c| sessions::create(c, s))
    }

    fn session_by_hash(&self, hash: &str) -> Result<Option<Session>, StoreError> {
        self.with(|c| sessions::by_hash(c, hash))
    }

    fn touch_session(&self, hash: &str, at: Timestamp) -> Result<(), StoreError> {
        self.with(|c| sessions::touch(c, hash, at))
    }

    fn delete_session(&self, hash: &str) -> Result<(), StoreError> {
        self.with(|c| sessions::delete(c, hash))
    }

    fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        self.with(|c| sessions::delete_for_user(c, user_id))
    }

    fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.with(|c| sessions::delete_expired(c, now))
    }

    fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        self.with(|c| audit::append(c, entry))
    }

    fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(|c| audit::list(c, filter))
    }
}
