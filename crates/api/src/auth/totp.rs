//! Time-based one-time passwords (RFC 6238) for two-factor login: HMAC-SHA1, 30-second steps,
//! 6 digits, as every authenticator app implements them.
//!
//! A code is accepted for the current step and one step either side (clock drift and the time
//! it takes to type), and never twice: the store records the step of the last accepted code
//! (`ControlStore::claim_totp_step`).

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Steps accepted before and after the current one.
const DRIFT_STEPS: i64 = 1;
/// 160 bits, the size of an HMAC-SHA1 key that RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

/// A new random secret in base32 without padding (what enrolment shows and apps accept).
pub fn new_secret() -> String {
    BASE32_NOPAD.encode(&mamori_store::secret::random_bytes::<SECRET_BYTES>())
}

/// The key bytes of a base32 secret (spaces and lower case tolerated, as people copy them).
pub fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    let clean: String =
        secret.chars().filter(|c| !c.is_whitespace() && *c != '=').map(|c| c.to_ascii_uppercase()).collect();
    BASE32_NOPAD.decode(clean.as_bytes()).ok().filter(|k| !k.is_empty())
}

/// The time step a moment falls into.
pub fn step_at(t: Timestamp) -> i64 {
    t.as_second().div_euclid(STEP_SECONDS)
}

/// The code of `step` for `key`, with `digits` digits (RFC 4226 dynamic truncation).
pub fn code_for_step(key: &[u8], step: i64, digits: u32) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
    let modulus = 10u32.pow(digits);
    format!("{:0width$}", binary % modulus, width = digits as usize)
}

/// The current 6-digit code of a base32 secret (for tests and tools).
pub fn current_code(secret: &str, now: Timestamp) -> Option<String> {
    decode_secret(secret).map(|k| code_for_step(&k, step_at(now), DIGITS))
}

/// The step whose code `code` is, within the accepted drift around `now`, if any. The caller
/// must still claim the step so the code cannot be replayed.
pub fn verify(secret: &str, code: &str, now: Timestamp) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = decode_secret(secret)?;
    let now = step_at(now);
    // Check every candidate, so the time taken does not say which step matched.
    let mut found = None;
    for step in (now - DRIFT_STEPS)..=(now + DRIFT_STEPS) {
        let expected = code_for_step(&key, step, DIGITS);
        if super::session::constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI authenticator apps read from a QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 key is the ASCII "12345678901234567890", 8 digits.
    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let key = b"12345678901234567890";
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let t = Timestamp::from_second(time).unwrap();
            assert_eq!(code_for_step(key, step_at(t), 8), expected, "T = {time}");
        }
    }

    #[test]
    fn base32_secrets_and_drift() {
        // "12345678901234567890" in base32.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(decode_secret(secret).unwrap(), b"12345678901234567890");
        assert_eq!(decode_secret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(), b"12345678901234567890");
        let t = Timestamp::from_second(59).unwrap();
        assert_eq!(current_code(secret, t).unwrap(), "287082");
        assert_eq!(verify(secret, "287082", t), Some(1));
        let later = Timestamp::from_second(59 + 30).unwrap();
        assert_eq!(verify(secret, "287 082", later), Some(1), "one step of drift");
        let much_later = Timestamp::from_second(59 + 90).unwrap();
        assert_eq!(verify(secret, "287082", much_later), None);
        assert_eq!(verify(secret, "28708", t), None);
        assert_eq!(verify(secret, "abcdef", t), None);
        assert_eq!(verify("not base32!", "287082", t), None);
    }

    #[test]
    fn new_secrets_decode_to_160_bits() {
        let s = new_secret();
        assert_eq!(decode_secret(&s).unwrap().len(), 20);
        assert_ne!(s, new_secret());
        let uri = otpauth_uri("mamori", "山田", &s);
        assert!(uri.starts_with("otpauth://totp/mamori:%E5%B1%B1%E7%94%B0?secret="), "{uri}");
    }
}
