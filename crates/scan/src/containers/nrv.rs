//! The NRV2B, NRV2D and NRV2E decompressors of UCL, as UPX uses them (32-bit little-endian
//! bit buffer). Bounded: never writes past `max_out`, never reads past the input, never
//! copies from before the start of the output; a broken stream is `None`, never a panic.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Nrv2b,
    Nrv2d,
    Nrv2e,
}

struct Bits<'a> {
    src: &'a [u8],
    at: usize,
    buffer: u32,
    left: u32,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        if self.left == 0 {
            let bytes = self.src.get(self.at..self.at + 4)?;
            self.buffer = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            self.at += 4;
            self.left = 32;
        }
        self.left -= 1;
        Some((self.buffer >> self.left) & 1)
    }

    fn byte(&mut self) -> Option<u8> {
        let byte = *self.src.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    /// `value*2 + bit` repeated until the stop bit, the "gamma" code of UCL; bounded so that a
    /// run of ones cannot overflow.
    fn gamma(&mut self, mut value: u32) -> Option<u32> {
        loop {
            value = value.checked_mul(2)?.checked_add(self.bit()?)?;
            if self.bit()? == 1 {
                return Some(value);
            }
        }
    }
}

/// Decompresses `src` with `method`; `None` when the stream is broken or would produce more
/// than `max_out` bytes.
pub fn decompress(method: Method, src: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let mut bits = Bits { src, at: 0, buffer: 0, left: 0 };
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(src.len().saturating_mul(8)));
    let mut last_offset: u32 = 1;
    loop {
        while bits.bit()? == 1 {
            if out.len() >= max_out {
                return None;
            }
            out.push(bits.byte()?);
        }
        let mut offset: u32 = 1;
        if method == Method::Nrv2b {
            offset = bits.gamma(offset)?;
        } else {
            loop {
                offset = offset.checked_mul(2)?.checked_add(bits.bit()?)?;
                if bits.bit()? == 1 {
                    break;
                }
                offset = (offset - 1).checked_mul(2)?.checked_add(bits.bit()?)?;
            }
        }
        let mut length: u32;
        if offset == 2 {
            offset = last_offset;
            length = if method == Method::Nrv2b { 0 } else { bits.bit()? };
        } else {
            let value = (offset - 3).checked_mul(256)?.checked_add(u32::from(bits.byte()?))?;
            if value == u32::MAX {
                return Some(out);
            }
            offset = value;
            length = 0;
            if method != Method::Nrv2b {
                length = (offset ^ u32::MAX) & 1;
                offset >>= 1;
            }
            offset += 1;
            last_offset = offset;
        }
        match method {
            Method::Nrv2b | Method::Nrv2d => {
                if method == Method::Nrv2b {
                    length = bits.bit()?;
                }
                length = length * 2 + bits.bit()?;
                if length == 0 {
                    length = bits.gamma(1)? + 2;
                }
                let far = if method == Method::Nrv2b { 0xd00 } else { 0x500 };
                length += u32::from(offset > far);
            }
            Method::Nrv2e => {
                length = if length == 1 {
                    1 + bits.bit()?
                } else if bits.bit()? == 1 {
                    3 + bits.bit()?
                } else {
                    bits.gamma(1)? + 3
                };
                length += u32::from(offset > 0x500);
            }
        }
        let count = length as usize + 1;
        let start = out.len().checked_sub(offset as usize)?;
        if out.len() + count > max_out {
            return None;
        }
        // Overlapping copies repeat bytes, as LZ77 means them to: one byte at a time.
        for index in start..start + count {
            let byte = out[index];
            out.push(byte);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the bit and byte stream of NRV2B: 32-bit little-endian words of bits, each
    /// reserved in the byte stream before the bytes that follow its first bit.
    struct Writer {
        out: Vec<u8>,
        word_at: usize,
        word: u32,
        used: u32,
    }

    impl Writer {
        fn new() -> Writer {
            Writer { out: Vec::new(), word_at: 0, word: 0, used: 32 }
        }
        fn bit(&mut self, bit: u32) {
            if self.used == 32 {
                self.flush();
                self.word_at = self.out.len();
                self.out.extend_from_slice(&[0; 4]);
                self.used = 0;
            }
            self.word |= bit << (31 - self.used);
            self.used += 1;
        }
        fn flush(&mut self) {
            if self.used > 0 && self.used <= 32 && self.out.len() >= self.word_at + 4 {
                self.out[self.word_at..self.word_at + 4].copy_from_slice(&self.word.to_le_bytes());
            }
            self.word = 0;
        }
        /// UCL's gamma code for `value >= 2`.
        fn gamma(&mut self, value: u32) {
            let top = 31 - value.leading_zeros();
            for shift in (0..top).rev() {
                self.bit((value >> shift) & 1);
                self.bit(u32::from(shift == 0));
            }
        }
        fn finish(mut self) -> Vec<u8> {
            self.flush();
            self.out
        }
    }

    /// "abcabcabcabc!" as literals and one overlapping match, then the end marker (NRV2B).
    fn nrv2b_sample() -> Vec<u8> {
        let mut w = Writer::new();
        for &byte in b"abc" {
            w.bit(1);
            w.out.push(byte);
        }
        // Match: offset 3, length 9 → offset code (3-1)/256+3 = 3, low byte 2, then length.
        w.bit(0);
        w.gamma(3);
        w.out.push(2);
        // length 9 → m_len+1 copies with m_len = 8: two bits 00, then gamma(8-2 = 6).
        w.bit(0);
        w.bit(0);
        w.gamma(6);
        w.bit(1);
        w.out.push(b'!');
        // End marker: offset code 0x1000002 with low byte 0xff gives 0xffffffff.
        w.bit(0);
        w.gamma(0x0100_0002);
        w.out.push(0xff);
        w.finish()
    }

    #[test]
    fn nrv2b_literals_overlapping_match_and_end() {
        let data = nrv2b_sample();
        assert_eq!(decompress(Method::Nrv2b, &data, 100).as_deref(), Some(&b"abcabcabcabc!"[..]));
    }

    #[test]
    fn output_bound_is_kept() {
        let data = nrv2b_sample();
        assert_eq!(decompress(Method::Nrv2b, &data, 5), None);
    }

    #[test]
    fn truncated_and_garbage_streams_end_without_panic() {
        let data = nrv2b_sample();
        for cut in 0..data.len() {
            assert_eq!(decompress(Method::Nrv2b, &data[..cut], 100), None, "cut at {cut}");
        }
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let noise: Vec<u8> = (0..64)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            for method in [Method::Nrv2b, Method::Nrv2d, Method::Nrv2e] {
                if let Some(out) = decompress(method, &noise, 4096) {
                    assert!(out.len() <= 4096);
                }
            }
        }
    }

    #[test]
    fn a_match_before_the_start_is_refused() {
        let mut w = Writer::new();
        w.bit(0);
        w.gamma(3);
        w.out.push(0);
        w.bit(0);
        w.bit(1);
        assert_eq!(decompress(Method::Nrv2b, &w.finish(), 100), None);
    }
}
