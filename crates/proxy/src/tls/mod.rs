//! TLS inspection: `CONNECT` tunnels of tenants whose policy says so are decrypted, so that
//! every request inside gets the full URL filter, the malware scan and a full-URL access log.
//! The terminal sees a certificate for the host minted by a mamori CA it trusts; the origin
//! is verified like a browser would.

pub mod ca;
mod inspect;
mod mint;
mod origin;
mod prefixed;
mod remember;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ServerConfig};

pub(crate) use inspect::{Destination, session};

use ca::CertificateAuthority;
use mint::LeafCache;
use remember::Remembered;

#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// The CAs live under `data_dir/proxy/ca/`.
    pub data_dir: PathBuf,
    /// More roots trusted for origins (PEM), besides the public ones.
    pub extra_ca: Option<PathBuf>,
    /// Minted host certificates kept.
    pub leaf_cache: usize,
    /// How long a host stays undecrypted after its terminal rejected the mamori CA.
    pub pin_bypass: Duration,
}

pub struct TlsInspector {
    data_dir: PathBuf,
    origin: Arc<ClientConfig>,
    leaves: LeafCache,
    cas: Mutex<HashMap<String, Arc<CertificateAuthority>>>,
    pub(crate) remembered: Remembered,
}

impl TlsInspector {
    pub fn new(settings: &TlsSettings) -> Result<TlsInspector, String> {
        Ok(TlsInspector {
            data_dir: settings.data_dir.clone(),
            origin: origin::client_config(settings.extra_ca.as_deref())?,
            leaves: LeafCache::new(settings.leaf_cache),
            cas: Mutex::new(HashMap::new()),
            remembered: Remembered::new(settings.pin_bypass),
        })
    }

    /// The CA of `tenant` when it has its own, else the common one.
    fn ca(&self, tenant: Option<&str>) -> Result<(String, Arc<CertificateAuthority>), String> {
        let id = tenant.unwrap_or("common").to_string();
        let mut cas = self.cas.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ca) = cas.get(&id) {
            return Ok((id, ca.clone()));
        }
        let dir = ca::ca_dir(&self.data_dir, tenant);
        let ca = Arc::new(
            CertificateAuthority::load_or_create(&dir, &id).map_err(|e| format!("CA in {}: {e}", dir.display()))?,
        );
        cas.insert(id.clone(), ca.clone());
        Ok((id, ca))
    }

    /// What the terminal is shown for `host`.
    fn server_config(&self, tenant_ca: Option<&str>, host: &str) -> Result<Arc<ServerConfig>, String> {
        let (id, ca) = self.ca(tenant_ca)?;
        let leaf = self.leaves.get(&id, &ca, host)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Fixed(leaf)));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The certificate terminals must trust for `tenant` (its own CA when `own_ca`, else the
/// common one), created if there is none yet: for `mamori ca export`.
pub fn export_ca(data_dir: &Path, tenant: Option<&str>) -> std::io::Result<String> {
    let dir = ca::ca_dir(data_dir, tenant);
    Ok(CertificateAuthority::load_or_create(&dir, tenant.unwrap_or("common"))?.cert_pem)
}

#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}
