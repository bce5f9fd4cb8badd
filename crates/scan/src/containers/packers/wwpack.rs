//! WWPack32: the last section holds the unpacker and a table of compressed blocks, each
//! decompressed in place into the program's other sections with WWPack's bit-coded LZ77.
//! The rebuilt program is the memory image of those sections, the packer's own left out.

use super::{Layout, Sect};
use crate::containers::le_u32;

const ENTRY: &[u8] = b"\x53\x55\x8b\xe8\x33\xdb\xeb";
const ENTRY_AT_0X68: &[u8] = b"\xe8\x00\x00\x00\x00\x58\x2d\x6d\x00\x00\x00\x50\x60\x33\xc9\x50\x58\x50\x50";
/// Where the block table starts in the packer's section.
const TABLE: usize = 0x2a1;

pub fn unpack(data: &[u8], layout: &Layout, entry: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
    let (packer, sections) = layout.sections.split_last()?;
    if sections.is_empty()
        || layout.entry_rva != packer.rva
        || !entry.starts_with(ENTRY)
        || entry.get(0x68..0x68 + ENTRY_AT_0X68.len()) != Some(ENTRY_AT_0X68)
    {
        return None;
    }
    let head = layout.sections.iter().map(|s| s.raw).min()? as usize;
    let size = sections.iter().map(|s| s.rva as u64 + s.vsz as u64).max()?;
    if head == 0 || size == 0 || head as u64 > size || size > max_bytes {
        return None;
    }
    let mut image = vec![0u8; size as usize];
    image[..head].copy_from_slice(data.get(..head)?);
    for section in sections.iter().filter(|s| s.rsz != 0) {
        let (raw, rva, rsz) = (section.raw as usize, section.rva as usize, section.rsz as usize);
        let target = image.get_mut(rva..rva.checked_add(rsz)?)?;
        target.copy_from_slice(data.get(raw..raw.checked_add(rsz)?)?);
    }
    let code = data.get(packer.raw as usize..(packer.raw as usize).checked_add(packer.rsz as usize)?)?;
    let mut table = TABLE;
    loop {
        let entry = code.get(table..table + 17)?;
        let src = packer.rva.wrapping_sub(le_u32(entry, 0)?) as usize;
        let compressed = (le_u32(entry, 8)? as usize).checked_mul(4)?;
        let end = le_u32(entry, 12)? as usize;
        let start = src.checked_add(end)?.checked_add(4)?.checked_sub(compressed)?;
        if compressed == 0 || start.checked_add(compressed)? > image.len() {
            return None;
        }
        let packed = image[start..start + compressed].to_vec();
        image[start..start + compressed].fill(0xff);
        decompress(&packed, &mut image, start)?;
        if entry[16] == 0 {
            break;
        }
        table += 17;
    }
    rebuild_headers(&mut image, layout, sections, packer, code)?;
    Some(image)
}

struct Bits<'a> {
    input: &'a [u8],
    at: usize,
    word: u32,
    count: u32,
}

impl Bits<'_> {
    fn reseed(&mut self) -> Option<()> {
        self.word = le_u32(self.input, self.at)?;
        self.at += 4;
        self.count = 32;
        Some(())
    }

    fn bit(&mut self) -> Option<u32> {
        let bit = self.word >> 31;
        self.word <<= 1;
        self.count -= 1;
        if self.count == 0 {
            self.reseed()?;
        }
        Some(bit)
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        if n == 0 {
            return Some(0);
        }
        let mut value = self.word >> (32 - n);
        if self.count >= n {
            self.count -= n;
            self.word = self.word.checked_shl(n).unwrap_or(0);
            if self.count == 0 {
                self.reseed()?;
            }
        } else {
            self.word = le_u32(self.input, self.at)?;
            self.at += 4;
            self.count += 32 - n;
            value |= self.word.checked_shr(self.count).unwrap_or(0);
            self.word = self.word.checked_shl(32 - self.count).unwrap_or(0);
        }
        Some(value)
    }
}

/// Decompresses one block into `image` from `at` on; `None` when it breaks.
fn decompress(packed: &[u8], image: &mut [u8], mut at: usize) -> Option<()> {
    let mut bits = Bits { input: packed, at: 0, word: 0, count: 0 };
    bits.reseed()?;
    loop {
        if bits.bit()? == 0 {
            // A byte copied as it is, from the same stream as the bit words.
            let byte = *packed.get(bits.at)?;
            bits.at += 1;
            *image.get_mut(at)? = byte;
            at += 1;
            continue;
        }
        let selector = bits.bits(2)?;
        if selector == 3 {
            // Two bytes from close behind.
            let size = bits.bits(2)?;
            let (mut shifted, mut subtract) = (size + 5, 31u32);
            if size >= 2 {
                shifted += 1;
                subtract += 0x80;
            }
            let offset = bits.bits(shifted)?;
            if offset == 0x1ff {
                return Some(());
            }
            let back = ((1u32 << shifted) - subtract + offset) as usize;
            copy_back(image, &mut at, back, 2)?;
            continue;
        }
        let saved = selector;
        let code = bits.bits(3)?;
        let back = if code < 6 {
            let mut width = code;
            match code {
                4 => {
                    width += 1;
                    width += bits.bit()?;
                    width += 5;
                }
                3 => {
                    width += bits.bit()?;
                    width += 5;
                }
                5 => width = 12,
                _ => width += 5,
            }
            bits.bits(width)? + (1 << width) - 31
        } else if code == 6 {
            bits.bits(0x0e)? + 0x1fe1
        } else {
            bits.bits(0x0f)? + 0x5fe1
        };
        let length = if saved == 0 {
            if bits.bit()? == 0 {
                bits.bit()? + 5
            } else {
                let n = bits.bits(3)?;
                if n != 0 {
                    n + 6
                } else {
                    let n = bits.bits(4)?;
                    if n != 0 {
                        n + 13
                    } else {
                        let mut count = 4u32;
                        let mut shifted = 0x0du32;
                        loop {
                            if count == 7 {
                                count = 0x0e;
                                shifted = 0;
                                break;
                            }
                            shifted = ((shifted + 2) << 1) - 1;
                            count += 1;
                            if bits.bit()? != 0 {
                                break;
                            }
                        }
                        bits.bits(count)? + shifted
                    }
                }
            }
        } else {
            saved + 2
        };
        copy_back(image, &mut at, back as usize, length as usize)?;
    }
}

fn copy_back(image: &mut [u8], at: &mut usize, back: usize, length: usize) -> Option<()> {
    let from = at.checked_sub(back)?;
    if at.checked_add(length)? > image.len() || back == 0 {
        return None;
    }
    for i in 0..length {
        image[*at + i] = image[from + i];
    }
    *at += length;
    Some(())
}

/// The packer's section left out: section count, entry point, image size and a section
/// table whose raw data lies where the sections do in memory.
fn rebuild_headers(image: &mut [u8], layout: &Layout, sections: &[Sect], packer: &Sect, code: &[u8]) -> Option<()> {
    let pe = layout.e_lfanew;
    let count = sections.len() as u16;
    image.get_mut(pe + 6..pe + 8)?.copy_from_slice(&count.to_le_bytes());
    if let Some(delta) = le_u32(code, 0x295) {
        let entry = delta.wrapping_add(packer.rva).wrapping_add(0x299);
        image.get_mut(pe + 0x28..pe + 0x2c)?.copy_from_slice(&entry.to_le_bytes());
    }
    let image_size = le_u32(image, pe + 0x50)?.wrapping_sub(packer.vsz);
    image.get_mut(pe + 0x50..pe + 0x54)?.copy_from_slice(&image_size.to_le_bytes());
    let at = super::write_section_table(image, layout, sections)?;
    image.get_mut(at..at + 40)?.fill(0);
    Some(())
}
