//! TLS towards `https://` origins: rustls with the ring provider, the origin's certificate
//! verified against the site's `origin_ca` (PEM) or, without one, the system's trusted roots.
//! The name verified is the origin's host as configured, which is also the SNI sent.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

/// Where the trusted roots of a site's origins come from.
pub enum Trust<'a> {
    /// The site has no `https://` origin: nothing is trusted, nothing needs to be.
    Nothing,
    /// The site's `origin_ca` file.
    CaFile(&'a Path),
    /// The system's trusted roots (loaded once per build, shared by the sites using them).
    System(&'a RootCertStore),
}

pub fn client_config(trust: Trust<'_>) -> Result<Arc<ClientConfig>, String> {
    let roots = match trust {
        Trust::Nothing => RootCertStore::empty(),
        Trust::System(roots) => roots.clone(),
        Trust::CaFile(path) => mamori_core::tls_client::roots_from_pem_file(path)?,
    };
    // ALPN is left empty: the connector offers HTTP/1.1, the only protocol the client speaks.
    mamori_core::tls_client::verifying(roots)
}

/// The system's trusted roots (the OS certificate store); an error when none can be read,
/// since then no `https://` origin could ever be verified.
pub fn system_roots() -> Result<RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
        return Err(format!(
            "no trusted root certificates found in the system store{}; set origin_ca",
            if why.is_empty() { String::new() } else { format!(" ({})", why.join("; ")) }
        ));
    }
    Ok(roots)
}
