//! Site certificates: loaded from PEM files, chosen by the TLS server name (SNI) from the
//! state in force, so that a reload brings new certificates without a new listener.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::state::EdgeState;

/// Loads a certificate chain and its private key (PEM).
pub fn load_certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let cert_pem = read(cert)?;
    let chain: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not a PEM certificate file: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key_pem = read(key)?;
    let private = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| format!("{}: not a PEM key file: {e}", key.display()))?
        .ok_or_else(|| format!("{}: no private key in the file", key.display()))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&private)
        .map_err(|e| format!("{}: unsupported private key: {e}", key.display()))?;
    let certified = CertifiedKey::new(chain, signer);
    certified
        .keys_match()
        .map_err(|e| format!("{} and {} do not belong together: {e}", cert.display(), key.display()))?;
    Ok(certified)
}

/// Picks the certificate of the site the client names. Without a name, or for a name no site
/// has, the handshake is refused: there is no certificate that would be right.
#[derive(Debug)]
pub struct SniResolver {
    pub state: Arc<ArcSwap<EdgeState>>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name()?;
        let state = self.state.load();
        let site = state.site_for(name);
        if site.is_none() {
            crate::metrics::count_request("unknown_host");
            tracing::debug!(server_name = name, "TLS handshake for a host no site has");
        }
        site?.certificate.clone()
    }
}

/// The HTTPS listener's TLS settings: ring, TLS 1.2 and 1.3, ALPN h2 and http/1.1.
pub fn server_config(state: Arc<ArcSwap<EdgeState>>) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SniResolver { state }));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
