//! The WAF on real requests: benign ones reach the origin with the forwarding headers, attacks
//! (and a response leaking a database error) get the Japanese block page in block mode and pass with an alert in detect mode, and a
//! site's rule exclusions apply to that site only.

mod common;

use common::*;
use mamori_core::config::edge::{RuleIds, WafMode};

const SQLI: &str = "/?id=1%27%20OR%201=1--";
const XSS: &str = "/?q=%3Cscript%3Ealert(1)%3C/script%3E";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn benign_requests_pass_attacks_are_blocked_or_logged() {
    let o = origin("a").await;
    let mut excluded = site("excluded", "excluded.example.jp", &[o.addr], WafMode::Block);
    // The rules this SQL injection sets off at paranoia level 1 (see the block case below).
    excluded.exclude_rules = vec![RuleIds::one(942100)];
    let edge = start_edge(config(vec![
        site("block", "block.example.jp", &[o.addr], WafMode::Block),
        site("detect", "detect.example.jp", &[o.addr], WafMode::Detect),
        excluded,
    ]))
    .await;

    // Benign: passes, the origin learns who asked.
    let got = get(&edge, "block.example.jp", "/news/index.html?page=2").await;
    assert_eq!(got.status, 200, "{got:?}");
    assert!(got.body.contains("origin a"));
    let seen = o.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(seen.headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(seen.headers["x-forwarded-proto"], "http");
    assert_eq!(seen.headers["host"], "block.example.jp");
    let rid = got.header("x-request-id").unwrap().to_string();
    assert_eq!(seen.headers["x-request-id"], rid.as_str());
    let access = edge.events.wait_for(|e| e["http"]["request"]["id"] == rid.as_str()).await;
    assert_eq!(access.len(), 1, "one access event per request");
    let a = &access[0];
    assert_eq!(a["event"]["dataset"], "edge.access");
    assert_eq!(a["organization"]["id"], "midori");
    assert_eq!(a["source"]["ip"], "127.0.0.1");
    assert_eq!(a["http"]["response"]["status_code"], 200);
    assert_eq!(a["url"]["path"], "/news/index.html");
    assert_eq!(a["user_agent"]["original"], "Mozilla/5.0 (test)");
    assert_eq!(a["mamori"]["edge"]["waf"]["action"], "none");

    // Attacks in block mode: 403 and the block page with the request id.
    for attack in [SQLI, XSS] {
        let before = o.seen.lock().unwrap().len();
        let got = get(&edge, "block.example.jp", attack).await;
        assert_eq!(got.status, 403, "{attack}: {got:?}");
        assert_eq!(got.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(got.body.contains("アクセスがブロックされました"), "{}", got.body);
        let rid = got.header("x-request-id").unwrap().to_string();
        assert!(got.body.contains(&rid), "the page shows the request id");
        assert_eq!(o.seen.lock().unwrap().len(), before, "a blocked request never reaches the origin");
        let alerts =
            edge.events.wait_for(|e| e["event"]["kind"] == "alert" && e["event"]["reference"] == rid.as_str()).await;
        assert!(!alerts.is_empty(), "{attack}: no alert event");
        let ids: Vec<&str> = alerts.iter().map(|e| e["rule"]["id"].as_str().unwrap()).collect();
        eprintln!("{attack}: rules {ids:?}");
        assert!(ids.contains(&"949110"), "the anomaly score blocked it: {ids:?}");
        let first = &alerts[0];
        assert_eq!(first["event"]["dataset"], "edge.waf");
        assert_eq!(first["organization"]["id"], "midori");
        assert!(first["mamori"]["edge"]["waf"]["anomaly_score"]["inbound"].as_i64().unwrap() >= 5, "{first}");
        assert!(first["mamori"]["edge"]["waf"]["matched"]["data"].as_str().unwrap().len() <= 260);
        let access = edge
            .events
            .wait_for(|e| e["event"]["dataset"] == "edge.access" && e["http"]["request"]["id"] == rid.as_str())
            .await;
        assert_eq!(access[0]["mamori"]["edge"]["waf"]["action"], "blocked");
    }

    // The response is inspected too: a page leaking a database error is not shown.
    let got = get(&edge, "block.example.jp", "/leak").await;
    assert_eq!(got.status, 403, "{got:?}");
    assert!(!got.body.contains("SQL syntax"));
    let rid = got.header("x-request-id").unwrap().to_string();
    let alerts =
        edge.events.wait_for(|e| e["event"]["kind"] == "alert" && e["event"]["reference"] == rid.as_str()).await;
    assert!(alerts.iter().any(|e| e["rule"]["id"] == "959100"), "outbound anomaly score: {alerts:?}");

    // Detect mode: the same attack passes and is logged.
    let got = get(&edge, "detect.example.jp", SQLI).await;
    assert_eq!(got.status, 200, "{got:?}");
    let rid = got.header("x-request-id").unwrap().to_string();
    let alerts =
        edge.events.wait_for(|e| e["event"]["kind"] == "alert" && e["event"]["reference"] == rid.as_str()).await;
    assert!(alerts.iter().any(|e| e["rule"]["id"] == "942100"), "{alerts:?}");
    assert_eq!(alerts[0]["event"]["action"], "detected");

    // The excluded rule is gone for that site only.
    let got = get(&edge, "excluded.example.jp", SQLI).await;
    assert_eq!(got.status, 200, "{got:?}");
    let rid = got.header("x-request-id").unwrap().to_string();
    let access = edge
        .events
        .wait_for(|e| e["event"]["dataset"] == "edge.access" && e["http"]["request"]["id"] == rid.as_str())
        .await;
    assert_eq!(access.len(), 1);
    let alerts = edge
        .events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.event.extra.get("reference").is_some_and(|r| r == rid.as_str()))
        .count();
    assert_eq!(alerts, 0, "942100 was excluded for this site");
}
