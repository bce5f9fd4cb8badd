//! The harness for the TLS inspection and malware tests: a proxy with TLS inspection and the
//! real scanning engine (built-in EICAR signature), a plain HTTP origin and HTTPS origins whose
//! certificates come from a test CA the proxy is told to trust, on loopback. Tenants are told
//! apart by source address: 127.0.0.2 みどり市 inspects TLS, 127.0.0.3 あおば町 does not.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mamori_core::attribution::TenantDirectory;
use mamori_core::event::Event;
use mamori_core::sink::{EventSink, Receipt, SubmitFuture};
use mamori_core::tenant::{NetworkModel, Tenant};
use mamori_proxy::*;
use mamori_urlfilter::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

pub const EICAR: &str = mamori_scan::clamav::EICAR;

#[derive(Default)]
pub struct Collected(pub Mutex<Vec<Event>>);

impl EventSink for Collected {
    fn submit(&self, events: &[Event]) -> SubmitFuture {
        self.0.lock().unwrap().extend_from_slice(events);
        let count = events.len();
        Box::pin(async move { Ok(Receipt { last_lsn: 0, count }) })
    }
}

/// A tenant with one network, as the tests attribute sources.
pub fn tenant(id: &str, net: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name_ja: id.into(),
        name_en: id.into(),
        network_model: NetworkModel::Beta,
        networks: vec![net.parse().unwrap()],
        domains: vec![],
        contacts: vec![],
        retention: Default::default(),
    }
}

/// みどり市 decrypts everything but 127.0.0.1 (its bypass list), blocks `localhost/secret/`
/// (a path only a decrypting proxy sees) and fails closed; あおば町 neither decrypts nor
/// blocks, and fails open.
pub fn state() -> ProxyState {
    state_with(|_, _| {})
}

/// `state()` with more lists and policy changes, applied before the lists are compiled.
pub fn state_with(extra: impl FnOnce(&mut MatcherBuilder, &mut HashMap<String, TenantWebPolicy>)) -> ProxyState {
    let mut b = MatcherBuilder::new();
    let block = b.list("tenant:midori:block").unwrap();
    b.add(block, Entry::guess("localhost/secret/").unwrap());
    let bypass = b.list("tenant:midori:tls_bypass").unwrap();
    b.add(bypass, Entry::guess("127.0.0.1").unwrap());
    let mut midori = Policy::new();
    midori.set(block, Action::Block);
    let directory = TenantDirectory::new(vec![tenant("midori", "127.0.0.2/32"), tenant("aoba", "127.0.0.3/32")], &[]);
    let mut tenants = HashMap::new();
    let scanning = TenantWebPolicy { scan_downloads: true, scan_uploads: true, ..Default::default() };
    tenants.insert(
        "midori".to_string(),
        TenantWebPolicy {
            policy: midori,
            tls_inspect: true,
            tls_bypass: vec![bypass],
            scan_fail_open: false,
            ..scanning.clone()
        },
    );
    tenants.insert("aoba".to_string(), TenantWebPolicy { scan_fail_open: true, ..scanning });
    extra(&mut b, &mut tenants);
    let matcher = b.build().unwrap();
    ProxyState::new(Arc::new(directory), Arc::new(matcher), tenants, TenantWebPolicy::default(), false)
}

/// A CA for the test origins, and certificates it signs.
pub struct TestCa {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = p.self_signed(&key).unwrap();
        TestCa { pem: cert.pem(), issuer: Issuer::new(p, key) }
    }

    /// A certificate and key (PEM) for `names`.
    pub fn issue(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        p.distinguished_name.push(DnType::CommonName, names[0]);
        let cert = p.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

pub struct Harness {
    pub proxy: SocketAddr,
    /// Plain HTTP.
    pub origin: SocketAddr,
    /// HTTPS with a certificate of `origin_ca` for localhost and 127.0.0.1.
    pub tls_origin: SocketAddr,
    /// HTTPS that wants a client certificate of `origin_ca`.
    pub mtls_origin: SocketAddr,
    /// HTTPS with a certificate nobody trusts.
    pub rogue_origin: SocketAddr,
    /// Like `tls_origin`, offering HTTP/2 by ALPN.
    pub h2_origin: SocketAddr,
    pub events: Arc<Collected>,
    pub ctx: Arc<ProxyContext>,
    pub dir: tempfile::TempDir,
    pub origin_ca: TestCa,
    _rt: tokio::runtime::Runtime,
}

pub fn harness(settings: ProxySettings) -> Harness {
    harness_with(settings, None)
}

/// With `dns`, origins' names are resolved by that DNS server.
pub fn harness_with(settings: ProxySettings, dns: Option<SocketAddr>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let origin_ca = TestCa::new("test origin CA");
    std::fs::write(dir.path().join("origin-ca.pem"), &origin_ca.pem).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let events = Arc::new(Collected::default());
    let tls = tls::TlsInspector::new(&tls::TlsSettings {
        data_dir: dir.path().join("data"),
        extra_ca: Some(dir.path().join("origin-ca.pem")),
        leaf_cache: 100,
        pin_bypass: Duration::from_secs(600),
    })
    .unwrap();
    let store = Arc::new(mamori_scan::SignatureStore::open(mamori_scan::SignatureConfig::default()));
    let engine = mamori_scan::Engine::new(store, mamori_scan::Limits::default());
    let services = Services {
        tls: Some(Arc::new(tls)),
        scanner: Some(Arc::new(EngineScanner(Arc::new(engine)))),
        resolver: Resolver::default(),
    };
    let (ctx, proxy, origin, tls_origin, mtls_origin, rogue_origin, h2_origin) = rt.block_on(async {
        let services = Services { resolver: dns.map(|d| Resolver::dns(d).unwrap()).unwrap_or_default(), ..services };
        let (log, _task) = AccessLog::start(events.clone(), "proxy");
        let ctx = ProxyContext::with_services(state(), log, settings, services);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, ctx.clone(), tokio_util::sync::CancellationToken::new()));
        let (cert, key) = origin_ca.issue(&["localhost", "127.0.0.1"]);
        let rogue = TestCa::new("rogue CA").issue(&["localhost", "127.0.0.1"]);
        let mut h2 = (*server_config(&cert, &key, None)).clone();
        h2.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        (
            ctx,
            proxy,
            origin(None).await,
            origin(Some(server_config(&cert, &key, None))).await,
            origin(Some(server_config(&cert, &key, Some(&origin_ca.pem)))).await,
            origin(Some(server_config(&rogue.0, &rogue.1, None))).await,
            origin(Some(Arc::new(h2))).await,
        )
    });
    Harness { proxy, origin, tls_origin, mtls_origin, rogue_origin, h2_origin, events, ctx, dir, origin_ca, _rt: rt }
}

fn server_config(cert: &str, key: &str, client_ca: Option<&str>) -> Arc<rustls::ServerConfig> {
    let certs = rustls_pemfile::certs(&mut cert.as_bytes()).collect::<Result<Vec<_>, _>>().unwrap();
    let key = rustls_pemfile::private_key(&mut key.as_bytes()).unwrap().unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        rustls::ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls_pemfile::certs(&mut ca.as_bytes()) {
                roots.add(c.unwrap()).unwrap();
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    Arc::new(builder.with_single_cert(certs, key).unwrap())
}

/// `/eicar.com` and `/eicar.zip` are malware, `/big` is 5000 bytes, anything else is answered
/// with the request head, the HTTP version and the length of the request body.
async fn origin(tls: Option<Arc<rustls::ServerConfig>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else { return };
            let tls = tls.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(respond);
                // HTTP/1.1, or HTTP/2 when ALPN chose it.
                let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                match tls {
                    Some(config) => {
                        let Ok(s) = tokio_rustls::TlsAcceptor::from(config).accept(s).await else { return };
                        let _ = http.serve_connection(hyper_util::rt::TokioIo::new(s), svc).await;
                    }
                    None => {
                        let _ = http.serve_connection(hyper_util::rt::TokioIo::new(s), svc).await;
                    }
                }
            });
        }
    });
    addr
}

async fn respond(
    req: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible> {
    use http_body_util::BodyExt;
    let body: Vec<u8> = match req.uri().path() {
        "/eicar.com" => EICAR.as_bytes().to_vec(),
        "/eicar.zip" => zip_with_eicar(),
        // A name that lies about its content.
        "/photo.jpg" => zip_of(&[("readme.txt", b"hello")]),
        "/big" => vec![b'a'; 5000],
        _ => {
            let mut head = format!("{} {}\n", req.method(), req.uri());
            for (k, v) in req.headers() {
                head.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("?")));
            }
            head.push_str(&format!("version: {:?}\n", req.version()));
            let n = req.into_body().collect().await.map(|b| b.to_bytes().len()).unwrap_or(0);
            head.push_str(&format!("body bytes: {n}\n"));
            head.into_bytes()
        }
    };
    Ok(http::Response::new(http_body_util::Full::new(bytes::Bytes::from(body))))
}

fn zip_with_eicar() -> Vec<u8> {
    zip_of(&[("readme.txt", b"hello"), ("eicar.com", EICAR.as_bytes())])
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    for (name, data) in files {
        z.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    out.into_inner()
}

pub struct CurlOut {
    pub code: u16,
    pub body: String,
    pub headers: String,
    pub stderr: String,
    pub ok: bool,
}

impl Harness {
    pub fn curl(&self, from: &str, args: &[&str]) -> CurlOut {
        let out = Command::new("curl")
            .args(["-sS", "-D", "-", "--max-time", "10", "--interface", from, "-x", &format!("http://{}", self.proxy)])
            .args(["-w", "\n%{http_code}"])
            .args(args)
            .output()
            .expect("curl runs (apt-get install curl)");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (rest, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        // Through a tunnel curl prints the CONNECT answer's head first.
        let mut rest = rest;
        while let Some((_, next)) = rest.split_once("\r\n\r\n")
            && next.starts_with("HTTP/")
        {
            rest = next;
        }
        let (headers, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
        CurlOut {
            code: code.trim().parse().unwrap_or(0),
            body: body.to_string(),
            headers: headers.to_lowercase(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
            ok: out.status.success(),
        }
    }

    /// Writes a file into the test directory and gives its path.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// The CA terminals of `tenant` install, as `mamori ca export` gives it.
    pub fn exported_ca(&self, tenant: Option<&str>) -> PathBuf {
        let pem = tls::export_ca(&self.dir.path().join("data"), tenant).unwrap();
        self.file("mamori-ca.pem", &pem)
    }

    pub fn origin_ca_file(&self) -> PathBuf {
        self.dir.path().join("origin-ca.pem")
    }

    /// Events whose `url.full` contains `needle` (waiting a little for the batch writer).
    pub fn events_for(&self, needle: &str) -> Vec<serde_json::Value> {
        std::thread::sleep(Duration::from_millis(300));
        let events = self.events.0.lock().unwrap();
        events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .filter(|v| v["url"]["full"].as_str().unwrap_or("").contains(needle))
            .collect()
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
