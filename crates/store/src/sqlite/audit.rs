//! The audit log in SQLite: append-only, read newest first through a tenant-scoped filter.

use rusqlite::types::Value;
use rusqlite::{Connection, Row, TransactionBehavior, params_from_iter};

use super::sql::{Ctx, from_ms, get, limit, prepare, prepare_dynamic, require, to_ms, truncate};
use crate::{AuditEntry, AuditFilter, NewAuditEntry, StoreError};

const SELECT: &str = "SELECT id, at, actor, source_ip, action, target, tenant, outcome, detail FROM audit_log";

pub(super) fn append(conn: &mut Connection, e: NewAuditEntry) -> Result<AuditEntry, StoreError> {
    require("audit actor", &e.actor)?;
    require("audit action", &e.action)?;
    let detail = serde_json::to_string(&e.detail)
        .map_err(|err| StoreError::Invalid(format!("audit detail is not serialisable: {err}")))?;
    // The id is taken as MAX+1 inside an IMMEDIATE transaction: portable (no AUTOINCREMENT or
    // sequences) and gap-free, so a missing id in the log means a deleted entry.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).ctx("starting audit transaction")?;
    let id: i64 = prepare(&tx, "SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log")?
        .query_row([], |row| row.get(0))
        .ctx("allocating audit entry id")?;
    let entry = AuditEntry {
        id,
        at: truncate(e.at),
        actor: e.actor,
        source_ip: e.source_ip,
        action: e.action,
        target: e.target,
        tenant: e.tenant,
        outcome: e.outcome,
        detail: e.detail,
    };
    prepare(
        &tx,
        "INSERT INTO audit_log (id, at, actor, source_ip, action, target, tenant, outcome, \
         detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )?
    .execute((
        entry.id,
        to_ms(entry.at),
        &entry.actor,
        &entry.source_ip,
        &entry.action,
        &entry.target,
        &entry.tenant,
        &entry.outcome,
        detail,
    ))
    .with_ctx(|| format!("writing audit entry {:?} by {:?}", entry.action, entry.actor))?;
    tx.commit().ctx("committing audit entry")?;
    Ok(entry)
}

pub(super) fn list(conn: &Connection, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
    let mut query = Query::new(SELECT);
    if let Some(tenants) = &filter.tenants {
        if tenants.is_empty() {
            // A caller scoped to no tenant sees nothing (not everything).
            return Ok(Vec::new());
        }
        // `tenant IN (...)` is never true for a NULL tenant, which keeps tenant-less entries
        // away from scoped callers.
        let placeholders: Vec<String> = tenants.iter().map(|t| query.bind(Value::Text(t.clone()))).collect();
        query.and(&format!("tenant IN ({})", placeholders.join(", ")));
    }
    if let Some(since) = filter.since {
        let p = query.bind(Value::Integer(to_ms(since)));
        query.and(&format!("at >= {p}"));
    }
    if let Some(until) = filter.until {
        let p = query.bind(Value::Integer(to_ms(until)));
        query.and(&format!("at < {p}"));
    }
    if let Some(actor) = &filter.actor {
        let p = query.bind(Value::Text(actor.clone()));
        query.and(&format!("actor = {p}"));
    }
    if let Some(action) = &filter.action {
        let p = query.bind(Value::Text(action.clone()));
        query.and(&format!("action = {p}"));
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
        // LIKE with an explicit escape character is the same in SQLite and PostgreSQL.
        let escaped: String = text
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '\\' | '%' | '_' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let p = query.bind(Value::Text(format!("%{escaped}%")));
        query.and(&format!(
            "LOWER(actor || ' ' || COALESCE(source_ip, '') || ' ' || action || ' ' || target || ' ' || \
             COALESCE(tenant, '') || ' ' || outcome || ' ' || detail) LIKE {p} ESCAPE '\\'"
        ));
    }
    query.sql.push_str(" ORDER BY at DESC, id DESC");
    if let Some(max) = filter.limit {
        let p = query.bind(Value::Integer(limit(max)));
        query.sql.push_str(&format!(" LIMIT {p}"));
    }
    let mut stmt = prepare_dynamic(conn, &query.sql)?;
    let mut rows = stmt.query(params_from_iter(query.args)).ctx("reading the audit log")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("reading the audit log")? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// A SELECT built clause by clause, numbering `$n` placeholders in the order values are bound.
struct Query {
    sql: String,
    args: Vec<Value>,
    has_where: bool,
}

impl Query {
    fn new(select: &str) -> Self {
        Query { sql: select.to_owned(), args: Vec::new(), has_where: false }
    }

    /// Binds `value` and returns its placeholder.
    fn bind(&mut self, value: Value) -> String {
        self.args.push(value);
        format!("${}", self.args.len())
    }

    fn and(&mut self, condition: &str) {
        self.sql.push_str(if self.has_where { " AND " } else { " WHERE " });
        self.sql.push_str(condition);
        self.has_where = true;
    }
}

fn decode(row: &Row<'_>) -> Result<AuditEntry, StoreError> {
    let id: i64 = get(row, "id")?;
    let detail: String = get(row, "detail")?;
    let detail = serde_json::from_str(&detail)
        .map_err(|e| StoreError::Backend(format!("audit entry {id}: detail is not valid JSON: {e}")))?;
    Ok(AuditEntry {
        id,
        at: from_ms(get(row, "at")?, "audit_log.at")?,
        actor: get(row, "actor")?,
        source_ip: get(row, "source_ip")?,
        action: get(row, "action")?,
        target: get(row, "target")?,
        tenant: get(row, "tenant")?,
        outcome: get(row, "outcome")?,
        detail,
    })
}
