//! The proxy's pooled origin connections, with curl in front and origins that count the
//! connections they accept: a kept-alive connection is reused by the next request, and a
//! request that meets a pooled connection the origin has closed is sent again on a new one.
//! Every request's access-log record reaches the log store's sink.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mamori_proxy::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::Collected;

struct Proxy {
    addr: SocketAddr,
    events: Arc<Collected>,
    rt: tokio::runtime::Runtime,
}

fn proxy() -> Proxy {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let events = Arc::new(Collected::default());
    let addr = rt.block_on(async {
        let (log, _task) = AccessLog::start(events.clone(), "proxy");
        let ctx = ProxyContext::new(common::state(), log, ProxySettings::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, ctx, tokio_util::sync::CancellationToken::new()));
        addr
    });
    Proxy { addr, events, rt }
}

/// An origin that answers every request with `ok` and counts the connections it accepted;
/// with `close_after_answer` it closes each connection after one answer, without saying so
/// in a `Connection: close` header (as an origin whose keep-alive timeout just ran out does).
fn origin(p: &Proxy, close_after_answer: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let addr = p.rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Ok(n) = s.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        // Requests here have no body: each ends with its head.
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                            if s.write_all(answer).await.is_err() || close_after_answer {
                                return;
                            }
                        }
                    }
                });
            }
        });
        addr
    });
    (addr, accepted)
}

fn curl(p: &Proxy, url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--interface", "127.0.0.3", "-x", &format!("http://{}", p.addr)])
        .args(["-w", "\n%{http_code}", url])
        .output()
        .expect("curl runs (apt-get install curl)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// The access-log events so far whose `url.full` contains `needle`, waiting for the batch
/// that holds them (handed over within milliseconds) for up to ten seconds.
fn logged(p: &Proxy, needle: &str, expected: usize) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    for _ in 0..200 {
        found = p
            .events
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .filter(|v| v["url"]["full"].as_str().unwrap_or("").contains(needle))
            .collect();
        if found.len() >= expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    found
}

#[test]
fn requests_one_after_another_share_one_origin_connection() {
    let p = proxy();
    let (origin, accepted) = origin(&p, false);
    for i in 0..3 {
        let (code, body) = curl(&p, &format!("http://{origin}/reuse/{i}"));
        assert_eq!((code, body.as_str()), (200, "ok"), "request {i}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "the origin accepted one connection for three requests");
    let events = logged(&p, "/reuse/", 3);
    assert_eq!(events.len(), 3, "one access-log event per request: {events:?}");
    for e in &events {
        assert_eq!(e["event"]["dataset"], "proxy.access");
        assert_eq!(e["organization"]["id"], "aoba");
        assert_eq!(e["http"]["response"]["status_code"], 200);
    }
}

#[test]
fn a_request_meeting_a_connection_the_origin_closed_is_sent_on_a_new_one() {
    let p = proxy();
    let (origin, accepted) = origin(&p, true);
    for i in 0..3 {
        let (code, body) = curl(&p, &format!("http://{origin}/closed/{i}"));
        assert_eq!((code, body.as_str()), (200, "ok"), "request {i}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "each request needed a connection of its own");
    assert_eq!(logged(&p, "/closed/", 3).len(), 3);
}
