//! API tokens in SQLite. The kind is split into columns (`kind`, `user_id`, `tenant`) so that a
//! user token is tied to its user by a foreign key and disappears with it.

use jiff::Timestamp;
use rusqlite::{Connection, Row};

use super::sql::{Ctx, from_ms, get, is_unique_violation, new_id, now, prepare, require, to_ms};
use super::users;
use crate::secret::is_secret_hash;
use crate::{NewToken, StoreError, Token, TokenKind};

const SELECT: &str = "SELECT id, name, kind, user_id, tenant, token_hash, created_at, \
                      expires_at, last_used_at, revoked FROM tokens";

pub(super) fn create(conn: &Connection, new: NewToken) -> Result<Token, StoreError> {
    require("token name", &new.name)?;
    if !is_secret_hash(&new.token_hash) {
        return Err(StoreError::Invalid(format!(
            "token {:?}: token_hash must be the hex SHA-256 of the token (secret::hash_secret), \
             never the token itself",
            new.name
        )));
    }
    let (kind, user_id, tenant) = match &new.kind {
        TokenKind::User { user_id } => {
            if users::by_id(conn, user_id)?.is_none() {
                return Err(StoreError::NotFound(format!("user with id {user_id:?} for token {:?}", new.name)));
            }
            ("user", Some(user_id.as_str()), None)
        }
        TokenKind::Ingest { tenant } => {
            if let Some(t) = tenant {
                require("ingest token tenant", t)?;
            }
            ("ingest", None, tenant.as_deref())
        }
    };
    let token = Token {
        id: new_id(),
        name: new.name,
        kind: new.kind.clone(),
        token_hash: new.token_hash,
        created_at: now(),
        expires_at: new.expires_at.map(super::sql::truncate),
        last_used_at: None,
        revoked: false,
    };
    let inserted = prepare(
        conn,
        "INSERT INTO tokens (id, name, kind, user_id, tenant, token_hash, created_at, \
         expires_at, last_used_at, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, 0)",
    )?
    .execute((
        &token.id,
        &token.name,
        kind,
        user_id,
        tenant,
        &token.token_hash,
        to_ms(token.created_at),
        token.expires_at.map(to_ms),
    ));
    match inserted {
        Ok(_) => Ok(token),
        Err(e) if is_unique_violation(&e) => {
            Err(StoreError::Conflict("a token with the same hash already exists; generate a new secret".to_owned()))
        }
        Err(e) => Err(e).with_ctx(|| format!("creating token {:?}", token.name)),
    }
}

pub(super) fn by_hash(conn: &Connection, hash: &str) -> Result<Option<Token>, StoreError> {
    let mut stmt = prepare(conn, &format!("{SELECT} WHERE token_hash = $1"))?;
    let mut rows = stmt.query([hash]).ctx("looking up token")?;
    match rows.next().ctx("looking up token")? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

pub(super) fn list(conn: &Connection) -> Result<Vec<Token>, StoreError> {
    let mut stmt = prepare(conn, &format!("{SELECT} ORDER BY created_at, id"))?;
    let mut rows = stmt.query([]).ctx("listing tokens")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("listing tokens")? {
        out.push(decode(row)?);
    }
    Ok(out)
}

pub(super) fn revoke(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    let changed = prepare(conn, "UPDATE tokens SET revoked = 1 WHERE id = $1")?
        .execute([id])
        .with_ctx(|| format!("revoking token {id}"))?;
    Ok(changed > 0)
}

pub(super) fn touch(conn: &Connection, id: &str, at: Timestamp) -> Result<(), StoreError> {
    // Never move last_used_at backwards when two requests finish out of order.
    prepare(
        conn,
        "UPDATE tokens SET last_used_at = $1 \
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
    )?
    .execute((to_ms(at), id))
    .with_ctx(|| format!("recording use of token {id}"))?;
    Ok(())
}

fn decode(row: &Row<'_>) -> Result<Token, StoreError> {
    let id: String = get(row, "id")?;
    let kind: String = get(row, "kind")?;
    let kind = match kind.as_str() {
        "user" => {
            let user_id: Option<String> = get(row, "user_id")?;
            TokenKind::User {
                user_id: user_id
                    .ok_or_else(|| StoreError::Backend(format!("token {id}: user token without user_id")))?,
            }
        }
        "ingest" => TokenKind::Ingest { tenant: get(row, "tenant")? },
        other => {
            return Err(StoreError::Backend(format!("token {id}: unknown kind {other:?}")));
        }
    };
    let expires_at: Option<i64> = get(row, "expires_at")?;
    let last_used_at: Option<i64> = get(row, "last_used_at")?;
    Ok(Token {
        name: get(row, "name")?,
        kind,
        token_hash: get(row, "token_hash")?,
        created_at: from_ms(get(row, "created_at")?, "tokens.created_at")?,
        expires_at: expires_at.map(|ms| from_ms(ms, "tokens.expires_at")).transpose()?,
        last_used_at: last_used_at.map(|ms| from_ms(ms, "tokens.last_used_at")).transpose()?,
        revoked: get(row, "revoked")?,
        id,
    })
}
