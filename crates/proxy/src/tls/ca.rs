//! The CA terminals trust for TLS inspection: one common to every tenant, or one per tenant.
//! Generated on first use and kept under the data directory (`proxy/ca/common/`,
//! `proxy/ca/tenants/ID/`): `ca.pem` to install on terminals, `ca.key` readable by mamori only.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

pub struct CertificateAuthority {
    /// What to install on terminals.
    pub cert_pem: String,
    pub(crate) issuer: Issuer<'static, KeyPair>,
}

/// Where the CA of `tenant` (or the common one) lives under `data_dir`.
pub fn ca_dir(data_dir: &Path, tenant: Option<&str>) -> PathBuf {
    match tenant {
        Some(t) => data_dir.join("proxy/ca/tenants").join(t),
        None => data_dir.join("proxy/ca/common"),
    }
}

impl CertificateAuthority {
    /// Loads the CA in `dir`, creating it first if there is none.
    pub fn load_or_create(dir: &Path, label: &str) -> std::io::Result<CertificateAuthority> {
        let (cert, key) = (dir.join("ca.pem"), dir.join("ca.key"));
        if !key.exists() {
            create(dir, label)?;
        }
        let cert_pem = std::fs::read_to_string(&cert)?;
        let key_pem = std::fs::read_to_string(&key)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| invalid(format!("{}: {e}", key.display())))?;
        // The issuer needs only the subject and key of the CA, which `params` rebuilds exactly.
        Ok(CertificateAuthority { cert_pem, issuer: Issuer::new(params(label), key) })
    }
}

fn params(label: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::OrganizationName, "mamori");
    p.distinguished_name.push(DnType::CommonName, format!("mamori TLS inspection CA ({label})"));
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p
}

/// Writes a new CA into a temporary directory and renames it into place, so that two
/// processes creating it at once end with one CA, never a key of one and certificate of other.
fn create(dir: &Path, label: &str) -> std::io::Result<()> {
    let parent = dir.parent().ok_or_else(|| invalid("CA directory without a parent".into()))?;
    std::fs::create_dir_all(parent)?;
    let key = KeyPair::generate().map_err(|e| invalid(e.to_string()))?;
    let mut p = params(label);
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(3650);
    let cert = p.self_signed(&key).map_err(|e| invalid(e.to_string()))?;
    let tmp = tempdir_in(parent)?;
    write_private(&tmp.join("ca.key"), key.serialize_pem().as_bytes())?;
    std::fs::write(tmp.join("ca.pem"), cert.pem())?;
    match std::fs::rename(&tmp, dir) {
        Ok(()) => {
            tracing::info!(dir = %dir.display(), "created the TLS inspection CA");
            Ok(())
        }
        Err(_) if dir.join("ca.key").exists() => std::fs::remove_dir_all(&tmp),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

fn tempdir_in(parent: &Path) -> std::io::Result<PathBuf> {
    let tmp = parent.join(format!(".ca-{}-{:x}", std::process::id(), rand::random::<u64>()));
    std::fs::create_dir(&tmp)?;
    Ok(tmp)
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_once_then_loaded_with_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let ca = ca_dir(dir.path(), Some("midori"));
        let a = CertificateAuthority::load_or_create(&ca, "midori").unwrap();
        let b = CertificateAuthority::load_or_create(&ca, "midori").unwrap();
        assert_eq!(a.cert_pem, b.cert_pem);
        assert!(a.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let mode = std::fs::metadata(ca.join("ca.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
