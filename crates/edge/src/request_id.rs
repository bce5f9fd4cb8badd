//! Request ids: short enough for a resident to read out on the phone, unique enough to find
//! the one request in the log store.

use rand::Rng as _;

/// 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I).
pub fn new_request_id() -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}
