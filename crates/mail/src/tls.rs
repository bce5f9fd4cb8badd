//! TLS for STARTTLS (RFC 3207): the configured certificate, or a self-signed one made once in
//! the data directory; and the client side of opportunistic TLS towards next hops.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Loads a PEM chain and key into a server configuration.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &read(cert)?[..])
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &read(key)?[..])
        .map_err(|e| format!("{}: {e}", key.display()))?
        .ok_or_else(|| format!("{}: no private key in the file", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    Ok(Arc::new(config))
}

/// A self-signed certificate for `hostname` under `dir` (made on first use, key 0600).
pub fn ensure_self_signed(dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf), String> {
    let (cert, key) = (dir.join("mail.crt"), dir.join("mail.key"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let pair = rcgen::generate_simple_self_signed(vec![hostname.to_string()]).map_err(|e| e.to_string())?;
    write_private(&key, pair.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert, pair.cert.pem()).map_err(|e| format!("cannot write {}: {e}", cert.display()))?;
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Opportunistic TLS towards next hops (RFC 7435, RFC 3207 §4.1): encrypt whenever the next hop
/// offers it, without authenticating it, because refusing an unverifiable certificate would fall
/// back to plain text, which is worse. Verified delivery (DANE, MTA-STS) comes later.
pub use mamori_core::tls_client::opportunistic as opportunistic_client;
