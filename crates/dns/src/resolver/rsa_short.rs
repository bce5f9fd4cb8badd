//! RSA signatures of DNSSEC (RFC 3110, RFC 5702) with moduli below ring's 1024-bit minimum,
//! which hickory-proto's ring backend refuses: RFC 3110 allows 512 bits, old zones and test
//! data use them, and Unbound verifies them. PKCS #1 v1.5 checked by hand over the `rsa`
//! crate's raw public operation (`hazmat`; the crate is already in the lock).

// hickory marks the SHA-1 algorithms deprecated; verifying them is the point here.
#![allow(deprecated)]

use hickory_proto::dnssec::Algorithm;
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, RsaPublicKey};
use sha1::Digest;

/// DigestInfo prefixes of EMSA-PKCS1-v1_5 (RFC 8017 §9.2, note 1).
const SHA1_PREFIX: &[u8] = &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14];
const SHA256_PREFIX: &[u8] =
    &[0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];
const SHA512_PREFIX: &[u8] =
    &[0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40];

pub fn is_rsa(algorithm: Algorithm) -> bool {
    matches!(algorithm, Algorithm::RSASHA1 | Algorithm::RSASHA1NSEC3SHA1 | Algorithm::RSASHA256 | Algorithm::RSASHA512)
}

/// Verifies `signature` over `message` with the DNSKEY public key `key` (RFC 3110 §2:
/// exponent length, exponent, modulus).
pub fn verify(algorithm: Algorithm, key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), String> {
    let (prefix, hash): (&[u8], Vec<u8>) = match algorithm {
        Algorithm::RSASHA1 | Algorithm::RSASHA1NSEC3SHA1 => (SHA1_PREFIX, sha1::Sha1::digest(message).to_vec()),
        Algorithm::RSASHA256 => (SHA256_PREFIX, sha2::Sha256::digest(message).to_vec()),
        Algorithm::RSASHA512 => (SHA512_PREFIX, sha2::Sha512::digest(message).to_vec()),
        _ => return Err("not an RSA algorithm".into()),
    };
    let (exponent, modulus) = match key {
        [0, hi, lo, rest @ ..] => rest.split_at_checked(usize::from(u16::from_be_bytes([*hi, *lo]))),
        [len, rest @ ..] => rest.split_at_checked(usize::from(*len)),
        [] => None,
    }
    .ok_or("malformed RSA key")?;
    let k = modulus.len();
    if signature.len() != k || k < 64 || exponent.is_empty() || exponent.len() > 8 {
        return Err("RSA key or signature of a size not accepted".into());
    }
    let uint = |b: &[u8]| BoxedUint::from_be_slice_vartime(b);
    let public = RsaPublicKey::new_with_size_limits(uint(modulus), uint(exponent), 512..=4096)
        .map_err(|e| format!("RSA key: {e}"))?;
    let s = uint(signature);
    if s >= public.n().as_ref().clone() {
        return Err("RSA signature out of range".into());
    }
    let m = rsa::hazmat::rsa_encrypt(&public, &s).map_err(|e| e.to_string())?;
    let bytes = m.to_be_bytes();
    // The encoded message is k bytes; BoxedUint may carry leading zero limbs.
    let em = bytes.get(bytes.len().saturating_sub(k)..).ok_or("RSA result too short")?;
    let t_len = prefix.len() + hash.len();
    if k < t_len + 11 {
        return Err("RSA modulus too short for the digest".into());
    }
    let mut expected = vec![0x00, 0x01];
    expected.resize(k - t_len - 1, 0xff);
    expected.push(0x00);
    expected.extend_from_slice(prefix);
    expected.extend_from_slice(&hash);
    if em == expected.as_slice() { Ok(()) } else { Err("the RSA signature does not verify".into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_keys_fail_without_panicking() {
        assert!(verify(Algorithm::RSASHA1, &[], b"m", &[1; 64]).is_err());
        assert!(verify(Algorithm::RSASHA1, &[3, 1, 0, 1], b"m", &[1; 64]).is_err());
        assert!(verify(Algorithm::RSASHA256, &[0, 0, 9, 1], b"m", &[1; 64]).is_err());
        let mut key = vec![1, 3];
        key.extend([0u8; 64]);
        assert!(verify(Algorithm::RSASHA1, &key, b"m", &[1; 64]).is_err());
    }
}
