//! ログ検索: the query bar, a time range, a histogram over time and the matching events, each
//! expandable to the whole event. A GET form, so the URL of a search is shareable. The caller's
//! tenant scope is applied on the server by the log store, as for the API.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use mamori_api::AppState;
use mamori_api::auth::Operator;
use mamori_api::blocking::blocking;
use mamori_api::scope::Scope;
use mamori_logs::{SearchRequest, SearchResponse, TenantScope};
use mamori_query::{AggResult, Aggregation, auto_interval};
use maud::{Markup, html};
use serde_json::Value;

use crate::web::auth::Console;
use crate::web::chart;
use crate::web::form::Fields;
use crate::web::layout::{notice, page};
use crate::web::time::{RANGES, Range, range, show};

const PAGE_ROWS: usize = 100;
const HISTOGRAM_BARS: u32 = 60;

/// What a search page or export was asked for.
pub struct Params {
    pub q: String,
    pub last: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Params {
    pub fn from_query(query: Option<&str>) -> Params {
        let f = Fields::parse(query.unwrap_or("").as_bytes());
        Params { q: f.get("q").to_owned(), last: f.opt("last"), from: f.opt("from"), to: f.opt("to") }
    }

    /// The query string of these parameters, for links to the same search.
    pub fn query_string(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("q", &self.q);
        if let Some(v) = &self.last {
            s.append_pair("last", v);
        }
        if let Some(v) = &self.from {
            s.append_pair("from", v);
        }
        if let Some(v) = &self.to {
            s.append_pair("to", v);
        }
        s.finish()
    }
}

/// Runs a search in the caller's scope. Errors are the query's (shown to the user).
pub async fn run(
    state: &AppState,
    op: &Operator,
    query: &str,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
    aggregations: Vec<Aggregation>,
) -> Result<SearchResponse, String> {
    let parsed = mamori_query::parse(query, Timestamp::now()).map_err(|e| e.to_string())?;
    let tenants = match &op.scope {
        Scope::All => TenantScope::All,
        Scope::Only(list) => TenantScope::Only(list.clone()),
    };
    let request =
        SearchRequest { query: parsed, from, to, tenants, limit: limit.max(1), oldest_first: false, aggregations };
    let logs = state.logs().clone();
    blocking(move || logs.search(&request).map_err(|e| mamori_api::ApiError::bad_request(e.to_string())))
        .await
        .map_err(|e| e.message.clone())
}

/// The buckets of the first date histogram of a response.
pub fn histogram_bars(r: &SearchResponse) -> Vec<chart::Bar> {
    r.aggregations
        .iter()
        .find_map(|a| match a {
            AggResult::DateHistogram(h) => Some(h.buckets.iter().map(|b| (b.start, b.count)).collect()),
            _ => None,
        })
        .unwrap_or_default()
}

/// A field of an event by dotted path, as text.
pub fn field(event: &Value, path: &str) -> String {
    let mut v = event;
    for part in path.split('.') {
        match v.get(part) {
            Some(next) => v = next,
            None => return event.get(path).map(text).unwrap_or_default(),
        }
    }
    text(v)
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn form(c: &Console, p: &Params, r: Option<&Range>) -> Markup {
    let last = r.and_then(|r| r.last.clone()).unwrap_or_else(|| "24h".into());
    html! {
        form.searchbar method="get" action="/console/search" {
            input.q name="q" value=(p.q) placeholder=(c.t("search.placeholder")) aria-label=(c.t("search.query")) autofocus;
            select name="last" aria-label=(c.t("search.range")) {
                @for r in RANGES {
                    option value=(r) selected[p.from.is_none() && p.to.is_none() && last == *r] { (c.t("search.last")) " " (r) }
                }
            }
            input.time name="from" value=[p.from.as_deref()] placeholder=(c.t("search.from")) aria-label=(c.t("search.from"));
            input.time name="to" value=[p.to.as_deref()] placeholder=(c.t("search.to")) aria-label=(c.t("search.to"));
            button type="submit" { (c.t("search.submit")) }
        }
    }
}

/// `GET /console/search`.
pub async fn view(State(state): State<AppState>, c: Console, RawQuery(q): RawQuery) -> Response {
    let p = Params::from_query(q.as_deref());
    let title = c.t("nav.search");
    let r = match range(p.last.as_deref(), p.from.as_deref(), p.to.as_deref(), "24h") {
        Ok(r) => r,
        Err(e) => return page_html(&c, title, html! { (form(&c, &p, None)) (notice("error", &e)) }),
    };
    let interval = auto_interval(r.from..r.to, HISTOGRAM_BARS);
    let aggs = vec![Aggregation::date_histogram(interval)];
    let result = run(&state, &c.op, &p.q, r.from, r.to, PAGE_ROWS, aggs).await;
    let share = format!("/console/search?{}", p.query_string());
    let body = match result {
        Err(e) => html! { (form(&c, &p, Some(&r))) (notice("error", &format!("{}: {e}", c.t("search.error")))) },
        Ok(res) => html! {
            (form(&c, &p, Some(&r)))
            div.summary {
                span #total { (res.total) } " " (c.t("search.hits"))
                " · " (show(r.from)) " – " (show(r.to)) " · " (res.took_ms) " ms"
                span.links {
                    a href=(share) #share { (c.t("search.share")) }
                    a href={ "/console/search/export.csv?" (p.query_string()) } { "CSV" }
                    a href={ "/console/search/export.ndjson?" (p.query_string()) } { "NDJSON" }
                }
            }
            div #histogram { (chart::histogram(&histogram_bars(&res), 1280, 140, "histogram")) }
            @if res.events.is_empty() {
                p.empty { (c.t("search.none")) }
            } @else {
                div.events {
                    div.event-head {
                        span { (c.t("col.time")) } span { (c.t("col.tenant")) } span { (c.t("col.dataset")) }
                        span { (c.t("col.host")) } span { (c.t("col.message")) }
                    }
                    @for e in &res.events { (event_row(e)) }
                }
                @if res.total as usize > res.events.len() {
                    p.more { (c.t("search.more")) " (" (res.events.len()) " / " (res.total) ")" }
                }
            }
        },
    };
    page_html(&c, title, body)
}

fn page_html(c: &Console, title: &str, body: Markup) -> Response {
    page(c, title, "/console/search", body).into_response()
}

fn event_row(e: &Value) -> Markup {
    let pretty = serde_json::to_string_pretty(e).unwrap_or_default();
    let time = field(e, "@timestamp");
    let shown = time.parse::<Timestamp>().map(show).unwrap_or(time);
    html! {
        details.event {
            summary {
                span.t { (shown) }
                span { (field(e, "organization.id")) }
                span { (field(e, "event.dataset")) }
                span { (field(e, "host.hostname")) }
                span.msg { (field(e, "message")) }
            }
            pre.json { (pretty) }
        }
    }
}
