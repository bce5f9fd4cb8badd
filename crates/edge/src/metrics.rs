//! Counters of the edge (`mamori_edge_*` at `/metrics`): what happened to requests, rule
//! matches, origins failing, and reloads refused.

use std::sync::LazyLock;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

type Label = [(&'static str, &'static str); 1];

pub struct Metrics {
    /// By outcome: `passed`, `blocked`, `unknown_host`, `too_large`, `bad_request`, `origin_error`.
    pub requests: Family<Label, Counter>,
    pub waf_matches: Counter,
    pub origin_failures: Counter,
    pub reload_failures: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let m = Metrics {
        requests: Family::default(),
        waf_matches: Counter::default(),
        origin_failures: Counter::default(),
        reload_failures: Counter::default(),
    };
    use mamori_core::metrics::register;
    register("edge_requests", "Requests to the edge, by outcome", m.requests.clone());
    register("edge_waf_matches", "WAF rule matches logged as alerts", m.waf_matches.clone());
    register(
        "edge_origin_failures",
        "Requests to origins that failed (connection or timeout)",
        m.origin_failures.clone(),
    );
    register(
        "edge_reload_failures",
        "Reloads refused because a ruleset or certificate did not load",
        m.reload_failures.clone(),
    );
    m
});

pub fn metrics() -> &'static Metrics {
    &METRICS
}

pub fn count_request(outcome: &'static str) {
    METRICS.requests.get_or_create(&[("outcome", outcome)]).inc();
}
