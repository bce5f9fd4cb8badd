//! Random secrets for API tokens and session cookies, and the hash under which they are stored.
//!
//! Only `hash_secret(secret)` goes into the database, so someone who reads the database (or a
//! backup) cannot use the tokens in it. A plain SHA-256 suffices here, unlike for passwords,
//! because the secrets carry 256 random bits and cannot be guessed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Returns `prefix` followed by 32 random bytes in URL-safe base64 without padding (43 chars).
/// The prefix (e.g. `mmr_`) makes leaked tokens recognisable to secret scanners.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let mut out = String::with_capacity(prefix.len() + 43);
    out.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut out);
    out
}

/// `N` random bytes from the operating system's generator (e.g. a TOTP secret).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Lower-case hex SHA-256 of `secret`: the form in which tokens and sessions are stored and
/// looked up.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `s` has the shape of a [`hash_secret`] output. The store refuses anything else as a
/// token or session hash so that a caller cannot store a plain secret by mistake.
pub fn is_secret_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_url_safe() {
        let a = new_secret("mmr_");
        let b = new_secret("mmr_");
        assert_ne!(a, b);
        assert!(a.starts_with("mmr_"));
        assert_eq!(a.len(), 4 + 43);
        assert!(a[4..].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(is_secret_hash(&hash_secret(&new_secret("x_"))));
        assert!(!is_secret_hash("mmr_plaintexttoken"));
        assert!(!is_secret_hash(&hash_secret("abc").to_uppercase()));
    }
}
