//! Origins: requests go to a site's origins in turn; an origin that stops answering is taken
//! out by the health checks (no client sees an error) and brought back once it answers again.

mod common;

use std::time::Duration;

use common::*;
use mamori_core::config::edge::WafMode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_and_health_checks() {
    let a = origin("a").await;
    let b = origin("b").await;
    let mut config = config(vec![site("www", "www.example.jp", &[a.addr, b.addr], WafMode::Off)]);
    config.health_check_interval_secs = 1;
    let edge = start_edge(config).await;

    let mut answers = Vec::new();
    for _ in 0..4 {
        let got = get(&edge, "www.example.jp", "/").await;
        assert_eq!(got.status, 200);
        answers.push(if got.body.contains("origin a") { 'a' } else { 'b' });
    }
    assert_eq!(answers.iter().filter(|&&c| c == 'a').count(), 2, "round robin: {answers:?}");

    // b dies: after a health check every request goes to a, without errors.
    b.stop.cancel();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let served_by_b = b.seen.lock().unwrap().len();
    for _ in 0..4 {
        let got = get(&edge, "www.example.jp", "/").await;
        assert_eq!(got.status, 200, "{got:?}");
        assert!(got.body.contains("origin a"));
    }
    assert_eq!(b.seen.lock().unwrap().len(), served_by_b);

    // b comes back on the same address: the health check returns it to the rotation.
    let b2 = origin_on("b", b.addr).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut back = false;
    for _ in 0..4 {
        back |= get(&edge, "www.example.jp", "/").await.body.contains("origin b");
    }
    assert!(back, "b is used again");
    drop(b2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_origin_answers_502_with_a_page() {
    // A port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let edge = start_edge(config(vec![site("www", "www.example.jp", &[dead], WafMode::Off)])).await;
    let got = get(&edge, "www.example.jp", "/").await;
    assert_eq!(got.status, 502, "{got:?}");
    assert!(got.body.contains("接続できません") && got.body.contains(got.header("x-request-id").unwrap()));
}
