//! Reload: a ruleset that does not compile is refused with its file and line, and the rules in
//! force keep working; a good configuration is put in force without a new listener. Listen
//! addresses move on reload: the new one is bound first (a reload whose address is taken is
//! refused and changes nothing), the old one stops accepting while the request it is serving
//! finishes.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::*;
use mamori_core::config::edge::{EdgeConfig, RuleIds, RulesetConfig, WafMode};
use mamori_edge::{EdgeContext, EdgeSettings, EventWriter, ListenerKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

const SQLI: &str = "/?id=1%27%20OR%201=1--";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_ruleset_leaves_the_running_one_in_force() {
    let o = origin("a").await;
    let good = config(vec![site("www", "www.example.jp", &[o.addr], WafMode::Block)]);
    let edge = start_edge(good.clone()).await;
    assert_eq!(get(&edge, "www.example.jp", SQLI).await.status, 403);

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.conf");
    std::fs::write(&broken, "# a comment\nSecRule ARGS \"@rx a\" \"id:1,phase:2,deny\"\nSecRule ARGS \"@nosuchop x\" \"id:2,phase:2,deny\"\n").unwrap();
    let mut bad = good.clone();
    bad.rulesets.insert("crs".into(), RulesetConfig { setup: None, rules: vec![broken.display().to_string()] });
    let e = edge.ctx.reload(bad, std::path::Path::new(".")).await.unwrap_err().to_string();
    assert!(e.contains("broken.conf:3"), "file and line: {e}");
    assert_eq!(get(&edge, "www.example.jp", SQLI).await.status, 403, "the old rules still block");

    // A good change applies: the rule is excluded now.
    let mut changed = good.clone();
    changed.sites[0].exclude_rules = vec![RuleIds::one(942100)];
    edge.ctx.reload(changed, std::path::Path::new(".")).await.unwrap();
    assert_eq!(get(&edge, "www.example.jp", SQLI).await.status, 200);
}

/// An origin that answers at once, except `/slow`: that request is reported on `arrived` and
/// answered only when `release` fires (each response closes its connection).
async fn holding_origin() -> (SocketAddr, mpsc::Receiver<()>, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (arrived_tx, arrived) = mpsc::channel(4);
    let (release, released) = oneshot::channel::<()>();
    let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (arrived_tx, released) = (arrived_tx.clone(), released.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let body = if head.starts_with(b"GET /slow ") {
                    arrived_tx.send(()).await.unwrap();
                    let rx = released.lock().await.take().expect("one slow request");
                    rx.await.unwrap();
                    "slow answer"
                } else {
                    "quick answer"
                };
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    (addr, arrived, release)
}

fn edge_context(config: &EdgeConfig) -> Arc<EdgeContext> {
    let state = mamori_edge::build_state(config, std::path::Path::new(".")).unwrap();
    let (writer, _) = EventWriter::start(Arc::new(Collected::default()), "edge");
    EdgeContext::new(state, EdgeSettings::from_config(config), writer)
}

/// A port that was free a moment ago.
fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

async fn get_at(addr: SocketAddr, path: &str) -> Got {
    curl(&["-H", "Host: www.example.jp", &format!("http://{addr}{path}")]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_addresses_move_on_reload_and_requests_in_flight_finish() {
    let (origin, mut arrived, release) = holding_origin().await;
    let mut cfg = config(vec![site("www", "www.example.jp", &[origin], WafMode::Off)]);
    cfg.http = Some("127.0.0.1:0".parse().unwrap());
    cfg.https = Some("127.0.0.1:0".parse().unwrap()); // no site has a certificate: not started
    let ctx = edge_context(&cfg);
    let stop = tokio_util::sync::CancellationToken::new();
    let bound = ctx.listen(&cfg, stop.clone()).await.unwrap();
    assert_eq!(bound.len(), 1, "HTTP only, without certificates: {bound:?}");
    let old = ctx.local_addr(ListenerKind::Http).await.unwrap();
    assert_eq!(get_at(old, "/").await.body, "quick answer");

    // A request the origin holds, in flight on the old address.
    let slow = tokio::spawn(get_at(old, "/slow"));
    arrived.recv().await.unwrap();

    // An address in use refuses the reload: nothing changes.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut clash = cfg.clone();
    clash.http = Some(taken.local_addr().unwrap());
    clash.sites[0].frame_options = mamori_core::config::edge::FrameOptions::Deny;
    let e = ctx.reload(clash, std::path::Path::new(".")).await.unwrap_err().to_string();
    assert!(e.contains("edge.http") && e.contains(&taken.local_addr().unwrap().to_string()), "{e}");
    assert_eq!(ctx.local_addr(ListenerKind::Http).await, Some(old));
    let still = get_at(old, "/").await;
    assert_eq!(still.header("x-frame-options"), Some("SAMEORIGIN"), "the old sites stay in force too");
    drop(taken);

    // A free address: bound, and the old one stops accepting.
    let new = free_addr();
    let mut moved = cfg.clone();
    moved.http = Some(new);
    assert_eq!(ctx.bound_addrs(), vec![(ListenerKind::Http, old)], "what status reports before the move");
    ctx.reload(moved.clone(), std::path::Path::new(".")).await.unwrap();
    assert_eq!(ctx.local_addr(ListenerKind::Http).await, Some(new));
    assert_eq!(ctx.bound_addrs(), vec![(ListenerKind::Http, new)], "what status reports after the move");
    assert_eq!(get_at(new, "/").await.body, "quick answer");
    let refused = tokio::net::TcpStream::connect(old).await;
    assert!(refused.is_err(), "the old address still accepts connections");

    // The request in flight on the old address gets its answer.
    release.send(()).unwrap();
    let slow = slow.await.unwrap();
    assert_eq!((slow.status, slow.body.as_str()), (200, "slow answer"));

    // The same addresses again: nothing moves; without `http` the listener goes.
    ctx.reload(moved.clone(), std::path::Path::new(".")).await.unwrap();
    assert_eq!(ctx.local_addr(ListenerKind::Http).await, Some(new));
    let mut off = moved;
    off.http = None;
    ctx.reload(off, std::path::Path::new(".")).await.unwrap();
    assert_eq!(ctx.local_addr(ListenerKind::Http).await, None);
    assert!(ctx.bound_addrs().is_empty());
    assert!(tokio::net::TcpStream::connect(new).await.is_err(), "a removed listener still accepts");
    stop.cancel();
    ctx.close_listeners().await.unwrap();
}
