//! FSG's LZ77 decompressor (aPLib-like, with a flag byte read bit by bit), shared by the
//! packers that use it: PESpin for its compressed sections and MEW for each of its blocks.

/// Decompresses `source` into at most `size` bytes. Returns the output (not padded) and how
/// many bytes of `source` were read up to the end marker; `None` when the stream breaks,
/// reads past its end or would grow beyond `size`.
pub fn decompress(source: &[u8], size: usize) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::with_capacity(size.min(source.len().saturating_mul(16)));
    let mut flags = Flags { source, at: 1, byte: 0x80 };
    out.push(*source.first()?);
    let mut lost_bit = 1u32;
    let mut old_back = 0usize;
    loop {
        if flags.bit()? == 0 {
            if out.len() >= size {
                return None;
            }
            let byte = *source.get(flags.at)?;
            flags.at += 1;
            out.push(byte);
            lost_bit = 1;
            continue;
        }
        let (back, length) = if flags.bit()? != 0 {
            if flags.bit()? != 0 {
                lost_bit = 1;
                let mut back = 0x10u32;
                while back < 0x100 {
                    back = back * 2 + flags.bit()?;
                }
                back &= 0xff;
                if back == 0 {
                    if out.len() >= size {
                        return None;
                    }
                    out.push(0);
                    continue;
                }
                (back as usize, 1usize)
            } else {
                let byte = *source.get(flags.at)?;
                flags.at += 1;
                let length = (byte & 1) as usize;
                let back = (byte >> 1) as usize;
                if back == 0 {
                    break;
                }
                old_back = back;
                lost_bit = 0;
                (back, length + 2)
            }
        } else {
            let value = flags.gamma()?.checked_sub(1 + lost_bit)?;
            let result = if value == 0 {
                (old_back, flags.gamma()? as usize)
            } else {
                let byte = *source.get(flags.at)? as usize;
                flags.at += 1;
                let back = byte + ((value as usize - 1) << 8);
                let mut length = flags.gamma()? as usize;
                if back >= 0x7d00 {
                    length += 1;
                }
                if back >= 0x500 {
                    length += 1;
                }
                if back <= 0x7f {
                    length += 2;
                }
                old_back = back;
                (back, length)
            };
            lost_bit = 0;
            result
        };
        if back == 0 || back > out.len() || out.len() + length > size {
            return None;
        }
        let from = out.len() - back;
        for i in 0..length {
            out.push(out[from + i]);
        }
    }
    Some((out, flags.at))
}

/// The flag bits, one byte of `source` at a time, interleaved with the literal bytes.
struct Flags<'a> {
    source: &'a [u8],
    at: usize,
    byte: u8,
}

impl Flags<'_> {
    fn bit(&mut self) -> Option<u32> {
        let old = self.byte;
        let mut next = old.wrapping_mul(2);
        let mut carry = old;
        if old & 0x7f == 0 {
            if self.at + 1 >= self.source.len() {
                return None;
            }
            carry = self.source[self.at];
            next = carry.wrapping_mul(2).wrapping_add(1);
            self.at += 1;
        }
        self.byte = next;
        Some(u32::from(carry >> 7))
    }

    /// An Elias-gamma-like number: bit pairs (value bit, more bit).
    fn gamma(&mut self) -> Option<u32> {
        let mut value = 1u32;
        loop {
            value = value.checked_mul(2)?.checked_add(self.bit()?)?;
            if self.bit()? == 0 {
                return Some(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_then_end_marker() {
        // 'a', then flag bits 0 (literal 'b'), 1 1 0 (one-byte back reference byte 0x00: end).
        let stream = [b'a', 0b0110_0000, b'b', 0x00, 0x00];
        let (out, read) = decompress(&stream, 16).expect("decodes");
        assert_eq!(out, b"ab");
        assert_eq!(read, 4);
    }

    #[test]
    fn garbage_never_panics() {
        for seed in 0..300u32 {
            let noise: Vec<u8> =
                (0..120u32).map(|i| (i.wrapping_mul(seed.wrapping_mul(2654435761) | 1) >> 11) as u8).collect();
            if let Some((out, read)) = decompress(&noise, 4096) {
                assert!(out.len() <= 4096 && read <= noise.len());
            }
        }
        assert!(decompress(&[], 10).is_none());
        assert!(decompress(&[1], 10).is_none());
    }
}
