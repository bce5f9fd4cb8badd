//! Petite 2.1 and 2.2: the packer's section lists blocks to move and sections to inflate
//! (an NRV-like LZ77 whose literals are XORed with the bytes left to produce). The rebuilt
//! program is the memory image with the inflated sections, without Petite's own section;
//! its entry point and mangled imports are not restored (nothing in a scan needs them).

use super::{Layout, patch_sections};
use crate::containers::le_u32;

/// Copies out of an image whose valid range starts at `min`, with every access checked.
struct Image {
    bytes: Vec<u8>,
    min: usize,
}

impl Image {
    fn valid(&self, at: usize, len: usize) -> bool {
        at >= self.min && at.checked_add(len).is_some_and(|end| end < self.bytes.len())
    }
}

/// Petite's bit reader: one byte of flags, read MSB first, refilled in the middle of the
/// literal stream.
struct Flags {
    source: usize,
    byte: u8,
}

impl Flags {
    fn bit(&mut self, image: &Image) -> Option<u32> {
        let old = self.byte;
        let mut next = old.wrapping_mul(2);
        let mut carry = old;
        if old & 0x7f == 0 {
            if !image.valid(self.source, 1) {
                return None;
            }
            carry = image.bytes[self.source];
            next = carry.wrapping_mul(2).wrapping_add(1);
            self.source += 1;
        }
        self.byte = next;
        Some(u32::from(carry >> 7))
    }
}

pub fn unpack(data: &[u8], layout: &Layout, entry: &[u8], image_base: u32, max_bytes: u64) -> Option<Vec<u8>> {
    let n = layout.sections.len();
    if entry.first() != Some(&0xb8) || n < 2 {
        return None;
    }
    let target = le_u32(entry, 1)?.wrapping_sub(image_base);
    let (version, packer_index) = if target == layout.sections[n - 1].rva {
        (2, n - 1)
    } else if target == layout.sections[n - 2].rva {
        (1, n - 2)
    } else {
        return None;
    };
    // Level 0 (stored) is not handled, as in ClamAV.
    if le_u32(entry, 0x80) == Some(0x163c_988d) {
        return None;
    }
    let min = layout.sections.iter().map(|s| s.rva).min()? as usize;
    let size = layout.sections.iter().map(|s| s.rva as u64 + s.vsz.max(s.rsz) as u64).max()?;
    if size > max_bytes || size as usize <= min {
        return None;
    }
    let mut image = Image { bytes: vec![0u8; size as usize], min };
    for section in layout.sections.iter().filter(|s| s.raw != 0 && s.rsz != 0) {
        let (raw, rva, rsz) = (section.raw as usize, section.rva as usize, section.rsz as usize);
        let source = data.get(raw..raw.checked_add(rsz)?.min(data.len()))?;
        image.bytes.get_mut(rva..rva + source.len())?.copy_from_slice(source);
    }
    let packer = layout.sections[packer_index];
    let mut packed = packer.rva as usize + if version == 2 { 0x1b8 } else { 0x178 };
    let mut bottom = 0u32;
    let mut inflated = 0usize;
    loop {
        if !image.valid(packed, 4) {
            return None;
        }
        let word = le_u32(&image.bytes, packed)?;
        if word == 0 {
            break;
        }
        let count = word & 0x7fff_ffff;
        if word != count {
            // Move `count` dwords to the end of their packed section.
            if !image.valid(packed, 12) {
                return None;
            }
            bottom = le_u32(&image.bytes, packed + 8)?.wrapping_add(4);
            let bytes = (count as usize).checked_mul(4)?;
            let back = (count as usize).checked_sub(1)?.checked_mul(4)?;
            let source = (le_u32(&image.bytes, packed + 4)? as usize).checked_sub(back)?;
            let target = (le_u32(&image.bytes, packed + 8)? as usize).checked_sub(back)?;
            if !image.valid(source, bytes) || !image.valid(target, bytes) {
                return None;
            }
            image.bytes.copy_within(source..source + bytes, target);
            packed += 12;
            continue;
        }
        // Inflate one original section.
        if !image.valid(packed, 16) {
            return None;
        }
        let length = le_u32(&image.bytes, packed + 4)? as usize;
        let target = le_u32(&image.bytes, packed + 8)? as usize;
        packed += 16;
        let _ = bottom;
        if length == 0 {
            continue;
        }
        inflate(&mut image, word as usize, target, length)?;
        inflated += 1;
    }
    if inflated == 0 {
        return None;
    }
    let kept: Vec<_> =
        layout.sections.iter().enumerate().filter(|&(i, _)| i != packer_index).map(|(_, s)| *s).collect();
    patch_sections(data, image.bytes, layout, &kept, None)
}

fn inflate(image: &mut Image, source: usize, target: usize, length: usize) -> Option<()> {
    let (check1, check2, go_back) = if length < 0x10000 {
        (0xffff_c060u32, 0xffff_fc60u32, 5)
    } else if length < 0x40000 {
        (0xffff_8180, 0xffff_f980, 7)
    } else {
        (0xffff_8300, 0xffff_fb00, 8)
    };
    if !image.valid(target, 1) || !image.valid(source, 1) {
        return None;
    }
    let mut flags = Flags { source, byte: 0 };
    let mut out = target;
    image.bytes[out] = image.bytes[flags.source];
    out += 1;
    flags.source += 1;
    let mut left = length as i64 - 1;
    let mut old_back: u32 = 0;
    while left > 0 {
        if flags.bit(image)? == 0 {
            if !image.valid(out, 1) || !image.valid(flags.source, 1) {
                return None;
            }
            image.bytes[out] = image.bytes[flags.source] ^ (left as u8);
            out += 1;
            flags.source += 1;
            left -= 1;
            continue;
        }
        let mut add = 0u32;
        let mut back: i64 = 1;
        loop {
            back = back * 2 + flags.bit(image)? as i64;
            if flags.bit(image)? == 0 {
                break;
            }
            if back > u32::MAX as i64 {
                return None;
            }
        }
        back -= 3;
        let mut size: i64;
        if back >= 0 {
            let mut value = back as u32;
            for _ in 0..go_back {
                value = value.wrapping_mul(2).wrapping_add(flags.bit(image)?);
            }
            value ^= 0xffff_ffff;
            add += 1 + u32::from(value < check2) + u32::from(value < check1);
            old_back = value;
            size = 0;
        } else {
            size = back + 1;
        }
        let distance = old_back as i32 as i64;
        size = size * 2 + flags.bit(image)? as i64;
        size = size * 2 + flags.bit(image)? as i64;
        if size == 0 {
            size = 1;
            loop {
                size = size * 2 + flags.bit(image)? as i64;
                if flags.bit(image)? == 0 {
                    break;
                }
                if size > u32::MAX as i64 {
                    return None;
                }
            }
            size += 2;
        }
        size += add as i64;
        left -= size;
        let from = out as i64 + distance;
        if from < 0 || !image.valid(out, size as usize) || !image.valid(from as usize, size as usize) {
            return None;
        }
        for _ in 0..size {
            image.bytes[out] = image.bytes[(out as i64 + distance) as usize];
            out += 1;
        }
    }
    Some(())
}
