//! DSA signatures of DNSSEC (algorithms 3 and 6, RFC 2536), which hickory-proto does not
//! verify. RFC 8624 deprecates them for signing; they are verified here because resolvers
//! such as Unbound still do, and older zones and test data use them. The `dsa` crate (already
//! in the lock) does the arithmetic; its `hazmat` constructor takes the 512- to 1024-bit keys
//! RFC 2536 allows, which its checked one refuses.

use dsa::signature::hazmat::PrehashVerifier;
use dsa::{BoxedUint, Components, Signature, VerifyingKey};
use hickory_proto::dnssec::Algorithm;
use sha1::{Digest, Sha1};

/// DSA and DSA-NSEC3-SHA1.
#[allow(deprecated)] // hickory marks DSA deprecated; recognising it is the point here.
pub fn is_dsa(algorithm: Algorithm) -> bool {
    matches!(algorithm, Algorithm::DSA | Algorithm::Unknown(6))
}

/// Verifies `signature` (RFC 2536 §3: T, R, S; or the DER form some signers wrote) over
/// `message` with the DNSKEY public key `key` (RFC 2536 §2: T, Q, P, G, Y).
pub fn verify(key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), String> {
    let (r, s) = signature_parts(signature).ok_or("malformed DSA signature")?;
    let t = usize::from(*key.first().ok_or("empty DSA key")?);
    if t > 8 {
        return Err("DSA key with T above 8".into());
    }
    let len = 64 + t * 8;
    if key.len() != 1 + 20 + 3 * len {
        return Err("DSA key of the wrong length".into());
    }
    let q = &key[1..21];
    let p = &key[21..21 + len];
    let g = &key[21 + len..21 + 2 * len];
    let y = &key[21 + 2 * len..];
    let hash = Sha1::digest(message);
    // The crate's arithmetic is not meant for hostile parameters; a panic there must not take
    // the resolver down: it counts as a failed signature.
    std::panic::catch_unwind(|| {
        let uint = |b: &[u8]| BoxedUint::from_be_slice_vartime(b);
        let components = Components::from_components_unchecked(uint(p), uint(q), uint(g)).ok()?;
        let key = VerifyingKey::from_components(components, uint(y)).ok()?;
        let sig = Signature::from_components(uint(r), uint(s))?;
        Some(key.verify_prehash(&hash, &sig).is_ok())
    })
    .ok()
    .flatten()
    .filter(|ok| *ok)
    .map(|_| ())
    .ok_or_else(|| "the DSA signature does not verify".to_string())
}

/// R and S of a DSA signature in RFC 2536 form or as a DER SEQUENCE of two INTEGERs.
fn signature_parts(sig: &[u8]) -> Option<(&[u8], &[u8])> {
    if sig.len() == 41 {
        return Some((&sig[1..21], &sig[21..41]));
    }
    // 30 len 02 lr r 02 ls s
    if sig.first() != Some(&0x30) || usize::from(*sig.get(1)?) != sig.len() - 2 {
        return None;
    }
    let int = |at: usize| -> Option<(&[u8], usize)> {
        if *sig.get(at)? != 0x02 {
            return None;
        }
        let len = usize::from(*sig.get(at + 1)?);
        let bytes = sig.get(at + 2..at + 2 + len)?;
        Some((bytes, at + 2 + len))
    };
    let (r, next) = int(2)?;
    let (s, end) = int(next)?;
    (end == sig.len()).then_some((r, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_keys_and_signatures_fail_without_panicking() {
        assert!(verify(&[], b"m", &[0; 41]).is_err());
        assert!(verify(&[9; 300], b"m", &[0; 41]).is_err());
        assert!(verify(&[0; 1 + 20 + 192], b"m", &[0; 41]).is_err());
        assert!(verify(&[0; 1 + 20 + 192], b"m", &[0x30, 3, 2, 1]).is_err());
        assert_eq!(signature_parts(&[0x30, 6, 2, 1, 7, 2, 1, 9]), Some((&[7u8][..], &[9u8][..])));
    }
}
