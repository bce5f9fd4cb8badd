//! Applies the embedded [`MIGRATIONS`](crate::migrations::MIGRATIONS) to a SQLite database.
//!
//! Each migration runs in its own transaction together with the row that records it in
//! `schema_migrations`, so a crash leaves the schema either before or after a migration, never
//! half-way. Reopening applies only what is missing.

use rusqlite::{Connection, TransactionBehavior};

use super::sql::{Ctx, get, now, prepare, to_ms};
use crate::StoreError;
use crate::migrations::{MIGRATIONS, latest_version};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT NOT NULL PRIMARY KEY,
    applied_at BIGINT NOT NULL
)";

/// Brings the schema up to date, refusing a database written by a newer mamori.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(CREATE_TABLE).ctx("creating schema_migrations")?;
    let applied = applied_versions(conn)?;
    if let Some(unknown) = applied.iter().find(|v| !MIGRATIONS.iter().any(|m| m.version == **v)) {
        return Err(StoreError::Backend(format!(
            "database schema version {unknown} is unknown to this mamori, which knows versions 1 \
             to {}; the database was written by a newer mamori, so run that version (or restore \
             a backup made before the upgrade)",
            latest_version()
        )));
    }
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let tx =
            conn.transaction_with_behavior(TransactionBehavior::Immediate).ctx("starting migration transaction")?;
        // Another process may have applied it between our read and our lock.
        if applied_versions(&tx)?.contains(&m.version) {
            continue;
        }
        tx.execute_batch(m.sql).with_ctx(|| format!("applying migration {:04}_{}", m.version, m.name))?;
        prepare(&tx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")?
            .execute((m.version, to_ms(now())))
            .with_ctx(|| format!("recording migration {:04}_{}", m.version, m.name))?;
        tx.commit().with_ctx(|| format!("committing migration {:04}_{}", m.version, m.name))?;
    }
    Ok(())
}

/// The versions recorded in `schema_migrations`, ascending.
pub(crate) fn applied_versions(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    let mut stmt = prepare(conn, "SELECT version FROM schema_migrations ORDER BY version")?;
    let mut rows = stmt.query([]).ctx("reading schema_migrations")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("reading schema_migrations")? {
        out.push(get(row, "version")?);
    }
    Ok(out)
}
