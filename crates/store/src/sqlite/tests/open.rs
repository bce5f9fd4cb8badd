//! Opening, migrations and the placeholder guard.

use rusqlite::Connection;

use super::store;
use crate::migrations::{MIGRATIONS, latest_version};
use crate::sqlite::migrate::applied_versions;
use crate::sqlite::sql::prepare;
use crate::{ControlStore, NewRevision, SqliteStore, StoreError};

fn revision(reason: &str) -> NewRevision {
    NewRevision {
        author: "admin".into(),
        source: "init".into(),
        reason: reason.into(),
        config_json: "{}".into(),
        diff: String::new(),
    }
}

#[test]
fn open_creates_parent_dir_and_uses_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/deeper/control.db");
    let store = SqliteStore::open(&path).expect("open");
    assert!(path.exists());
    let (mode, fk): (String, i64) = store
        .with(|c| {
            let mode =
                c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).map_err(|e| StoreError::Backend(e.to_string()))?;
            let fk =
                c.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok((mode, fk))
        })
        .expect("pragmas");
    assert_eq!(mode, "wal");
    assert_eq!(fk, 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perm = std::fs::metadata(&path).expect("metadata").permissions();
        assert_eq!(perm.mode() & 0o777, 0o600);
    }
}

#[test]
fn reopen_keeps_data_and_does_not_rerun_migrations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("control.db");
    let first = SqliteStore::open(&path).expect("open");
    first.append_revision(revision("one"), None).expect("append");
    let before: Vec<(i64, i64)> = migration_rows(&first);
    assert_eq!(before.len(), MIGRATIONS.len());
    drop(first);

    let second = SqliteStore::open(&path).expect("reopen");
    // 0001_init.sql has plain CREATE TABLE statements: running it twice would have failed.
    assert_eq!(migration_rows(&second), before);
    let latest = second.latest_revision().expect("latest").expect("kept");
    assert_eq!(latest.reason, "one");
    assert_eq!(second.append_revision(revision("two"), Some(Some(1))).expect("append").number, 2);
}

fn migration_rows(store: &SqliteStore) -> Vec<(i64, i64)> {
    store
        .with(|c| {
            let mut stmt = prepare(c, "SELECT version, applied_at FROM schema_migrations ORDER BY version")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok(rows)
        })
        .expect("read schema_migrations")
}

#[test]
fn newer_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("control.db");
    drop(SqliteStore::open(&path).expect("open"));
    let conn = Connection::open(&path).expect("raw open");
    conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)", [])
        .expect("fake future migration");
    drop(conn);
    let err = SqliteStore::open(&path).err().expect("must refuse");
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(msg.contains("9999") && msg.contains("newer"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
}

#[test]
fn in_memory_store_is_fully_migrated() {
    let store = store();
    let versions = store.with(|c| applied_versions(c)).expect("versions");
    assert_eq!(versions.last().copied(), Some(latest_version()));
}

#[test]
fn dollar_placeholders_bind_positionally_in_sqlite() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch("CREATE TABLE t (a TEXT, b BIGINT)").expect("create");
    prepare(&conn, "INSERT INTO t (a, b) VALUES ($1, $2)").expect("prepare").execute(("x", 7)).expect("insert");
    // A repeated placeholder is one parameter, as in PostgreSQL.
    let n: i64 = prepare(&conn, "SELECT COUNT(*) FROM t WHERE b = $1 OR b + 1 = $1 + 1")
        .expect("prepare")
        .query_row([7], |r| r.get(0))
        .expect("query");
    assert_eq!(n, 1);
    let a: String = prepare(&conn, "SELECT a FROM t WHERE a = $1 AND b = $2")
        .expect("prepare")
        .query_row(("x", 7), |r| r.get(0))
        .expect("query");
    assert_eq!(a, "x");
}

#[test]
fn out_of_order_placeholders_are_rejected() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch("CREATE TABLE t (a TEXT, b BIGINT)").expect("create");
    // SQLite would number `$2` as parameter 1 here and bind the arguments swapped.
    let err = prepare(&conn, "UPDATE t SET a = $2 WHERE b = $1").err().expect("rejected");
    assert!(err.to_string().contains("$2"), "{err}");
    let err = prepare(&conn, "SELECT a FROM t WHERE a = ?").err().expect("rejected");
    assert!(err.to_string().contains("placeholder 1"), "{err}");
}
