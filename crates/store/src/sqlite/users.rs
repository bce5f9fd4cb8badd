//! Operator accounts in SQLite. Tenants are kept as a JSON array in one TEXT column: the list is
//! short, always read whole, and JSON text is portable to PostgreSQL.

use rusqlite::{Connection, Row, TransactionBehavior};

use super::sql::{Ctx, count as to_count, from_ms, get, is_unique_violation, new_id, now, prepare, to_ms};
use crate::password::is_password_hash;
use crate::{NewUser, Role, StoreError, User, UserUpdate};

const SELECT: &str = "SELECT id, username, display_name, role, tenants, password_hash, \
                      totp_secret, disabled, created_at, updated_at FROM users";

pub(super) fn create(conn: &Connection, new: NewUser) -> Result<User, StoreError> {
    let at = now();
    let user = User {
        id: new_id(),
        username: new.username,
        display_name: new.display_name,
        role: new.role,
        tenants: new.tenants,
        password_hash: new.password_hash,
        totp_secret: new.totp_secret,
        disabled: false,
        created_at: at,
        updated_at: at,
    };
    validate(&user)?;
    let inserted = prepare(
        conn,
        "INSERT INTO users (id, username, display_name, role, tenants, password_hash, \
         totp_secret, disabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )?
    .execute((
        &user.id,
        &user.username,
        &user.display_name,
        user.role.as_str(),
        tenants_json(&user.tenants)?,
        &user.password_hash,
        &user.totp_secret,
        user.disabled,
        to_ms(user.created_at),
        to_ms(user.updated_at),
    ));
    match inserted {
        Ok(_) => Ok(user),
        Err(e) if is_unique_violation(&e) => {
            Err(StoreError::Conflict(format!("username {:?} is already taken", user.username)))
        }
        Err(e) => Err(e).with_ctx(|| format!("creating user {:?}", user.username)),
    }
}

pub(super) fn by_name(conn: &Connection, username: &str) -> Result<Option<User>, StoreError> {
    one(conn, &format!("{SELECT} WHERE username = $1"), username)
}

pub(super) fn by_id(conn: &Connection, id: &str) -> Result<Option<User>, StoreError> {
    one(conn, &format!("{SELECT} WHERE id = $1"), id)
}

pub(super) fn list(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut stmt = prepare(conn, &format!("{SELECT} ORDER BY username"))?;
    let mut rows = stmt.query([]).ctx("listing users")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("listing users")? {
        out.push(decode(row)?);
    }
    Ok(out)
}

pub(super) fn update(conn: &mut Connection, id: &str, update: UserUpdate) -> Result<User, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).ctx("starting user transaction")?;
    let mut user = by_id(&tx, id)?.ok_or_else(|| StoreError::NotFound(format!("user with id {id:?}")))?;
    if let Some(v) = update.display_name {
        user.display_name = v;
    }
    if let Some(v) = update.role {
        user.role = v;
    }
    if let Some(v) = update.tenants {
        user.tenants = v;
    }
    if let Some(v) = update.disabled {
        user.disabled = v;
    }
    if let Some(v) = update.password_hash {
        user.password_hash = v;
    }
    let new_totp = update.totp_secret.is_some();
    if let Some(v) = update.totp_secret {
        user.totp_secret = v;
    }
    user.updated_at = now();
    validate(&user)?;
    prepare(
        &tx,
        "UPDATE users SET display_name = $1, role = $2, tenants = $3, password_hash = $4, \
         totp_secret = $5, disabled = $6, updated_at = $7 WHERE id = $8",
    )?
    .execute((
        &user.display_name,
        user.role.as_str(),
        tenants_json(&user.tenants)?,
        &user.password_hash,
        &user.totp_secret,
        user.disabled,
        to_ms(user.updated_at),
        &user.id,
    ))
    .with_ctx(|| format!("updating user {:?}", user.username))?;
    if new_totp {
        // A new (or no) secret: the steps used with the old one say nothing about it.
        prepare(&tx, "UPDATE users SET totp_last_step = NULL WHERE id = $1")?
            .execute([&user.id])
            .with_ctx(|| format!("resetting the TOTP step of user {:?}", user.username))?;
    }
    tx.commit().with_ctx(|| format!("committing update of user {:?}", user.username))?;
    Ok(user)
}

pub(super) fn claim_totp_step(conn: &Connection, id: &str, step: i64) -> Result<bool, StoreError> {
    let n = prepare(
        conn,
        "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )?
    .execute((step, id))
    .with_ctx(|| format!("recording the TOTP step of user {id}"))?;
    Ok(n == 1)
}

pub(super) fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = prepare(conn, "SELECT COUNT(*) FROM users")?.query_row([], |row| row.get(0)).ctx("counting users")?;
    to_count(n, "counting users")
}

/// Checks the whole record, so that create and update enforce the same rules.
fn validate(user: &User) -> Result<(), StoreError> {
    let name = &user.username;
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::Invalid(format!(
            "username {name:?} must be non-empty and contain no spaces or control characters"
        )));
    }
    if user.display_name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("display name of {name:?} contains control characters")));
    }
    if let Some(t) = user.tenants.iter().find(|t| t.trim().is_empty()) {
        return Err(StoreError::Invalid(format!("tenant id {t:?} of user {name:?} is empty")));
    }
    if user.role == Role::MunicipalAdmin && user.tenants.is_empty() {
        return Err(StoreError::Invalid(format!("user {name:?} is a municipal_admin and needs at least one tenant")));
    }
    // Empty means "no password login" (e.g. a future single-sign-on account): it never verifies.
    if !user.password_hash.is_empty() && !is_password_hash(&user.password_hash) {
        return Err(StoreError::Invalid(format!(
            "password hash of user {name:?} is not a PHC string; hash it with \
             password::hash_password first"
        )));
    }
    if user.totp_secret.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(StoreError::Invalid(format!(
            "TOTP secret of user {name:?} is empty; use None to turn two-factor login off"
        )));
    }
    Ok(())
}

fn tenants_json(tenants: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(tenants).map_err(|e| StoreError::Backend(format!("encoding tenant list: {e}")))
}

fn one(conn: &Connection, sql: &str, key: &str) -> Result<Option<User>, StoreError> {
    let mut stmt = prepare(conn, sql)?;
    let mut rows = stmt.query([key]).with_ctx(|| format!("looking up user {key:?}"))?;
    match rows.next().with_ctx(|| format!("looking up user {key:?}"))? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

fn decode(row: &Row<'_>) -> Result<User, StoreError> {
    let id: String = get(row, "id")?;
    let role: String = get(row, "role")?;
    let role = role.parse::<Role>().map_err(|e| StoreError::Backend(format!("user {id}: {e}")))?;
    let tenants: String = get(row, "tenants")?;
    let tenants = serde_json::from_str(&tenants)
        .map_err(|e| StoreError::Backend(format!("user {id}: tenants column is not a JSON string array: {e}")))?;
    Ok(User {
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        role,
        tenants,
        password_hash: get(row, "password_hash")?,
        totp_secret: get(row, "totp_secret")?,
        disabled: get(row, "disabled")?,
        created_at: from_ms(get(row, "created_at")?, "users.created_at")?,
        updated_at: from_ms(get(row, "updated_at")?, "users.updated_at")?,
        id,
    })
}
