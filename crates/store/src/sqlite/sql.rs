//! Small helpers shared by the SQLite queries: portable placeholders, error context, row
//! decoding and time conversion.

use jiff::Timestamp;
use rusqlite::types::FromSql;
use rusqlite::{CachedStatement, Connection, Row, Statement};

use crate::StoreError;

/// Adds "what was being done" to a rusqlite error and turns it into [`StoreError::Backend`].
pub(crate) trait Ctx<T> {
    fn ctx(self, what: &str) -> Result<T, StoreError>;
    fn with_ctx(self, what: impl FnOnce() -> String) -> Result<T, StoreError>;
}

impl<T> Ctx<T> for rusqlite::Result<T> {
    fn ctx(self, what: &str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Backend(format!("{what}: {e}")))
    }

    fn with_ctx(self, what: impl FnOnce() -> String) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Backend(format!("{}: {e}", what())))
    }
}

/// Prepares (and caches) a statement after checking its placeholders, see
/// [`check_placeholders`].
pub(crate) fn prepare<'c>(conn: &'c Connection, sql: &str) -> Result<CachedStatement<'c>, StoreError> {
    let stmt = conn.prepare_cached(sql).with_ctx(|| format!("preparing `{sql}`"))?;
    check_placeholders(&stmt, sql)?;
    Ok(stmt)
}

/// Prepares a statement built at run time (not cached, since every variant would evict the
/// fixed statements from the cache).
pub(crate) fn prepare_dynamic<'c>(conn: &'c Connection, sql: &str) -> Result<Statement<'c>, StoreError> {
    let stmt = conn.prepare(sql).with_ctx(|| format!("preparing `{sql}`"))?;
    check_placeholders(&stmt, sql)?;
    Ok(stmt)
}

/// The SQL uses PostgreSQL-style `$1, $2, ...` placeholders so that it stays portable. SQLite
/// accepts them, but as *named* parameters numbered in order of first appearance: a statement
/// whose `$2` appears before `$1` would silently bind the arguments to the wrong columns.
/// This check turns that mistake into an error the tests catch.
fn check_placeholders(stmt: &Statement<'_>, sql: &str) -> Result<(), StoreError> {
    for i in 1..=stmt.parameter_count() {
        let name = stmt.parameter_name(i);
        let number = name.and_then(|n| n.strip_prefix('$')).and_then(|n| n.parse::<usize>().ok());
        if number != Some(i) {
            return Err(StoreError::Backend(format!(
                "placeholder {i} of `{sql}` is {name:?}; statements must use $1..$n in order of \
                 first appearance"
            )));
        }
    }
    Ok(())
}

/// Reads column `col` of `row`, naming the column if its value has the wrong type.
pub(crate) fn get<T: FromSql>(row: &Row<'_>, col: &str) -> Result<T, StoreError> {
    row.get(col).with_ctx(|| format!("reading column {col}"))
}

/// Whether `e` is a UNIQUE or PRIMARY KEY violation, i.e. a conflict with an existing row.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    use rusqlite::ffi;
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// A timestamp as stored: unix milliseconds.
pub(crate) fn to_ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// A stored unix-millisecond value as a timestamp; `col` names the column in the error.
pub(crate) fn from_ms(ms: i64, col: &str) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms)
        .map_err(|e| StoreError::Backend(format!("column {col} holds {ms}, not a timestamp: {e}")))
}

/// `t` truncated to the millisecond precision of the database, so that the value a write
/// returns equals the value a later read returns.
pub(crate) fn truncate(t: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(t.as_millisecond()).unwrap_or(t)
}

/// The current time at database precision.
pub(crate) fn now() -> Timestamp {
    truncate(Timestamp::now())
}

/// A fresh record id. UUIDv7 sorts by creation time, which keeps listings and indexes in
/// insertion order; ids are identifiers, not secrets.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Rejects an empty or whitespace-only required text field.
pub(crate) fn require(field: &str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() { Err(StoreError::Invalid(format!("{field} must not be empty"))) } else { Ok(()) }
}

/// Converts a caller's `usize` limit for SQL (which counts in BIGINT).
pub(crate) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Converts a COUNT or changed-rows value to `u64`.
pub(crate) fn count(n: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Backend(format!("{what} returned {n}")))
}

/// A changed-rows count as `u64` (lossless on every platform mamori supports).
pub(crate) fn changed(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
