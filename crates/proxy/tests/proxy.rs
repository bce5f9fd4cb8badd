//! The proxy with real clients (curl, openssl s_client, raw sockets) in front and a real HTTP
//! origin behind, on loopback. Tenants are told apart by loopback source addresses
//! (127.0.0.2 みどり市, 127.0.0.3 あおば町 and its own proxy at 127.0.0.4).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use mamori_core::attribution::TenantDirectory;
use mamori_proxy::*;
use mamori_urlfilter::*;

mod common;
use common::{Collected, tenant};

fn state() -> ProxyState {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("gambling")).unwrap();
    std::fs::write(dir.path().join("gambling/domains"), "casino.test\n").unwrap();
    let mut b = MatcherBuilder::new();
    for (name, list) in load_category_dir(dir.path()).unwrap() {
        let id = b.list(&format!("category:{name}")).unwrap();
        list.entries.into_iter().for_each(|e| b.add(id, e));
    }
    let block = b.list("common-block").unwrap();
    b.add(block, Entry::domain("blocked.test").unwrap());
    let threat = b.list("threat-feed").unwrap();
    b.add(threat, Entry::domain("cc.test").unwrap());
    let readonly = b.list("bbs").unwrap();
    b.add(readonly, Entry::domain("localhost").unwrap());
    let matcher = b.build().unwrap();
    let mut common = Policy::new();
    common
        .set(block, Action::Block)
        .set(threat, Action::Threat)
        .set(matcher.list_id("category:gambling").unwrap(), Action::Block);
    let mut midori = common.clone();
    midori.set(readonly, Action::ReadOnly);
    let directory = TenantDirectory::new(vec![tenant("midori", "127.0.0.2/32"), tenant("aoba", "127.0.0.3/32")], &[]);
    let mut tenants = HashMap::new();
    tenants.insert(
        "midori".to_string(),
        TenantWebPolicy { policy: midori, helpdesk: Some("情報政策課 内線1234".into()), ..Default::default() },
    );
    tenants.insert(
        "aoba".to_string(),
        TenantWebPolicy {
            policy: common.clone(),
            trusted_proxies: vec!["127.0.0.4/32".parse().unwrap()],
            ..Default::default()
        },
    );
    ProxyState::new(
        Arc::new(directory),
        Arc::new(matcher),
        tenants,
        TenantWebPolicy { policy: common, ..Default::default() },
        false,
    )
}

struct Harness {
    proxy: SocketAddr,
    origin: SocketAddr,
    events: Arc<Collected>,
    ctx: Arc<ProxyContext>,
    _rt: tokio::runtime::Runtime,
}

/// An origin that answers every request with the request head it received.
async fn origin() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                    let mut head = format!("{} {}\n", req.method(), req.uri());
                    for (k, v) in req.headers() {
                        head.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("?")));
                    }
                    Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                        bytes::Bytes::from(head),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    addr
}

fn harness() -> Harness {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let events = Arc::new(Collected::default());
    let settings = ProxySettings { header_timeout: Duration::from_secs(1), ..Default::default() };
    let (ctx, proxy, origin) = rt.block_on(async {
        let (log, _task) = AccessLog::start(events.clone(), "proxy");
        let ctx = ProxyContext::new(state(), log, settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, ctx.clone(), tokio_util::sync::CancellationToken::new()));
        (ctx, proxy, origin().await)
    });
    Harness { proxy, origin, events, ctx, _rt: rt }
}

struct CurlOut {
    code: u16,
    body: String,
    headers: String,
}

impl Harness {
    fn curl(&self, from: &str, args: &[&str]) -> CurlOut {
        let out = Command::new("curl")
            .args(["-s", "-D", "-", "--max-time", "10", "--interface", from, "-x", &format!("http://{}", self.proxy)])
            .args(["-w", "\n%{http_code}"])
            .args(args)
            .output()
            .expect("curl runs (apt-get install curl)");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (rest, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        let (headers, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
        CurlOut { code: code.trim().parse().unwrap_or(0), body: body.to_string(), headers: headers.to_lowercase() }
    }

    fn events_for(&self, needle: &str) -> Vec<serde_json::Value> {
        std::thread::sleep(Duration::from_millis(200));
        let events = self.events.0.lock().unwrap();
        events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .filter(|v| v["url"]["full"].as_str().unwrap_or("").contains(needle))
            .collect()
    }
}

#[test]
fn allowed_requests_reach_the_origin_without_terminal_information() {
    let h = harness();
    let url = format!("http://{}/page?x=1", h.origin);
    let r = h.curl(
        "127.0.0.2",
        &[
            "-H",
            "X-Forwarded-For: 10.1.1.1",
            "-H",
            "Via: 1.1 town",
            "-H",
            "X-Real-IP: 10.1.1.1",
            "-H",
            "Forwarded: for=10.1.1.1",
            &url,
        ],
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert!(r.body.starts_with("GET /page?x=1\n"), "origin-form towards the origin: {}", r.body);
    for h in ["x-forwarded-for", "via", "x-real-ip", "forwarded", "proxy-connection"] {
        assert!(!r.body.to_lowercase().contains(&format!("\n{h}:")), "{h} reached the origin: {}", r.body);
    }
    let ev = h.events_for("/page?x=1");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["organization"]["id"], "midori");
    assert_eq!(ev[0]["source"]["ip"], "127.0.0.2");
    assert_eq!(ev[0]["event"]["action"], "allowed");
    assert_eq!(ev[0]["http"]["response"]["status_code"], 200);
    assert_eq!(ev[0]["event"]["dataset"], "proxy.access");
}

#[test]
fn blocks_by_list_category_and_threat_with_a_page_in_the_browsers_language() {
    let h = harness();
    let r = h.curl("127.0.0.2", &["http://www.blocked.test/x"]);
    assert_eq!(r.code, 403);
    assert!(r.body.contains("アクセスがブロックされました") && r.body.contains("common-block"), "{}", r.body);
    assert!(r.body.contains("情報政策課 内線1234"), "the tenant's helpdesk is shown: {}", r.body);
    assert!(r.headers.contains("x-mamori-block: block-list"), "{}", r.headers);
    let r = h.curl("127.0.0.2", &["-H", "Accept-Language: en-US,en;q=0.9", "http://casino.test/"]);
    assert_eq!(r.code, 403);
    assert!(r.body.contains("Access blocked") && r.body.contains("gambling"), "{}", r.body);
    let r = h.curl("127.0.0.3", &["http://a.cc.test/gate"]);
    assert_eq!(r.code, 403);
    assert!(r.headers.contains("x-mamori-block: threat"), "{}", r.headers);
    let ev = h.events_for("a.cc.test");
    assert_eq!(ev[0]["event"]["action"], "blocked");
    assert_eq!(ev[0]["rule"]["name"], "threat-feed");
    assert_eq!(ev[0]["organization"]["id"], "aoba");
    let request_id = ev[0]["event"]["reference"].as_str().unwrap().to_string();
    assert!(!request_id.is_empty());
}

#[test]
fn write_restriction_lets_a_tenant_read_but_not_post() {
    let h = harness();
    let url = format!("http://localhost:{}/thread", h.origin.port());
    assert_eq!(h.curl("127.0.0.2", &[&url]).code, 200);
    let r = h.curl("127.0.0.2", &["-d", "comment=hello", &url]);
    assert_eq!(r.code, 403);
    assert!(r.headers.contains("x-mamori-block: write-restriction"), "{}", r.headers);
    // Another tenant has no such restriction.
    assert_eq!(h.curl("127.0.0.3", &["-d", "comment=hello", &url]).code, 200);
}

#[test]
fn the_terminal_behind_a_tenants_own_proxy_is_logged_from_x_forwarded_for() {
    let h = harness();
    let url = format!("http://{}/xff-trusted", h.origin);
    assert_eq!(h.curl("127.0.0.4", &["-H", "X-Forwarded-For: 192.0.2.66, 10.20.0.7", &url]).code, 200);
    let ev = h.events_for("xff-trusted");
    assert_eq!(ev[0]["organization"]["id"], "aoba");
    assert_eq!(ev[0]["source"]["ip"], "10.20.0.7");
    assert_eq!(ev[0]["client"]["ip"], "127.0.0.4");
    // From anyone else the header proves nothing.
    let url = format!("http://{}/xff-untrusted", h.origin);
    assert_eq!(h.curl("127.0.0.2", &["-H", "X-Forwarded-For: 10.20.0.7", &url]).code, 200);
    let ev = h.events_for("xff-untrusted");
    assert_eq!(ev[0]["source"]["ip"], "127.0.0.2");
}

#[test]
fn unknown_sources_bad_requests_and_dead_origins_get_clear_answers() {
    let h = harness();
    let r = h.curl("127.0.0.9", &[&format!("http://{}/", h.origin)]);
    assert_eq!(r.code, 403);
    assert!(r.headers.contains("x-mamori-block: unknown-source"), "{}", r.headers);
    let r = h.curl("127.0.0.2", &["http://127.0.0.1:1/"]);
    assert_eq!(r.code, 502);
    assert!(r.body.contains("接続できませんでした"), "{}", r.body);
    let ev = h.events_for("127.0.0.1:1/");
    assert_eq!(ev[0]["event"]["action"], "error");
    assert!(ev[0]["error"]["message"].as_str().unwrap().to_lowercase().contains("refused"), "{:?}", ev[0]);
    // Not a proxy request at all.
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--interface",
            "127.0.0.2",
            &format!("http://{}/", h.proxy),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "400");
}

#[test]
fn connect_tunnels_are_decided_by_host_and_by_tls_server_name() {
    let h = harness();
    // A tunnel to an allowed origin carries anything (here plain HTTP).
    let r = h.curl("127.0.0.2", &["-p", &format!("http://{}/tunnelled", h.origin)]);
    assert_eq!(r.code, 200, "{} {}", r.headers, r.body);
    assert!(r.body.contains("\r\n\r\nGET /tunnelled"), "the origin answered inside the tunnel: {}", r.body);
    // A blocked host is refused before any tunnel.
    let r = h.curl("127.0.0.2", &["https://blocked.test/"]);
    assert!(r.headers.contains(" 403"), "{}", r.headers);
    // An allowed CONNECT host whose ClientHello names a blocked server is cut.
    let out = Command::new("openssl")
        .args(["s_client", "-proxy", &h.proxy.to_string(), "-connect", &format!("localhost:{}", h.origin.port())])
        .args(["-servername", "casino.test", "-bind", "127.0.0.3:0"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl runs");
    assert!(!out.status.success() || String::from_utf8_lossy(&out.stdout).contains("no peer certificate"));
    let ev = h.events_for(&format!("localhost:{}", h.origin.port()));
    let blocked = ev.iter().find(|e| e["event"]["action"] == "blocked").expect("an event for the SNI block");
    assert_eq!(blocked["rule"]["name"], "gambling");
    assert_eq!(blocked["url"]["domain"], "casino.test");
}

#[test]
fn a_client_that_sends_headers_too_slowly_is_disconnected() {
    let h = harness();
    let mut s = std::net::TcpStream::connect(h.proxy).unwrap();
    s.write_all(b"GET http://example.test/ HTTP/1.1\r\nHost: exa").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(started.elapsed() < Duration::from_secs(5), "the connection stayed open");
}

#[test]
fn list_changes_apply_to_open_keep_alive_connections() {
    let h = harness();
    let mut s = std::net::TcpStream::connect_timeout(&h.proxy, Duration::from_secs(2)).unwrap();
    let _ = IpAddr::from([127, 0, 0, 1]);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!("GET http://{}/keep HTTP/1.1\r\nHost: {}\r\n\r\n", h.origin, h.origin);
    let status = |s: &mut std::net::TcpStream| {
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string()
    };
    // From 127.0.0.1: no tenant, refused; then the configuration lets unassigned sources in.
    assert!(status(&mut s).contains("403"));
    let mut next = state();
    next.allow_unassigned = true;
    h.ctx.state.store(Arc::new(next));
    assert!(status(&mut s).contains("200"), "same connection, new rules");
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let h = harness();
    let mut s = std::net::TcpStream::connect(h.proxy).unwrap();
    let req = format!("GET http://{}/idle HTTP/1.1\r\nHost: {}\r\n\r\n", h.origin, h.origin);
    s.write_all(req.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 403"));
    // Nothing more is sent: the proxy closes the connection once the header timeout passes.
    let started = std::time::Instant::now();
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the connection was closed, not answered");
    assert!(started.elapsed() < Duration::from_secs(5), "an idle connection stayed open {:?}", started.elapsed());
}
