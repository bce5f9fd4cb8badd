//! What the edge's integration tests share: an origin that answers with what it saw, an event
//! sink that keeps events, the edge on 127.0.0.1:0 with given sites, and curl.
#![allow(dead_code)] // each test file uses part of it

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mamori_core::config::edge::{EdgeConfig, FrameOptions, RulesetConfig, SiteConfig, WafMode};
use mamori_core::event::Event;
use mamori_core::sink::{EventSink, Receipt, SubmitFuture};
use mamori_edge::{EdgeContext, EdgeSettings, EventWriter};
use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub struct Collected(pub Mutex<Vec<Event>>);

impl EventSink for Collected {
    fn submit(&self, events: &[Event]) -> SubmitFuture {
        self.0.lock().unwrap().extend_from_slice(events);
        let count = events.len();
        Box::pin(async move { Ok(Receipt { last_lsn: 0, count }) })
    }
}

impl Collected {
    /// Events (as JSON) for which `pred` holds, waiting up to 5 s for at least one.
    pub async fn wait_for(&self, pred: impl Fn(&serde_json::Value) -> bool) -> Vec<serde_json::Value> {
        for _ in 0..100 {
            let found: Vec<serde_json::Value> = self
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|e| serde_json::from_str(&e.to_json()).unwrap())
                .filter(|v| pred(v))
                .collect();
            if !found.is_empty() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Vec::new()
    }
}

/// What the origin saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub origin: String,
    pub target: String,
    pub headers: http::HeaderMap,
}

/// An origin named `name` on 127.0.0.1:0 that records each request and answers
/// `origin NAME` as HTML (health checks are answered, not recorded); `/leak` answers a
/// database error message; `/framed` answers with its own `X-Frame-Options: DENY`.
pub struct Origin {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub stop: CancellationToken,
}

pub async fn origin(name: &str) -> Origin {
    origin_on(name, "127.0.0.1:0".parse().unwrap()).await
}

pub async fn origin_on(name: &str, addr: SocketAddr) -> Origin {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let stop = CancellationToken::new();
    let (name, seen2, stop2) = (name.to_string(), seen.clone(), stop.clone());
    tokio::spawn(async move {
        loop {
            let s = tokio::select! {
                _ = stop2.cancelled() => return,
                a = listener.accept() => match a { Ok((s, _)) => s, Err(_) => return },
            };
            let (name, seen, stop) = (name.clone(), seen2.clone(), stop2.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (name, seen) = (name.clone(), seen.clone());
                    async move {
                        // Health checks are not what the tests look for.
                        let health = req.headers().get("user-agent").is_some_and(|v| v == "mamori-edge-health");
                        if !health {
                            seen.lock().unwrap().push(Seen {
                                origin: name.clone(),
                                target: req.uri().to_string(),
                                headers: req.headers().clone(),
                            });
                        }
                        let page = match req.uri().path() {
                            // An error page that leaks the database (CRS RESPONSE-951).
                            "/leak" => "<html><body>You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version</body></html>".to_string(),
                            _ => format!("<html><body>origin {name}</body></html>"),
                        };
                        let mut resp = http::Response::new(http_body_util::Full::new(bytes::Bytes::from(page)));
                        resp.headers_mut().insert("content-type", "text/html; charset=utf-8".parse().unwrap());
                        if req.uri().path() == "/framed" {
                            resp.headers_mut().insert("x-frame-options", "DENY".parse().unwrap());
                        }
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                let conn = http.serve_connection(hyper_util::rt::TokioIo::new(s), svc);
                tokio::select! { _ = conn => {}, _ = stop.cancelled() => {} }
            });
        }
    });
    Origin { addr, seen, stop }
}

/// The OWASP CRS of the shared test data (see ../shared/testdata/README.md).
pub fn crs_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/crs");
    assert!(
        dir.join("rules").is_dir(),
        "the OWASP CRS is missing at {}: the shared test data (../shared/testdata/crs) is needed",
        dir.display()
    );
    dir
}

pub fn crs_ruleset() -> RulesetConfig {
    let crs = crs_dir();
    RulesetConfig {
        setup: Some(crs.join("crs-setup.conf.example")),
        rules: vec![crs.join("rules/*.conf").display().to_string()],
    }
}

pub fn site(name: &str, host: &str, origins: &[SocketAddr], waf: WafMode) -> SiteConfig {
    SiteConfig {
        name: name.into(),
        tenant: "midori".into(),
        hosts: vec![host.into()],
        origins: origins.iter().map(|a| format!("http://{a}")).collect(),
        origin_ca: None,
        waf,
        ruleset: (waf != WafMode::Off).then(|| "crs".to_string()),
        paranoia: 1,
        exclude_rules: Vec::new(),
        frame_options: FrameOptions::Sameorigin,
        frame_ancestors: None,
        tls_cert: None,
        tls_key: None,
        health_check_path: "/".into(),
    }
}

pub fn config(sites: Vec<SiteConfig>) -> EdgeConfig {
    let mut c = EdgeConfig { sites, ..Default::default() };
    if c.sites.iter().any(|s| s.waf != WafMode::Off) {
        c.rulesets.insert("crs".into(), crs_ruleset());
    }
    c
}

/// The edge, listening on 127.0.0.1 (plain and TLS).
pub struct Edge {
    pub http: SocketAddr,
    pub https: SocketAddr,
    pub events: Arc<Collected>,
    pub ctx: Arc<EdgeContext>,
    pub stop: CancellationToken,
}

pub async fn start_edge(config: EdgeConfig) -> Edge {
    let state = mamori_edge::build_state(&config, std::path::Path::new(".")).unwrap();
    let events = Arc::new(Collected::default());
    let (writer, _) = EventWriter::start(events.clone(), "edge");
    let ctx = EdgeContext::new(state, EdgeSettings::from_config(&config), writer);
    let stop = CancellationToken::new();
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let https = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (http_addr, https_addr) = (http.local_addr().unwrap(), https.local_addr().unwrap());
    tokio::spawn(mamori_edge::serve_http(http, ctx.clone(), stop.clone()));
    tokio::spawn(mamori_edge::serve_https(https, ctx.clone(), stop.clone()));
    ctx.start_health_checks(stop.clone());
    Edge { http: http_addr, https: https_addr, events, ctx, stop }
}

/// What curl got: status, response headers (lower-case names) and body.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// `%{http_version}`: 1.1 or 2.
    pub version: String,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Runs curl with `args` (plus `-s -i`), off the async threads.
pub async fn curl(args: &[&str]) -> Got {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || curl_blocking(&args)).await.unwrap()
}

fn curl_blocking(args: &[String]) -> Got {
    let out = std::process::Command::new("curl")
        .args(["-s", "-S", "-i", "--max-time", "20", "-w", "\n%{http_version}"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("curl could not run ({e}): install curl (apt-get install curl)"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "curl {args:?} failed: {}{text}", String::from_utf8_lossy(&out.stderr));
    let (rest, version) = text.rsplit_once('\n').unwrap();
    let (head, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Got { status, headers, body: body.to_string(), version: version.to_string() }
}

/// `http://host/path` through the edge's plain listener.
pub async fn get(edge: &Edge, host: &str, path: &str) -> Got {
    let url = format!("http://{}{}", edge.http, path);
    curl(&["-H", &format!("Host: {host}"), "-A", "Mozilla/5.0 (test)", &url]).await
}
