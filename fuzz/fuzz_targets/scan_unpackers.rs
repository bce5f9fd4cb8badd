//! The unpackers of packed programs (UPX, WWPack, ASPack, Petite, yC, PESpin, MEW, Upack) and
//! their decompressors (NRV2B/D/E, FSG's), each reached directly: the first byte picks one, the
//! rest is the PE file (or, for a decompressor, the compressed stream). None panics, and what
//! comes out stays within the size it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_scan::fuzzing::{decoder, unpacker};

const MAX_BYTES: u64 = 4 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let which = which % 13;
    if which < 9 {
        if let Some(out) = unpacker(which, rest, MAX_BYTES) {
            // yC decrypts in place: its output is the file's size.
            assert!(out.len() as u64 <= MAX_BYTES.max(rest.len() as u64), "unpacker {which}: {} bytes", out.len());
        }
    } else if let Some(out) = decoder(which - 9, rest, MAX_BYTES as usize) {
        assert!(out.len() as u64 <= MAX_BYTES, "decoder {}: {} bytes", which - 9, out.len());
    }
});
