//! ダッシュボード: events per minute over the last hour by tenant and by dataset, top sources,
//! alarms (unassigned senders, dropped or refused events) and the health of each service.
//! Every figure comes from a search in the caller's scope, so a municipality sees only its own.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use mamori_api::AppState;
use mamori_query::agg::TermsResult;
use mamori_query::{AggResult, Aggregation, Interval};
use maud::{Markup, html};
use serde_json::Value;

use super::search::{histogram_bars, run};
use crate::web::auth::Console;
use crate::web::chart;
use crate::web::layout::{notice, page};

const SERIES: usize = 6;
const UNASSIGNED_ALARMS: &str = "event.dataset:mamori.alarm AND event.action:unassigned_sender";

fn terms(r: &[AggResult], i: usize) -> TermsResult {
    match r.get(i) {
        Some(AggResult::Terms(t)) => t.clone(),
        _ => TermsResult::default(),
    }
}

/// A query for one exact value of a field.
fn exact(field: &str, value: &str) -> String {
    format!("{field}:\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `GET /console/`.
pub async fn view(State(state): State<AppState>, c: Console) -> Response {
    let now = Timestamp::now();
    let hour_ago = now.checked_sub(SignedDuration::from_hours(1)).unwrap_or(now);
    let minute = Interval::from_seconds(60).unwrap_or_else(|| mamori_query::auto_interval(hour_ago..now, 60));
    let term = |f: &str, size: usize| Aggregation::Terms { field: f.into(), size };
    let aggs = vec![
        term("organization.id", SERIES),
        term("event.dataset", SERIES),
        term("source.ip", 8),
        term("host.hostname", 8),
        Aggregation::date_histogram(minute),
    ];
    let overview = match run(&state, &c.op, "", hour_ago, now, 1, aggs).await {
        Ok(r) => r,
        Err(e) => return page(&c, c.t("nav.dashboard"), "/console/", notice("error", &e)).into_response(),
    };
    let (tenants, datasets) = (terms(&overview.aggregations, 0), terms(&overview.aggregations, 1));
    let mut by_tenant = Vec::new();
    for b in &tenants.buckets {
        by_tenant.push((
            b.key.clone(),
            b.count,
            series(&state, &c, &exact("organization.id", &b.key), hour_ago, now, minute).await,
        ));
    }
    let mut by_dataset = Vec::new();
    for b in &datasets.buckets {
        by_dataset.push((
            b.key.clone(),
            b.count,
            series(&state, &c, &exact("event.dataset", &b.key), hour_ago, now, minute).await,
        ));
    }
    let day_ago = now.checked_sub(SignedDuration::from_hours(24)).unwrap_or(now);
    let alarms = run(&state, &c.op, UNASSIGNED_ALARMS, day_ago, now, 1, vec![term("source.ip", 10)]).await.ok();
    let current = state.current();
    let name = |id: &str| -> String {
        current.config.tenant(id).map_or_else(
            || id.to_owned(),
            |t| if c.lang == crate::Lang::Ja { t.name_ja.clone() } else { t.name_en.clone() },
        )
    };
    let body = html! {
        div.cards {
            div.card { h2 { (c.t("dash.events_hour")) } p.big #events-hour { (overview.total) }
                (chart::histogram(&histogram_bars(&overview), 420, 110, "overview")) }
            div.card { h2 { (c.t("dash.alarms")) } (alarm_card(&c, alarms.as_ref().map(|a| (a.total, terms(&a.aggregations, 0))))) }
            div.card { h2 { (c.t("dash.health")) } (health(&c, &state)) }
        }
        div.cards {
            div.card.wide { h2 { (c.t("dash.by_tenant")) } (series_table(&c, &by_tenant, &name)) }
            div.card.wide { h2 { (c.t("dash.by_dataset")) } (series_table(&c, &by_dataset, &|s: &str| s.to_owned())) }
        }
        div.cards {
            div.card { h2 { (c.t("dash.top_sources")) } (top(&c, &terms(&overview.aggregations, 2), "source.ip")) }
            div.card { h2 { (c.t("dash.top_hosts")) } (top(&c, &terms(&overview.aggregations, 3), "host.hostname")) }
        }
    };
    page(&c, c.t("nav.dashboard"), "/console/", body).into_response()
}

async fn series(
    state: &AppState,
    c: &Console,
    q: &str,
    from: Timestamp,
    to: Timestamp,
    i: Interval,
) -> Vec<chart::Bar> {
    match run(state, &c.op, q, from, to, 1, vec![Aggregation::date_histogram(i)]).await {
        Ok(r) => histogram_bars(&r),
        Err(_) => Vec::new(),
    }
}

fn series_table(c: &Console, rows: &[(String, u64, Vec<chart::Bar>)], name: &dyn Fn(&str) -> String) -> Markup {
    html! {
        @if rows.is_empty() { p.empty { (c.t("dash.no_events")) } } @else {
            table.series {
                thead { tr { th { (c.t("dash.name")) } th.num { (c.t("dash.per_min")) } th.num { (c.t("dash.hour_total")) } th { (c.t("dash.last_hour")) } } }
                tbody {
                    @for (key, count, bars) in rows {
                        tr {
                            td { (name(key)) }
                            td.num { (format!("{:.1}", *count as f64 / 60.0)) }
                            td.num { (count) }
                            td { (chart::sparkline(bars, 300, 28)) }
                        }
                    }
                }
            }
        }
    }
}

fn top(c: &Console, t: &TermsResult, field: &str) -> Markup {
    html! {
        @if t.buckets.is_empty() { p.empty { (c.t("dash.no_events")) } } @else {
            table.top { tbody {
                @for b in &t.buckets {
                    @let q: String = form_urlencoded::Serializer::new(String::new()).append_pair("q", &exact(field, &b.key)).append_pair("last", "1h").finish();
                    tr { td { a href={ "/console/search?" (q) } { (b.key) } } td.num { (b.count) } }
                }
            } }
        }
    }
}

fn alarm_card(c: &Console, unassigned: Option<(u64, TermsResult)>) -> Markup {
    let counters = if c.op.scope.is_all() { loss_counters() } else { Vec::new() };
    html! {
        @if c.op.scope.is_all() {
            @let (n, senders) = unassigned.unwrap_or_default();
            p { (c.t("dash.unassigned")) ": " strong #unassigned { (n) } }
            @if !senders.buckets.is_empty() {
                ul.compact { @for b in &senders.buckets { li { (b.key) " (" (b.count) ")" } } }
            }
            @for (name, value) in &counters {
                p { (name) ": " strong class=[(*value > 0.0).then_some("bad")] { (value) } }
            }
        } @else {
            p.empty { (c.t("dash.alarms_prefecture")) }
        }
    }
}

/// Totals of the counters of events dropped or refused (UDP queue full, disk full), from the
/// process's metrics.
fn loss_counters() -> Vec<(String, f64)> {
    let text = mamori_core::metrics::render();
    let mut out: Vec<(String, f64)> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((name_labels, value)) = line.rsplit_once(' ') else { continue };
        let name = name_labels.split('{').next().unwrap_or("");
        if !(name.contains("dropped") || name.contains("rejected")) || name.contains("bytes") {
            continue;
        }
        let Ok(v) = value.parse::<f64>() else { continue };
        match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, total)) => *total += v,
            None => out.push((name.to_owned(), v)),
        }
    }
    out
}

fn health(c: &Console, state: &AppState) -> Markup {
    let components = state.status_provider().components();
    let logs = state.logs().stats();
    let listeners = components.get("listeners").and_then(Value::as_object).cloned().unwrap_or_default();
    let indexer_ok = !logs.get("indexer_failed").and_then(Value::as_bool).unwrap_or(false);
    let lag = logs
        .get("durable_lsn")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .saturating_sub(logs.get("indexed_lsn").and_then(Value::as_u64).unwrap_or(0));
    html! {
        table.health { tbody {
            tr { td { "api" } td.ok { (c.t("dash.running")) } }
            @for (name, v) in &listeners {
                @let st = v.get("state").and_then(Value::as_str).unwrap_or("?");
                tr { td { (name) } td class=(if st == "running" { "ok" } else { "bad" }) { (if st == "running" { c.t("dash.running") } else { st }) } }
            }
            tr { td { (c.t("dash.indexer")) } td class=(if indexer_ok { "ok" } else { "bad" }) {
                (if indexer_ok { c.t("dash.running") } else { c.t("dash.failed") }) " · " (c.t("dash.lag")) " " (lag) } }
        } }
    }
}
