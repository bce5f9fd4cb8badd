//! Console login sessions in SQLite, keyed by the hash of the session secret.

use jiff::Timestamp;
use rusqlite::{Connection, Row};

use super::sql::{Ctx, changed, from_ms, get, is_unique_violation, prepare, require, to_ms, truncate};
use super::users;
use crate::secret::is_secret_hash;
use crate::{Session, StoreError};

pub(super) fn create(conn: &Connection, s: Session) -> Result<(), StoreError> {
    if !is_secret_hash(&s.hash) {
        return Err(StoreError::Invalid(
            "session hash must be the hex SHA-256 of the session secret (secret::hash_secret), \
             never the secret itself"
                .to_owned(),
        ));
    }
    require("session CSRF token", &s.csrf_token)?;
    if s.expires_at <= s.created_at {
        return Err(StoreError::Invalid(format!(
            "session expires at {} which is not after its creation at {}",
            s.expires_at, s.created_at
        )));
    }
    if users::by_id(conn, &s.user_id)?.is_none() {
        return Err(StoreError::NotFound(format!("user with id {:?} for a new session", s.user_id)));
    }
    let inserted = prepare(
        conn,
        "INSERT INTO sessions (hash, user_id, created_at, expires_at, last_seen_at, source_ip, \
         csrf_token, mfa_pending) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )?
    .execute((
        &s.hash,
        &s.user_id,
        to_ms(truncate(s.created_at)),
        to_ms(truncate(s.expires_at)),
        to_ms(truncate(s.last_seen_at)),
        &s.source_ip,
        &s.csrf_token,
        s.mfa_pending,
    ));
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            Err(StoreError::Conflict("a session with the same hash already exists; generate a new secret".to_owned()))
        }
        Err(e) => Err(e).ctx("creating session"),
    }
}

pub(super) fn by_hash(conn: &Connection, hash: &str) -> Result<Option<Session>, StoreError> {
    let mut stmt = prepare(
        conn,
        "SELECT hash, user_id, created_at, expires_at, last_seen_at, source_ip, csrf_token, \
         mfa_pending FROM sessions WHERE hash = $1",
    )?;
    let mut rows = stmt.query([hash]).ctx("looking up session")?;
    match rows.next().ctx("looking up session")? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

pub(super) fn touch(conn: &Connection, hash: &str, at: Timestamp) -> Result<(), StoreError> {
    // Never move last_seen_at backwards when two requests finish out of order.
    prepare(conn, "UPDATE sessions SET last_seen_at = $1 WHERE hash = $2 AND last_seen_at < $1")?
        .execute((to_ms(at), hash))
        .ctx("recording session activity")?;
    Ok(())
}

pub(super) fn delete(conn: &Connection, hash: &str) -> Result<(), StoreError> {
    prepare(conn, "DELETE FROM sessions WHERE hash = $1")?.execute([hash]).ctx("deleting session")?;
    Ok(())
}

pub(super) fn delete_for_user(conn: &Connection, user_id: &str) -> Result<u64, StoreError> {
    let n = prepare(conn, "DELETE FROM sessions WHERE user_id = $1")?
        .execute([user_id])
        .with_ctx(|| format!("deleting sessions of user {user_id}"))?;
    Ok(changed(n))
}

pub(super) fn delete_expired(conn: &Connection, now: Timestamp) -> Result<u64, StoreError> {
    let n = prepare(conn, "DELETE FROM sessions WHERE expires_at <= $1")?
        .execute([to_ms(now)])
        .ctx("deleting expired sessions")?;
    Ok(changed(n))
}

fn decode(row: &Row<'_>) -> Result<Session, StoreError> {
    Ok(Session {
        hash: get(row, "hash")?,
        user_id: get(row, "user_id")?,
        created_at: from_ms(get(row, "created_at")?, "sessions.created_at")?,
        expires_at: from_ms(get(row, "expires_at")?, "sessions.expires_at")?,
        last_seen_at: from_ms(get(row, "last_seen_at")?, "sessions.last_seen_at")?,
        source_ip: get(row, "source_ip")?,
        csrf_token: get(row, "csrf_token")?,
        mfa_pending: get(row, "mfa_pending")?,
    })
}
