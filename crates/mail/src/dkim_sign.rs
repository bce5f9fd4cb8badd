//! DKIM signing of outbound mail per tenant domain (RFC 6376) through mail-auth: relaxed/relaxed
//! canonicalization, RSA-SHA256 or Ed25519-SHA256 (RFC 8463), the header fields a reader sees.
//! A message is signed by its tenant's key whose domain is the From: domain or a parent of it
//! (relaxed DMARC alignment); messages from other domains go out unsigned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter as _;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use mamori_core::config::mail::MailConfig;

use crate::mime_text::b64;

/// Header fields covered by the signature when present (RFC 6376 §5.4.1's recommendations).
const SIGNED_HEADERS: [&str; 13] = [
    "From",
    "Sender",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "To",
    "Cc",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "In-Reply-To",
    "References",
];

type Ready<T> = DkimSigner<T, mail_auth::dkim::Done>;

enum Key {
    Rsa(RsaKey<Sha256>),
    Ed25519(Ed25519Key),
}

/// A signer is built once with its key, domain and selector; signing only hashes and signs.
enum Prepared {
    Rsa(Ready<RsaKey<Sha256>>),
    Ed25519(Ready<Ed25519Key>),
}

struct Signer {
    domain: String,
    selector: String,
    /// `k=` and `p=` of the DNS record.
    public: (&'static str, Vec<u8>),
    prepared: Prepared,
}

/// Every tenant's signing keys, loaded once at start.
#[derive(Default)]
pub struct DkimSigners {
    by_tenant: HashMap<String, Vec<Signer>>,
}

/// The DNS record a key needs: `NAME TXT VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    pub tenant: String,
    pub name: String,
    pub value: String,
}

impl DkimSigners {
    /// Loads every configured key; `base` resolves relative key paths. Fails naming the key.
    pub fn load(mail: &MailConfig, base: &Path) -> Result<DkimSigners, String> {
        let mut by_tenant: HashMap<String, Vec<Signer>> = HashMap::new();
        for (tenant, t) in &mail.tenants {
            for (i, k) in t.dkim.iter().enumerate() {
                let path = if k.key.is_absolute() { k.key.clone() } else { base.join(&k.key) };
                let key = read_key(&path).map_err(|e| format!("mail.tenants.{tenant}.dkim[{i}].key: {e}"))?;
                let domain = k.domain.trim_end_matches('.').to_ascii_lowercase();
                let (public, prepared) = match key {
                    Key::Rsa(key) => (
                        ("rsa", spki_rsa(&key.public_key())),
                        Prepared::Rsa(prepare(DkimSigner::from_key(key), &domain, &k.selector)),
                    ),
                    Key::Ed25519(key) => (
                        ("ed25519", key.public_key()),
                        Prepared::Ed25519(prepare(DkimSigner::from_key(key), &domain, &k.selector)),
                    ),
                };
                let signer = Signer { domain, selector: k.selector.clone(), public, prepared };
                by_tenant.entry(tenant.clone()).or_default().push(signer);
            }
        }
        Ok(DkimSigners { by_tenant })
    }

    pub fn is_empty(&self) -> bool {
        self.by_tenant.is_empty()
    }

    /// The `DKIM-Signature:` header line (CRLF included) for `text` from `tenant`, or `None` when
    /// no key of the tenant matches the From: domain.
    pub fn sign(&self, tenant: &str, text: &[u8]) -> Option<Result<String, String>> {
        let from = crate::message::facts(text).from_domain?;
        // The most specific matching domain: news.city.example signs with its own key, not its parent's.
        let signer = self
            .by_tenant
            .get(tenant)?
            .iter()
            .filter(|s| {
                from == s.domain || from.strip_suffix(s.domain.as_str()).is_some_and(|rest| rest.ends_with('.'))
            })
            .max_by_key(|s| s.domain.len())?;
        let signed = match &signer.prepared {
            Prepared::Rsa(s) => s.sign(text).map(|sig| sig.to_header()),
            Prepared::Ed25519(s) => s.sign(text).map(|sig| sig.to_header()),
        };
        Some(signed.map_err(|e| e.to_string()))
    }

    /// The TXT records to publish for every key.
    pub fn dns_records(&self) -> Vec<DnsRecord> {
        let mut out = Vec::new();
        for (tenant, signers) in &self.by_tenant {
            for s in signers {
                let (k, p) = &s.public;
                out.push(DnsRecord {
                    tenant: tenant.clone(),
                    name: format!("{}._domainkey.{}", s.selector, s.domain),
                    value: format!("v=DKIM1; k={k}; p={}", b64(p)),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

fn prepare<T: mail_auth::common::crypto::SigningKey>(
    base: DkimSigner<T, mail_auth::dkim::NeedDomain>,
    domain: &str,
    selector: &str,
) -> Ready<T> {
    base.domain(domain)
        .selector(selector)
        .headers(SIGNED_HEADERS)
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
}

fn read_key(path: &Path) -> Result<Key, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = std::io::BufReader::new(pem.as_slice());
    let item = rustls_pemfile::private_key(&mut reader)
        .map_err(|e| format!("{}: not a PEM private key: {e}", path.display()))?
        .ok_or_else(|| format!("{}: no private key in the file", path.display()))?;
    if let rustls::pki_types::PrivateKeyDer::Pkcs8(der) = &item
        && let Ok(key) = Ed25519Key::from_pkcs8_maybe_unchecked_der(der.secret_pkcs8_der())
    {
        return Ok(Key::Ed25519(key));
    }
    RsaKey::<Sha256>::from_key_der(item)
        .map(Key::Rsa)
        .map_err(|e| format!("{}: neither an RSA nor an Ed25519 key: {e}", path.display()))
}

/// The SubjectPublicKeyInfo of an RSA public key (PKCS#1 DER), as DKIM records carry it.
fn spki_rsa(pkcs1: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption, NULL }
    const ALG: [u8; 15] = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut bits = vec![0u8];
    bits.extend_from_slice(pkcs1);
    let bit_string = der(0x03, &bits);
    let mut body = ALG.to_vec();
    body.extend_from_slice(&bit_string);
    der(0x30, &body)
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Where the keys of a configuration are resolved from: the config file's directory.
pub fn key_base(config_path: &Path) -> PathBuf {
    config_path.parent().map(Path::to_path_buf).unwrap_or_default()
}
