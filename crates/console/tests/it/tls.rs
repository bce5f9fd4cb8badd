//! The console over HTTPS with a configured certificate: pages, HSTS and Secure cookies.

use crate::common::*;
use mamori_api::ApiSettings;
use mamori_core::config::ApiConfig;
use reqwest::StatusCode;

#[tokio::test]
async fn the_console_over_https() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("api.crt"), dir.path().join("api.key"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let api = ApiConfig { tls_cert: Some(cert_path), tls_key: Some(key_path), ..ApiConfig::default() };
    let tls = mamori_api::load_tls(&api).unwrap().unwrap();
    let plain = start_with(ApiSettings::from_config(&api)).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = mamori_api::router_with(plain.state.clone(), mamori_console::router(&plain.state));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(mamori_api::serve(listener, router, Some(tls), async move {
        let _ = rx.await;
    }));
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let https = reqwest::Client::builder().no_proxy().tls_certs_only([root]).build().unwrap();
    let r = https.get(format!("https://localhost:{port}/console/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.ends_with("; Secure"),
        "{cookie}"
    );
    assert!(r.text().await.unwrap().contains("name=\"csrf\""));
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}
