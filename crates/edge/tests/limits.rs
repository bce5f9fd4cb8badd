//! What the edge answers itself: 413 for an oversized body, a page for a host no site has,
//! 400 for a malformed request; and the clickjacking header the site asks for.

mod common;

use std::io::{Read, Write};

use common::*;
use mamori_core::config::edge::WafMode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_unknown_hosts_and_clickjacking() {
    let o = origin("a").await;
    let mut s = site("www", "www.example.jp", &[o.addr], WafMode::Block);
    s.frame_ancestors = Some("'self'".into());
    let mut config = config(vec![s]);
    config.max_request_body_bytes = 1000;
    let edge = start_edge(config).await;

    // A body over the limit: 413, and the origin never sees it.
    let url = format!("http://{}/upload", edge.http);
    let body = "x=".to_string() + &"a".repeat(5000);
    let got = curl(&["-H", "Host: www.example.jp", "--data-binary", &body, &url]).await;
    assert_eq!(got.status, 413, "{got:?}");
    assert!(got.body.contains("大きすぎます"));
    // The same without Content-Length (chunked): 413 once the limit is passed.
    let got =
        curl(&["-H", "Host: www.example.jp", "-H", "Transfer-Encoding: chunked", "--data-binary", &body, &url]).await;
    assert_eq!(got.status, 413, "{got:?}");
    assert!(o.seen.lock().unwrap().is_empty());

    // A host no site has: a page, counted, logged as unassigned.
    let got = get(&edge, "unknown.example.jp", "/").await;
    assert_eq!(got.status, 404, "{got:?}");
    assert!(got.body.contains("提供されていません"));
    let rid = got.header("x-request-id").unwrap().to_string();
    let access = edge.events.wait_for(|e| e["http"]["request"]["id"] == rid.as_str()).await;
    assert_eq!(access[0]["organization"]["id"], "unassigned");
    assert_eq!(access[0]["event"]["action"], "unknown_host");
    assert!(mamori_core::metrics::render().contains("mamori_edge_requests_total{outcome=\"unknown_host\"}"));

    // Clickjacking: added when the origin sent none, the origin's own kept.
    let got = get(&edge, "www.example.jp", "/").await;
    assert_eq!(got.header("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(got.header("content-security-policy"), Some("frame-ancestors 'self'"));
    let got = get(&edge, "www.example.jp", "/framed").await;
    assert_eq!(got.header("x-frame-options"), Some("DENY"));

    // A malformed request (a space in the target) gets a clear 400, and the edge goes on.
    let addr = edge.http;
    let reply = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /a b c HTTP/1.1\r\nHost: www.example.jp\r\n\r\n").unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert_eq!(get(&edge, "www.example.jp", "/").await.status, 200);
}
