//! Password hashing for operator accounts (DESIGN §3: passwords hashed with argon2).
//!
//! Argon2id with the argon2 crate's default parameters (19 MiB, 2 passes, 1 lane: the OWASP
//! recommendation) and a random 16-byte salt, stored as a self-describing PHC string so that the
//! parameters can be raised later without breaking existing hashes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

/// Hashes `password` with Argon2id and a fresh random salt; returns the PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    // Both calls only fail for out-of-range parameters (salt shorter than 4 bytes, password
    // longer than 4 GiB); neither is possible with a 16-byte salt and an in-memory &str that
    // came through a size-limited request.
    let salt = SaltString::encode_b64(&salt).expect("a 16-byte salt is always valid");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 default parameters are valid")
        .to_string()
}

/// Whether `password` matches the PHC string `hash`. The comparison is constant-time (done by
/// argon2); a malformed or unsupported hash yields `false` rather than an error, so a corrupt
/// row locks the account instead of crashing the login handler.
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Whether `s` parses as a PHC password-hash string. The store refuses anything else as a
/// password hash so that a plain password can never be stored by mistake.
pub fn is_password_hash(s: &str) -> bool {
    PasswordHash::new(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let hash = hash_password("correct horse battery staple");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery staple", &hash));
    }

    #[test]
    fn wrong_password_is_refused() {
        let hash = hash_password("パスワード");
        assert!(verify_password("パスワード", &hash));
        assert!(!verify_password("パスワート", &hash));
        assert!(!verify_password("", &hash));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash_password("same"), hash_password("same"));
    }

    #[test]
    fn recognises_phc_strings() {
        assert!(is_password_hash(&hash_password("x")));
        assert!(!is_password_hash("hunter2"));
    }

    #[test]
    fn malformed_hash_is_false() {
        for bad in ["", "plain", "$argon2id$", "$argon2id$v=19$m=1,t=1,p=1$$", "$2b$12$abc"] {
            assert!(!verify_password("x", bad), "{bad}");
        }
    }
}
