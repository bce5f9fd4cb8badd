//! Host certificates signed by a mamori CA, minted when a host is first decrypted and kept in
//! a bounded LRU cache: minting costs a key generation and a signature, reuse costs nothing.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, SerialNumber};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

use super::ca::CertificateAuthority;

/// Leaves are short-lived: a stolen one is worth little, and the cache renews them.
const VALIDITY: time::Duration = time::Duration::days(7);
/// Renewed once less than this is left.
const RENEW_BEFORE: time::Duration = time::Duration::days(1);

/// By CA and host: the certificate and when it expires.
type Leaves = LruCache<(String, String), (Arc<CertifiedKey>, time::OffsetDateTime)>;

pub struct LeafCache {
    cache: Mutex<Leaves>,
}

impl LeafCache {
    pub fn new(capacity: usize) -> LeafCache {
        let capacity = NonZeroUsize::new(capacity.max(1)).expect("not zero");
        LeafCache { cache: Mutex::new(LruCache::new(capacity)) }
    }

    /// The certificate for `host` (a name or an address) from the CA called `ca_id`.
    pub fn get(&self, ca_id: &str, ca: &CertificateAuthority, host: &str) -> Result<Arc<CertifiedKey>, String> {
        let key = (ca_id.to_string(), host.to_string());
        let now = time::OffsetDateTime::now_utc();
        if let Some((leaf, expires)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key)
            && *expires - now > RENEW_BEFORE
        {
            return Ok(leaf.clone());
        }
        let leaf = Arc::new(mint(ca, host, now)?);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).put(key, (leaf.clone(), now + VALIDITY));
        Ok(leaf)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

fn mint(ca: &CertificateAuthority, host: &str, now: time::OffsetDateTime) -> Result<CertifiedKey, String> {
    let mut p = CertificateParams::new(vec![host.to_string()]).map_err(|e| format!("{host}: {e}"))?;
    p.distinguished_name.push(DnType::CommonName, host);
    p.not_before = now - time::Duration::hours(1);
    p.not_after = now + VALIDITY;
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let mut serial = rand::random::<[u8; 16]>();
    serial[0] &= 0x7f;
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    p.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = p.signed_by(&key, &ca.issuer).map_err(|e| format!("{host}: {e}"))?;
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing = rustls::crypto::ring::sign::any_supported_type(&der).map_err(|e| e.to_string())?;
    Ok(CertifiedKey::new(vec![CertificateDer::from(cert.der().to_vec())], signing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_cached_per_host_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(&dir.path().join("ca"), "test").unwrap();
        let cache = LeafCache::new(2);
        let a = cache.get("common", &ca, "a.example").unwrap();
        assert!(Arc::ptr_eq(&a, &cache.get("common", &ca, "a.example").unwrap()));
        cache.get("common", &ca, "192.0.2.1").unwrap();
        cache.get("common", &ca, "b.example").unwrap();
        assert_eq!(cache.len(), 2);
        assert!(!Arc::ptr_eq(&a, &cache.get("common", &ca, "a.example").unwrap()), "a.example was evicted");
    }
}
