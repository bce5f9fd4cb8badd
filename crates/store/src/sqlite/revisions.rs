//! Configuration revisions in SQLite: numbered 1, 2, 3, ... and never changed once written.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};

use super::sql::{Ctx, from_ms, get, is_unique_violation, limit, now, prepare, require, to_ms};
use crate::{NewRevision, REVISION_SOURCES, Revision, RevisionSummary, StoreError};

macro_rules! summary_columns {
    () => {
        "number, parent, created_at, author, source, reason"
    };
}

pub(super) fn latest(conn: &Connection) -> Result<Option<Revision>, StoreError> {
    let sql = concat!("SELECT ", summary_columns!(), ", config_json, diff FROM revisions ORDER BY number DESC LIMIT 1");
    let mut stmt = prepare(conn, sql)?;
    let mut rows = stmt.query([]).ctx("reading the latest revision")?;
    match rows.next().ctx("reading the latest revision")? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

pub(super) fn by_number(conn: &Connection, number: i64) -> Result<Option<Revision>, StoreError> {
    let sql = concat!("SELECT ", summary_columns!(), ", config_json, diff FROM revisions WHERE number = $1");
    let mut stmt = prepare(conn, sql)?;
    let mut rows = stmt.query([number]).with_ctx(|| format!("reading revision {number}"))?;
    match rows.next().with_ctx(|| format!("reading revision {number}"))? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

pub(super) fn list(conn: &Connection, max: usize, before: Option<i64>) -> Result<Vec<RevisionSummary>, StoreError> {
    let sql = concat!("SELECT ", summary_columns!(), " FROM revisions WHERE number < $1 ORDER BY number DESC LIMIT $2");
    let mut stmt = prepare(conn, sql)?;
    let mut rows = stmt.query((before.unwrap_or(i64::MAX), limit(max))).ctx("listing revisions")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("listing revisions")? {
        out.push(decode_summary(row)?);
    }
    Ok(out)
}

pub(super) fn append(
    conn: &mut Connection,
    new: NewRevision,
    expected_parent: Option<Option<i64>>,
) -> Result<Revision, StoreError> {
    require("revision author", &new.author)?;
    if !REVISION_SOURCES.contains(&new.source.as_str()) {
        return Err(StoreError::Invalid(format!(
            "revision source {:?} is not one of {}",
            new.source,
            REVISION_SOURCES.join(", ")
        )));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).ctx("starting revision transaction")?;
    let latest: Option<i64> = prepare(&tx, "SELECT MAX(number) FROM revisions")?
        .query_row([], |row| row.get(0))
        .optional()
        .ctx("reading the latest revision number")?
        .flatten();
    if let Some(expected) = expected_parent
        && expected != latest
    {
        return Err(StoreError::Conflict(format!(
            "the configuration was changed meanwhile: the change was based on {}, but the latest \
             is now {}; reload and apply the change again",
            describe(expected),
            describe(latest)
        )));
    }
    let number = latest
        .unwrap_or(0)
        .checked_add(1)
        .ok_or_else(|| StoreError::Backend("revision numbers are exhausted".to_owned()))?;
    let revision = Revision {
        number,
        parent: latest,
        created_at: now(),
        author: new.author,
        source: new.source,
        reason: new.reason,
        config_json: new.config_json,
        diff: new.diff,
    };
    let sql = concat!(
        "INSERT INTO revisions (",
        summary_columns!(),
        ", config_json, diff) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    let inserted = prepare(&tx, sql)?.execute((
        revision.number,
        revision.parent,
        to_ms(revision.created_at),
        &revision.author,
        &revision.source,
        &revision.reason,
        &revision.config_json,
        &revision.diff,
    ));
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Conflict(format!(
                "revision {number} was appended concurrently; reload and apply the change again"
            )));
        }
        Err(e) => return Err(e).with_ctx(|| format!("writing revision {number}")),
    }
    tx.commit().with_ctx(|| format!("committing revision {number}"))?;
    Ok(revision)
}

fn describe(revision: Option<i64>) -> String {
    match revision {
        Some(n) => format!("revision {n}"),
        None => "no revision".to_owned(),
    }
}

fn decode_summary(row: &Row<'_>) -> Result<RevisionSummary, StoreError> {
    Ok(RevisionSummary {
        number: get(row, "number")?,
        parent: get(row, "parent")?,
        created_at: from_ms(get(row, "created_at")?, "revisions.created_at")?,
        author: get(row, "author")?,
        source: get(row, "source")?,
        reason: get(row, "reason")?,
    })
}

fn decode(row: &Row<'_>) -> Result<Revision, StoreError> {
    let s = decode_summary(row)?;
    Ok(Revision {
        number: s.number,
        parent: s.parent,
        created_at: s.created_at,
        author: s.author,
        source: s.source,
        reason: s.reason,
        config_json: get(row, "config_json")?,
        diff: get(row, "diff")?,
    })
}
