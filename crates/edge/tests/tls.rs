//! HTTPS: the certificate of the site the client names (SNI) for two host names, HTTP/2
//! negotiated by ALPN, `X-Forwarded-Proto: https` at the origin, and 421 for a request to
//! another site than the connection was opened for.

mod common;

use std::path::Path;

use common::*;
use mamori_core::config::edge::WafMode;

/// A self-signed certificate for `host`, written as `host.crt` and `host.key` in `dir`.
fn cert_for(dir: &Path, host: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let c = rcgen::generate_simple_self_signed(vec![host.to_owned()]).unwrap();
    let (crt, key) = (dir.join(format!("{host}.crt")), dir.join(format!("{host}.key")));
    std::fs::write(&crt, c.cert.pem()).unwrap();
    std::fs::write(&key, c.signing_key.serialize_pem()).unwrap();
    (crt, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sni_picks_the_site_certificate_and_http2_works() {
    let dir = tempfile::tempdir().unwrap();
    let o = origin("a").await;
    let mut sites = Vec::new();
    for host in ["www.midori.example.jp", "www.aoba.example.jp"] {
        let mut s = site(host, host, &[o.addr], WafMode::Block);
        let (crt, key) = cert_for(dir.path(), host);
        s.tls_cert = Some(crt);
        s.tls_key = Some(key);
        sites.push(s);
    }
    let edge = start_edge(config(sites)).await;
    let port = edge.https.port();
    for host in ["www.midori.example.jp", "www.aoba.example.jp"] {
        // Verified against this host's certificate only: the other site's would fail.
        let ca = dir.path().join(format!("{host}.crt"));
        let got = curl(&[
            "--http2",
            "--cacert",
            ca.to_str().unwrap(),
            "--resolve",
            &format!("{host}:{port}:127.0.0.1"),
            &format!("https://{host}:{port}/page?x=1"),
        ])
        .await;
        assert_eq!(got.status, 200, "{host}: {got:?}");
        assert_eq!(got.version, "2", "HTTP/2 over TLS");
        let seen = o.seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(seen.headers["x-forwarded-proto"], "https");
        assert_eq!(seen.headers["host"], format!("{host}:{port}").as_str());
    }
    // An attack over HTTP/2 is blocked like over HTTP/1.1.
    let host = "www.aoba.example.jp";
    let ca = dir.path().join(format!("{host}.crt"));
    let got = curl(&[
        "--http2",
        "--cacert",
        ca.to_str().unwrap(),
        "--resolve",
        &format!("{host}:{port}:127.0.0.1"),
        &format!("https://{host}:{port}/?q=%3Cscript%3Ealert(1)%3C/script%3E"),
    ])
    .await;
    assert_eq!(got.status, 403, "{got:?}");
    assert!(got.body.contains("リクエストID"));
    // HTTP/1.1 still works when the client asks for it.
    let got = curl(&[
        "--http1.1",
        "--cacert",
        ca.to_str().unwrap(),
        "--resolve",
        &format!("{host}:{port}:127.0.0.1"),
        &format!("https://{host}:{port}/"),
    ])
    .await;
    assert_eq!((got.status, got.version.as_str()), (200, "1.1"));
    // A connection opened for one site does not reach another (421).
    let midori = "www.midori.example.jp";
    let ca = dir.path().join(format!("{midori}.crt"));
    let got = curl(&[
        "--http1.1",
        "--cacert",
        ca.to_str().unwrap(),
        "--resolve",
        &format!("{midori}:{port}:127.0.0.1"),
        "-H",
        "Host: www.aoba.example.jp",
        &format!("https://{midori}:{port}/"),
    ])
    .await;
    assert_eq!(got.status, 421, "{got:?}");
}

#[test]
fn a_missing_certificate_file_is_a_clear_error() {
    let mut s = site("a", "www.example.jp", &["127.0.0.1:1".parse().unwrap()], WafMode::Off);
    s.tls_cert = Some("no-such-dir/www.crt".into());
    s.tls_key = Some("no-such-dir/www.key".into());
    let e = mamori_edge::build_state(&config(vec![s]), Path::new(".")).unwrap_err().to_string();
    assert!(e.contains("edge.sites[0].tls_cert") && e.contains("no-such-dir/www.crt"), "{e}");
}
