//! TLS towards origins under inspection: verified like a browser would (public roots, plus an
//! optional extra CA file), and watched for a request of a client certificate, which a
//! decrypting proxy cannot answer for the terminal.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::client::ResolvesClientCert;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The verification settings shared by every origin connection.
pub fn client_config(extra_ca: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            roots.add(cert).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // HTTP/2 where the origin offers it; the terminal side stays HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// How a TLS connection to an origin ended.
pub enum OriginTls {
    Ready(Box<TlsStream<TcpStream>>),
    /// The origin asked for a client certificate: only the terminal can answer it.
    WantsClientCert,
    /// The handshake failed: the reason, and whether it was the origin's certificate.
    Failed {
        why: String,
        certificate: bool,
    },
}

pub async fn handshake(config: &Arc<ClientConfig>, host: &str, tcp: TcpStream) -> OriginTls {
    let asked = Arc::new(Asked::default());
    let mut config = (**config).clone();
    config.client_auth_cert_resolver = asked.clone();
    let Ok(name) = ServerName::try_from(host.to_string()) else {
        return OriginTls::Failed { why: format!("'{host}' is not a server name"), certificate: false };
    };
    let result = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await;
    if asked.0.load(Ordering::Relaxed) {
        return OriginTls::WantsClientCert;
    }
    match result {
        Ok(s) => OriginTls::Ready(Box::new(s)),
        Err(e) => {
            let certificate = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<rustls::Error>())
                .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
            OriginTls::Failed { why: e.to_string(), certificate }
        }
    }
}

/// Answers "no certificate" and remembers that one was asked for.
#[derive(Debug, Default)]
struct Asked(AtomicBool);

impl ResolvesClientCert for Asked {
    fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.0.store(true, Ordering::Relaxed);
        None
    }

    fn has_certs(&self) -> bool {
        true
    }
}
