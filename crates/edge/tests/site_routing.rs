//! Which site answers and with which rules: wildcard host names (`*.example.lg.jp`) beside
//! exact ones, and rule exclusions written as id ranges.

mod common;

use common::*;
use mamori_core::config::edge::{RuleIds, WafMode};

const SQLI: &str = "/?id=1%27%20OR%201=1--";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcard_hosts_route_names_under_a_domain() {
    let (any, www) = (origin("any").await, origin("www").await);
    let mut wildcard = site("wildcard", "*.example.lg.jp", &[any.addr], WafMode::Off);
    wildcard.hosts.push("*.city.example.lg.jp".into());
    let edge =
        start_edge(config(vec![wildcard, site("www", "www.city.example.lg.jp", &[www.addr], WafMode::Off)])).await;

    for (host, want) in [
        ("www.city.example.lg.jp", "origin www"),
        ("WWW.City.Example.lg.jp", "origin www"),
        ("mail.city.example.lg.jp", "origin any"),
        ("a.b.example.lg.jp", "origin any"),
    ] {
        let got = get(&edge, host, "/").await;
        assert_eq!(got.status, 200, "{host}: {got:?}");
        assert!(got.body.contains(want), "{host}: {}", got.body);
    }
    // The domain itself is not under it, and other domains are no site's.
    assert_eq!(get(&edge, "example.lg.jp", "/").await.status, 404);
    assert_eq!(get(&edge, "www.example.jp", "/").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_exclusions_take_id_ranges() {
    let o = origin("a").await;
    // This SQL injection is found by 942100 at paranoia level 1 (see tests/waf.rs).
    let mut covering = site("covering", "covering.example.jp", &[o.addr], WafMode::Block);
    covering.exclude_rules = vec![RuleIds { first: 942000, last: 942199 }];
    let mut beside = site("beside", "beside.example.jp", &[o.addr], WafMode::Block);
    beside.exclude_rules = vec![RuleIds { first: 942101, last: 942199 }, RuleIds::one(942099)];
    let edge = start_edge(config(vec![covering, beside])).await;

    assert_eq!(get(&edge, "covering.example.jp", SQLI).await.status, 200, "942100 is in 942000-942199");
    assert_eq!(get(&edge, "beside.example.jp", SQLI).await.status, 403, "942100 is in neither range");
}
