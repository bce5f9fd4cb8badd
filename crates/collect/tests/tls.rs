//! Syslog over TLS (RFC 5425) with a self-signed certificate and a tokio-rustls client.

mod common;

use std::sync::Arc;

use common::*;
use mamori_collect::receiver::tls;
use rustls::pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn tls_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let (cert_path, key_path) = tls::ensure_self_signed(dir.path(), &names).unwrap();
    // A second call keeps the pair instead of making a new one.
    let cert_pem = std::fs::read(&cert_path).unwrap();
    assert_eq!(tls::ensure_self_signed(dir.path(), &names).unwrap().0, cert_path);
    assert_eq!(std::fs::read(&cert_path).unwrap(), cert_pem);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key is private to its owner");
    }
    let server_config = tls::load_server_config(&cert_path, &key_path).unwrap();

    let sink = RecordingSink::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(tls::serve(listener, server_config, context(&sink, options()), shutdown.clone()));

    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut cert_pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut stream = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    for msg in
        ["<165>1 2024-03-01T12:00:00+09:00 host app - - - over TLS", "<13>Mar  1 12:00:00 host app: 暗号化された経路"]
    {
        stream.write_all(format!("{} {msg}", msg.len()).as_bytes()).await.unwrap();
    }
    stream.shutdown().await.unwrap();

    let events = sink.wait_for(2, 10).await;
    assert_eq!(events[0].message.as_deref(), Some("over TLS"));
    assert_eq!(events[1].message.as_deref(), Some("暗号化された経路"));
    assert!(events.iter().all(|e| e.tenant() == "midori"));

    shutdown.cancel();
    task.await.unwrap().unwrap();
    assert!(mamori_core::metrics::render().contains("transport=\"tls\""));
}

#[tokio::test]
async fn a_plaintext_client_does_not_disturb_the_listener() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = tls::ensure_self_signed(dir.path(), &["localhost".into()]).unwrap();
    let config = tls::load_server_config(&cert, &key).unwrap();
    let sink = RecordingSink::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(tls::serve(listener, config, context(&sink, options()), shutdown.clone()));
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain.write_all(b"<13>not tls\n").await.unwrap();
    let _ = plain.shutdown().await;
    assert!(sink.settle().await.is_empty());
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[test]
fn configuration_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let err = tls::load_server_config(&missing, &missing).unwrap_err().to_string();
    assert!(err.contains("missing.pem"), "{err}");

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not pem at all\n").unwrap();
    let err = tls::load_server_config(&empty, &empty).unwrap_err().to_string();
    assert!(err.contains("empty.pem") && err.contains("no certificate"), "{err}");

    let (cert, _) = tls::ensure_self_signed(dir.path(), &["localhost".into()]).unwrap();
    let err = tls::load_server_config(&cert, &cert).unwrap_err().to_string();
    assert!(err.contains("syslog-tls.crt") && err.contains("no private key"), "{err}");

    let other = tempfile::tempdir().unwrap();
    let (_, other_key) = tls::ensure_self_signed(other.path(), &["localhost".into()]).unwrap();
    let err = tls::load_server_config(&cert, &other_key).unwrap_err().to_string();
    assert!(err.contains("cannot be used together"), "{err}");
}
