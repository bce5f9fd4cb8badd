//! Equality of short byte strings without a call to `memcmp`.
//!
//! The builders compare a few dozen short strings per event (leaf paths against the predicted
//! shape, tokens and values against the one found by hash), nearly all equal and under 32
//! bytes; the library call and its dispatch cost more than the comparison itself.

/// Whether `a` and `b` hold the same bytes.
#[inline]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    if n > 32 {
        return a == b;
    }
    if n >= 8 {
        // Whole words, then the last eight bytes (overlapping the words before them).
        let (aw, _) = a.as_chunks::<8>();
        let (bw, _) = b.as_chunks::<8>();
        if aw.iter().zip(bw).any(|(x, y)| u64::from_ne_bytes(*x) != u64::from_ne_bytes(*y)) {
            return false;
        }
        return tail(a) == tail(b);
    }
    if n >= 4 {
        return head4(a) == head4(b) && head4(&a[n - 4..]) == head4(&b[n - 4..]);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

fn tail(s: &[u8]) -> u64 {
    let (_, last) = s.split_at(s.len() - 8);
    let (w, _) = last.as_chunks::<8>();
    w.first().map_or(0, |w| u64::from_ne_bytes(*w))
}

fn head4(s: &[u8]) -> u32 {
    let (w, _) = s.as_chunks::<4>();
    w.first().map_or(0, |w| u32::from_ne_bytes(*w))
}

#[cfg(test)]
mod tests {
    use super::same_bytes;

    #[test]
    fn agrees_with_slice_equality() {
        let base: Vec<u8> = (0..48u8).map(|i| b'a' + i % 26).collect();
        for n in 0..=base.len() {
            let a = &base[..n];
            assert!(same_bytes(a, a));
            assert!(same_bytes(a, &a.to_vec()));
            for at in 0..n {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!same_bytes(a, &b), "differs at {at} of {n}");
            }
            if n > 0 {
                assert!(!same_bytes(a, &base[..n - 1]));
            }
        }
    }
}
