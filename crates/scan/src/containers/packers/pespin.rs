//! PESpin 1.1, as ClamAV undoes it: its own code is decrypted in layers (a byte key, two
//! shift-register keys, the second keyed by a checksum of the file), the program's sections
//! are XORed with a key stream and then run through a small polymorphic routine, which is
//! interpreted, and some are compressed with FSG's LZ77 (aPLib-like). The rebuilt program
//! is the memory image of those sections, without PESpin's.

use super::{Layout, fsg, patch_sections};
use crate::containers::le_u32;

const ENTRY_AT_4: &[u8] = b"\xe8\x00\x00\x00\x00\x8b\x1c\x24\x83\xc3";

pub fn unpack(data: &[u8], layout: &Layout, entry: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
    let n = layout.sections.len();
    let last = *layout.sections.last()?;
    let ep_rva = layout.entry_rva;
    if n < 2
        || ep_rva < last.rva
        || ep_rva as u64 + 0x3217 + 4 >= last.rva as u64 + last.rsz as u64
        || entry.get(4..4 + ENTRY_AT_4.len()) != Some(ENTRY_AT_4)
    {
        return None;
    }
    let sections = &layout.sections[..n - 1];
    let raw = last.raw as usize;
    let mut spinned = data.get(raw..raw.checked_add(last.rsz as usize)?)?.to_vec();
    let ep = (ep_rva - last.rva) as usize;
    // Layer 1: a decrementing byte key over 0x11fe bytes, from the end.
    if spinned.get(ep + 0xdb) != Some(&0xbb) || spinned.get(ep + 0xe0) != Some(&0xb9) {
        return None;
    }
    let mut key8 = *spinned.get(ep + 0xdc)?;
    let length = le_u32(&spinned, ep + 0xe1)? as usize;
    if length != 0x11fe || ep + 0x1fe5 + length > spinned.len() {
        return None;
    }
    for at in (ep + 0x1fe5..ep + 0x1fe5 + length).rev() {
        spinned[at] ^= key8;
        key8 = key8.wrapping_sub(1);
    }
    // Layer 2: a shift register over 0x5a0 bytes.
    let key = le_u32(&spinned, ep + 0x26eb)?;
    if le_u32(&spinned, ep + 0x26f0)? != 0x5a0 {
        return None;
    }
    shift_xor(spinned.get_mut(ep + 0x2d5..ep + 0x2d5 + 0x5a0)?, key, 0x8c32_8834, true);
    // The sections' key: a stored value less a checksum of the file up to a stored size.
    let checked = data.len().checked_sub(le_u32(&spinned, ep + 0x429)? as usize)?;
    let key = le_u32(&spinned, ep + 0x3217)?.wrapping_sub(summit(&data[..checked]));
    let mut work = data.to_vec();
    work[raw..raw + spinned.len()].copy_from_slice(&spinned);
    let e = raw + ep;
    let bitmap = le_u32(&work, e + 0x3207)?;
    for (index, section) in sections.iter().enumerate() {
        if bitmap >> index & 1 != 0 {
            let bytes =
                work.get_mut(section.raw as usize..(section.raw as usize).checked_add(section.rsz as usize)?)?;
            shift_xor(bytes, key, 0xed43_af31, false);
        }
    }
    // Layer 3 of its own code, then the routine that decrypts the sections.
    if le_u32(&work, e + 0x644)? != 0x180 {
        return None;
    }
    let key = le_u32(&work, e + 0x650)?;
    shift_xor(work.get_mut(e + 0x28d3..e + 0x28d3 + 0x180)?, key, 0xed43_af32, true);
    let poly_length = le_u32(&work, e + 0x28dd)? as usize;
    if poly_length != 0x1a1 {
        return None;
    }
    let first = work.get(e + 0x28ec..e + 0x28ec + 0x25)?.to_vec();
    for k in 0..poly_length {
        let at = e + 0x6d4 + k;
        let byte = *work.get(at)?;
        work[at] = exec86(byte, (poly_length - k) as u8, &first)?;
    }
    let bitmap = le_u32(&work, e + 0x6f1)?;
    let second = work.get(e + 0x755..e + 0x755 + 0x25)?.to_vec();
    for (index, section) in sections.iter().enumerate() {
        if bitmap >> index & 1 != 0 {
            let start = section.raw as usize;
            let length = section.rsz as usize;
            let bytes = work.get_mut(start..start.checked_add(length)?)?;
            for (k, byte) in bytes.iter_mut().enumerate() {
                *byte = exec86(*byte, (length - k) as u8, &second)?;
            }
        }
    }
    // Compressed sections grow back to their virtual size.
    let compressed = le_u32(&work, e + 0x3061)?;
    let size = sections.iter().map(|s| s.rva as u64 + s.vsz as u64).max()?;
    if size > max_bytes {
        return None;
    }
    let mut image = vec![0u8; size as usize];
    for (index, section) in sections.iter().enumerate() {
        let (raw, rva, rsz, vsz) =
            (section.raw as usize, section.rva as usize, section.rsz as usize, section.vsz as usize);
        let stored = work.get(raw..raw.checked_add(rsz)?)?;
        if compressed >> index & 1 != 0 {
            let (mut grown, _) = fsg::decompress(stored, vsz)?;
            grown.resize(vsz, 0);
            image.get_mut(rva..rva + grown.len())?.copy_from_slice(&grown);
        } else {
            let length = if vsz > 0 { rsz.min(vsz) } else { rsz };
            image.get_mut(rva..rva + length)?.copy_from_slice(&stored[..length]);
        }
    }
    patch_sections(data, image, layout, sections, None)
}

/// XOR with a 32-bit shift register: shifted right each byte, `tap` XORed in when the bit
/// shifted out is set (`on_one`) or clear.
fn shift_xor(bytes: &mut [u8], mut key: u32, tap: u32, on_one: bool) {
    for byte in bytes {
        let out = key & 1 != 0;
        key >>= 1;
        if out == on_one {
            key ^= tap;
        }
        *byte ^= key as u8;
    }
}

/// PESpin's checksum of the file.
fn summit(data: &[u8]) -> u32 {
    let (mut eax, mut ebx) = (u32::MAX, u32::MAX);
    for &byte in data {
        eax ^= (byte as u32) << 8 & 0xff00;
        eax = eax >> 3 & 0x1fff_ffff;
        for _ in 0..4 {
            eax ^= ebx >> 8 & 0xff;
            eax = eax.wrapping_add(0x7801_a108);
            eax ^= ebx;
            eax = eax.rotate_right(ebx & 0xff);
            std::mem::swap(&mut eax, &mut ebx);
        }
    }
    ebx
}

/// Interprets PESpin's 0x24-byte routine (add, sub, xor with a constant or the countdown
/// register, inc, dec, rotate) on one byte; the routine must end with `stosb` (0xaa).
fn exec86(mut al: u8, cl: u8, code: &[u8]) -> Option<u8> {
    let mut at = 0usize;
    while at < 0x24 {
        let opcode = *code.get(at)?;
        at += 1;
        let operand = |at: usize| code.get(at).copied();
        match opcode {
            0xeb => at += 2,
            0x0a => at += 1,
            0x90 | 0xf8 | 0xf9 => {}
            0x02 => {
                al = al.wrapping_add(cl);
                at += 1;
            }
            0x2a => {
                al = al.wrapping_sub(cl);
                at += 1;
            }
            0x04 => {
                al = al.wrapping_add(operand(at)?);
                at += 1;
            }
            0x2c => {
                al = al.wrapping_sub(operand(at)?);
                at += 1;
            }
            0x32 => {
                al ^= cl;
                at += 1;
            }
            0x34 => {
                al ^= operand(at)?;
                at += 1;
            }
            0xfe => {
                al = if operand(at)? == 0xc0 { al.wrapping_add(1) } else { al.wrapping_sub(1) };
                at += 1;
            }
            0xc0 => {
                let rol = operand(at)? == 0xc0;
                at += 1;
                let by = operand(at)? as u32 % 8;
                al = if rol { al.rotate_left(by) } else { al.rotate_right(by) };
                at += 1;
            }
            _ => return None,
        }
    }
    (at == 0x24 && code.get(at) == Some(&0xaa)).then_some(al)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routine_and_checksum() {
        let mut code = vec![0x34, 0x55, 0x02, 0xc1, 0xc0, 0xc8, 0x03];
        code.resize(0x24, 0x90);
        code.push(0xaa);
        assert_eq!(exec86(0x12, 3, &code), Some(((0x12u8 ^ 0x55).wrapping_add(3)).rotate_right(3)));
        code[0x24] = 0x00;
        assert_eq!(exec86(0x12, 3, &code), None, "no stosb at the end");
        assert_ne!(summit(b"abc"), summit(b"abd"));
    }

    #[test]
    fn garbage_never_panics() {
        for seed in 0..200u32 {
            let noise: Vec<u8> =
                (0..80u32).map(|i| (i.wrapping_mul(seed.wrapping_mul(2654435761) | 1) >> 11) as u8).collect();
            let _ = exec86(1, 2, &noise);
        }
    }
}
