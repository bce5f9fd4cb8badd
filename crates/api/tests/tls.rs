//! The API over HTTPS: certificate loading from `[api]`, Secure cookies and HSTS.

mod common;

use std::sync::Arc;

use common::*;
use mamori_api::ApiSettings;
use mamori_core::config::ApiConfig;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn https_with_secure_cookies_and_hsts() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("api.crt"), dir.path().join("api.key"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let api = ApiConfig { tls_cert: Some(cert_path), tls_key: Some(key_path), ..ApiConfig::default() };
    let settings = ApiSettings::from_config(&api);
    assert!(settings.tls);
    let tls = mamori_api::load_tls(&api).expect("loads").expect("configured");

    // The seeded server serves plain HTTP; serve its state again over TLS.
    let plain = start_with(settings, Arc::new(TestBackend(TestLogs::new()))).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = mamori_api::router(plain.state.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(mamori_api::serve(listener, router, Some(tls), async move {
        let _ = rx.await;
    }));

    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let https = reqwest::Client::builder().no_proxy().tls_certs_only([root]).build().unwrap();
    let base = format!("https://localhost:{port}");
    let r = https.get(format!("{base}/api/v1/health")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");

    let r = https
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"username": "soc", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");

    // Plain HTTP on the TLS port gets no answer.
    let plain_attempt = client().get(format!("http://127.0.0.1:{port}/api/v1/health")).send().await;
    assert!(plain_attempt.is_err() || !plain_attempt.unwrap().status().is_success());

    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[test]
fn missing_certificate_files_are_reported_with_their_path() {
    let api = ApiConfig {
        tls_cert: Some("/nonexistent/api.crt".into()),
        tls_key: Some("/nonexistent/api.key".into()),
        ..ApiConfig::default()
    };
    let err = mamori_api::load_tls(&api).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/api.crt"), "{err}");
    assert!(mamori_api::load_tls(&ApiConfig::default()).unwrap().is_none());
}
