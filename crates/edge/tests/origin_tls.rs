//! `https://` origins: the edge speaks TLS to them and verifies their certificate against the
//! site's `origin_ca`; an origin whose certificate chains to another CA gets no request, and
//! the client gets 502.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use mamori_core::config::edge::WafMode;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// A CA written as `name.pem` in `dir`, and what it needs to sign.
fn ca(dir: &Path, name: &str) -> (PathBuf, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, cert.pem()).unwrap();
    (path, Issuer::new(params, key))
}

/// An HTTPS origin on 127.0.0.1 whose certificate (for `localhost`) `issuer` signed; it
/// answers `tls origin` and counts the requests it got.
async fn https_origin(
    issuer: &Issuer<'static, KeyPair>,
) -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".into()]).unwrap().signed_by(&key, issuer).unwrap();
    let chain = vec![cert.der().clone()];
    let private = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let (acceptor, count) = (acceptor.clone(), count.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(s).await else { return };
                let svc = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let count = count.clone();
                    async move {
                        if req.headers().get("user-agent").is_none_or(|v| v != "mamori-edge-health") {
                            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        let body = http_body_util::Full::new(bytes::Bytes::from_static(b"tls origin"));
                        Ok::<_, std::convert::Infallible>(http::Response::new(body))
                    }
                });
                let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                let _ = http.serve_connection(hyper_util::rt::TokioIo::new(tls), svc).await;
            });
        }
    });
    (addr, served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_origins_are_verified_against_the_site_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (trusted_ca, trusted) = ca(dir.path(), "trusted");
    let (other_ca, _) = ca(dir.path(), "other");
    let (addr, served) = https_origin(&trusted).await;
    let url = format!("https://localhost:{}", addr.port());

    let mut good = site("good", "good.example.jp", &[], WafMode::Off);
    good.origins = vec![url.clone()];
    good.origin_ca = Some(trusted_ca);
    let mut wrong = site("wrong", "wrong.example.jp", &[], WafMode::Off);
    wrong.origins = vec![url];
    wrong.origin_ca = Some(other_ca);
    let edge = start_edge(config(vec![good, wrong])).await;

    let got = get(&edge, "good.example.jp", "/page").await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.body, "tls origin");
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1);

    let got = get(&edge, "wrong.example.jp", "/page").await;
    assert_eq!(got.status, 502, "a certificate from another CA is refused: {got:?}");
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1, "the refused origin got no request");
}

#[test]
fn a_missing_or_empty_origin_ca_refuses_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    for ca in [dir.path().join("absent.pem"), empty] {
        let mut s = site("s", "s.example.jp", &[], WafMode::Off);
        s.origins = vec!["https://localhost:1".into()];
        s.origin_ca = Some(ca.clone());
        let err = mamori_edge::build_state(&config(vec![s]), Path::new(".")).unwrap_err();
        assert!(err.to_string().contains("origin_ca"), "{ca:?}: {err}");
    }
}
