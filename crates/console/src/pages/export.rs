//! Export of a search as CSV or NDJSON: the same parameters as the search page, the same
//! tenant scope, newest first, streamed page by page so that a large export neither waits for
//! the whole result nor holds it in memory. Each export is audited with its size.

use std::collections::HashSet;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use mamori_api::AppState;
use mamori_api::scope::Scope;
use mamori_logs::{SearchRequest, TenantScope};
use mamori_query::Query;
use mamori_store::NewAuditEntry;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::search::{Params, field};
use crate::web::auth::Console;
use crate::web::time::range;

/// Events per search page of an export.
const PAGE: usize = 5_000;
/// The most events one export holds; narrow the time range for more.
pub const MAX_EXPORT: u64 = 1_000_000;

/// The columns of the CSV export.
const COLUMNS: &[&str] = &[
    "@timestamp",
    "organization.id",
    "event.dataset",
    "event.id",
    "host.hostname",
    "source.ip",
    "destination.ip",
    "user.name",
    "message",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Ndjson,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }

    fn header(self) -> String {
        match self {
            // The BOM: Excel in Japan reads UTF-8 CSV correctly only with it.
            Format::Csv => format!("\u{feff}{}\r\n", COLUMNS.join(",")),
            Format::Ndjson => String::new(),
        }
    }

    fn row(self, e: &Value, out: &mut String) {
        match self {
            Format::Csv => {
                let row: Vec<String> = COLUMNS.iter().map(|c| cell(&field(e, c))).collect();
                out.push_str(&row.join(","));
                out.push_str("\r\n");
            }
            Format::Ndjson => {
                out.push_str(&e.to_string());
                out.push('\n');
            }
        }
    }
}

/// `GET /console/search/export.csv`.
pub async fn csv(State(state): State<AppState>, c: Console, RawQuery(q): RawQuery) -> Response {
    export(state, c, q.as_deref(), Format::Csv).await
}

/// `GET /console/search/export.ndjson`: whole events, one per line.
pub async fn ndjson(State(state): State<AppState>, c: Console, RawQuery(q): RawQuery) -> Response {
    export(state, c, q.as_deref(), Format::Ndjson).await
}

async fn export(state: AppState, c: Console, query: Option<&str>, format: Format) -> Response {
    let p = Params::from_query(query);
    let r = match range(p.last.as_deref(), p.from.as_deref(), p.to.as_deref(), "24h") {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let parsed = match mamori_query::parse(&p.q, Timestamp::now()) {
        Ok(q) => q,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let tenants = match &c.op.scope {
        Scope::All => TenantScope::All,
        Scope::Only(list) => TenantScope::Only(list.clone()),
    };
    let tenant = c.op.scope.as_filter().and_then(|t| t.first().cloned());
    let audit = c.op.audit(
        "search.export",
        "logs",
        tenant,
        "success",
        json!({"query": p.q, "from": r.from, "to": r.to, "format": format.name()}),
    );
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let job = Job { query: parsed, from: r.from, to: r.to, tenants, format };
    tokio::task::spawn_blocking(move || job.run(&state, tx, audit));
    let (kind, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "mamori-search.csv"),
        Format::Ndjson => ("application/x-ndjson", "mamori-search.ndjson"),
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [(header::CONTENT_TYPE, kind.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        Body::from_stream(Chunks(rx)),
    )
        .into_response()
}

struct Job {
    query: Query,
    from: Timestamp,
    to: Timestamp,
    tenants: TenantScope,
    format: Format,
}

impl Job {
    /// Runs the search page by page, newest first, sending each page as one chunk. The next
    /// page ends just after the oldest event of the last one; events of that last millisecond
    /// that were already sent are skipped, so nothing is lost or repeated at page borders
    /// (unless more than a whole page of events share one millisecond: then it stops there).
    fn run(self, state: &AppState, tx: mpsc::Sender<Bytes>, mut audit: NewAuditEntry) {
        let mut to = self.to;
        let mut sent = 0u64;
        let mut border: HashSet<String> = HashSet::new();
        let mut outcome = "success";
        let mut chunk = self.format.header();
        loop {
            let req = SearchRequest {
                query: self.query.clone(),
                from: self.from,
                to,
                tenants: self.tenants.clone(),
                limit: PAGE,
                oldest_first: false,
                aggregations: Vec::new(),
            };
            let page = match state.logs().search(&req) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "export stopped by a search error");
                    chunk.push_str(&format!("# export stopped: {e}\n"));
                    outcome = "failure";
                    break;
                }
            };
            let full = page.events.len() == PAGE;
            let oldest = page.events.last().and_then(|e| field(e, "@timestamp").parse::<Timestamp>().ok());
            let mut fresh = 0;
            let mut next_border = HashSet::new();
            for e in &page.events {
                let id = id_of(e);
                if border.contains(&id) {
                    continue;
                }
                if sent >= MAX_EXPORT {
                    break;
                }
                self.format.row(e, &mut chunk);
                sent += 1;
                fresh += 1;
                if oldest.is_some_and(|o| ms(e) == o.as_millisecond()) {
                    next_border.insert(id);
                }
            }
            if tx.blocking_send(Bytes::from(std::mem::take(&mut chunk))).is_err() {
                outcome = "aborted"; // the client went away
                break;
            }
            let Some(oldest) = oldest.filter(|_| full && fresh > 0 && sent < MAX_EXPORT) else { break };
            // The page ends inside one millisecond: carry its ids over (and those before, if
            // the whole page was one millisecond).
            if next_border.len() == fresh {
                next_border.extend(border)
            }
            border = next_border;
            to = Timestamp::from_millisecond(oldest.as_millisecond() + 1).unwrap_or(oldest).min(to);
            if to <= self.from {
                break;
            }
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(Bytes::from(chunk));
        }
        audit.outcome = outcome.to_owned();
        if let Value::Object(m) = &mut audit.detail {
            m.insert("events".into(), json!(sent));
        }
        if let Err(e) = state.store().append_audit(audit) {
            tracing::error!(error = %e, "cannot append the export to the audit log");
        }
    }
}

fn id_of(e: &Value) -> String {
    let id = field(e, "event.id");
    if id.is_empty() { e.to_string() } else { id }
}

fn ms(e: &Value) -> i64 {
    field(e, "@timestamp").parse::<Timestamp>().map_or(i64::MIN, |t| t.as_millisecond())
}

/// The chunks of an export as a body stream.
struct Chunks(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|c| c.map(Ok))
    }
}

/// One CSV cell (RFC 4180), with cells that a spreadsheet would run as a formula defused.
fn cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.to_owned() };
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn csv_cells() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=cmd()"), "'=cmd()");
    }
}
