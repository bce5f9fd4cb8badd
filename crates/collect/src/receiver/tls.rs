//! Syslog over TLS (RFC 5425), and the certificate handling it needs.
//!
//! The ring crypto provider is named explicitly rather than relying on a process-wide default,
//! so the listener works whatever else in the process installed (or did not install) one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::CollectContext;
use super::stream::serve_connection;
use super::tcp::accept_loop;
use crate::metrics::Transport;

/// File names of the generated pair inside the directory given to [`ensure_self_signed`].
pub const SELF_SIGNED_CERT: &str = "syslog-tls.crt";
pub const SELF_SIGNED_KEY: &str = "syslog-tls.key";

/// What went wrong setting up TLS; every variant names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is not valid PEM: {source}")]
    Pem { path: PathBuf, source: io::Error },
    #[error("{path} holds no certificate (expected a -----BEGIN CERTIFICATE----- block)")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no private key (expected a PKCS#8, PKCS#1 or SEC1 PEM block)")]
    NoKey { path: PathBuf },
    #[error("certificate {cert} and key {key} cannot be used together: {source}")]
    Config { cert: PathBuf, key: PathBuf, source: rustls::Error },
    #[error("cannot generate a self-signed certificate for {names:?}: {source}")]
    Generate { names: Vec<String>, source: rcgen::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// Reads a PEM certificate chain and private key into a server configuration using the ring
/// provider.
pub fn load_server_config(cert_pem_path: &Path, key_pem_path: &Path) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let read = |path: &Path| fs::read(path).map_err(|source| TlsSetupError::Read { path: path.to_path_buf(), source });
    let cert_pem = read(cert_pem_path)?;
    let key_pem = read(key_pem_path)?;
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|source| TlsSetupError::Pem { path: cert_pem_path.to_path_buf(), source })?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate { path: cert_pem_path.to_path_buf() });
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|source| TlsSetupError::Pem { path: key_pem_path.to_path_buf(), source })?
        .ok_or_else(|| TlsSetupError::NoKey { path: key_pem_path.to_path_buf() })?;
    let config_error =
        |source| TlsSetupError::Config { cert: cert_pem_path.to_path_buf(), key: key_pem_path.to_path_buf(), source };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(config_error)?;
    Ok(Arc::new(config))
}

/// Returns the paths of a self-signed certificate and key in `dir`, generating them (for the
/// DNS names and IP addresses in `names`) the first time. The key file is readable by its owner
/// only. Used when `[collect.syslog] tls` is set without `tls_cert`/`tls_key`.
pub fn ensure_self_signed(dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf), TlsSetupError> {
    let cert_path = dir.join(SELF_SIGNED_CERT);
    let key_path = dir.join(SELF_SIGNED_KEY);
    if cert_path.is_file() && key_path.is_file() {
        return Ok((cert_path, key_path));
    }
    fs::create_dir_all(dir).map_err(|source| TlsSetupError::Write { path: dir.to_path_buf(), source })?;
    let generated = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|source| TlsSetupError::Generate { names: names.to_vec(), source })?;
    // The key first: the certificate's presence is what says the pair is complete.
    write_file(&key_path, generated.signing_key.serialize_pem().as_bytes(), true)?;
    write_file(&cert_path, generated.cert.pem().as_bytes(), false)?;
    tracing::info!(cert = %cert_path.display(), "generated a self-signed certificate for syslog over TLS");
    Ok((cert_path, key_path))
}

/// Writes through a temporary file and a rename so a crash never leaves half a file.
fn write_file(path: &Path, contents: &[u8], private: bool) -> Result<(), TlsSetupError> {
    let tmp = path.with_extension("tmp");
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|source| TlsSetupError::Write { path: path.to_path_buf(), source })
}

/// Accepts TLS connections on `listener` until `shutdown` is cancelled. A client that does not
/// complete its handshake within `tls_handshake_timeout` is disconnected.
pub async fn serve(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    ctx: Arc<CollectContext>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    accept_loop(listener, shutdown, move |tcp, peer, shutdown| {
        let acceptor = acceptor.clone();
        let ctx = ctx.clone();
        async move {
            let timeout = ctx.options.tls_handshake_timeout;
            match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => serve_connection(tls, peer, Transport::Tls, ctx, shutdown).await,
                Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
            }
        }
    })
    .await
}
