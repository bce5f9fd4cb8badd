//! Export of a search as CSV or NDJSON: the same parameters as the search page, the same
//! tenant scope, at most `MAX_LIMIT` events (newest first), and an audit entry for each export.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_api::{AppState, audit};
use mamori_logs::search::MAX_LIMIT;
use serde_json::{Value, json};

use super::search::{Params, field, run};
use crate::web::auth::Console;
use crate::web::time::range;

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

async fn events(state: &AppState, c: &Console, query: Option<&str>, format: &str) -> Result<Vec<Value>, Response> {
    let p = Params::from_query(query);
    let r = range(p.last.as_deref(), p.from.as_deref(), p.to.as_deref(), "24h")
        .map_err(|e| (StatusCode::BAD_REQUEST, e).into_response())?;
    let res = run(state, &c.op, &p.q, r.from, r.to, MAX_LIMIT, Vec::new())
        .await
        .map_err(|e| (StatusCode::BAD_REQUEST, e).into_response())?;
    let detail = json!({"query": p.q, "from": r.from, "to": r.to, "format": format, "events": res.events.len()});
    let tenant = c.op.scope.as_filter().and_then(|t| t.first().cloned());
    audit::record(state, c.op.audit("search.export", "logs", tenant, "success", detail)).await;
    Ok(res.events)
}

/// `GET /console/search/export.csv`.
pub async fn csv(State(state): State<AppState>, c: Console, RawQuery(q): RawQuery) -> Response {
    let events = match events(&state, &c, q.as_deref(), "csv").await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let mut out = String::from("\u{feff}"); // BOM: Excel in Japan reads UTF-8 CSV only with it.
    out.push_str(&COLUMNS.join(","));
    out.push_str("\r\n");
    for e in &events {
        let row: Vec<String> = COLUMNS.iter().map(|c| cell(&field(e, c))).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    download(out, "text/csv; charset=utf-8", "mamori-search.csv")
}

/// `GET /console/search/export.ndjson`: whole events, one per line.
pub async fn ndjson(State(state): State<AppState>, c: Console, RawQuery(q): RawQuery) -> Response {
    let events = match events(&state, &c, q.as_deref(), "ndjson").await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let mut out = String::new();
    for e in &events {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    download(out, "application/x-ndjson", "mamori-search.ndjson")
}

fn download(body: String, kind: &'static str, name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    ([(header::CONTENT_TYPE, kind.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
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
