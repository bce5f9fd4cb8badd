//! yoda's Crypter (yC) 1.3 and variants: the sections are encrypted byte by byte with a
//! polymorphic routine (add, sub, xor, rotate, with constants or the countdown register),
//! itself encrypted with another one. Both routines are interpreted, as ClamAV does; the
//! result is the program without yC's section (often still packed, e.g. with UPX, which the
//! next level of the scan unpacks).

use super::Layout;
use crate::containers::{le_u16, le_u32};

/// Longest routine interpreted per byte.
const ROUTINE: usize = 0x30;

/// Most instructions run per byte: a jump backwards could otherwise loop for ever (a routine
/// whose jump lands on itself, found by fuzzing); yC's own routines run straight through.
const MAX_STEPS: usize = 4 * ROUTINE;

/// Section names (first four bytes, little-endian) yC leaves alone.
const SKIPPED: [u32; 8] =
    [0x6372_7372, 0x7273_722e, 0x6f6c_6572, 0x6c65_722e, 0x6164_652e, 0x6164_722e, 0x6164_692e, 0x736c_742e];

pub fn unpack(data: &[u8], layout: &Layout, entry: &[u8]) -> Option<Vec<u8>> {
    let n = layout.sections.len();
    if n < 2 || layout.entry_rva != layout.sections[n - 1].rva.wrapping_add(0x60) {
        return None;
    }
    let word = |at: usize| le_u32(entry, at).unwrap_or(0);
    let (count, offset): (u32, i64) = if entry
        .starts_with(b"\x55\x8B\xEC\x53\x56\x57\x60\xE8\x00\x00\x00\x00\x5D\x81\xED")
        && entry.get(0x26..0x33) == Some(b"\x8D\x3A\x8B\xF7\x33\xC0\xEB\x04\x90\xEB\x01\xC2\xAC")
        && entry.get(0x13) == Some(&0xb9)
        && le_u16(entry, 0x18) == Some(0xe981)
        && entry.get(0x1e..0x22) == Some(b"\x8B\xD5\x81\xC2")
        && 0x6cu32.wrapping_sub(word(0xf)).wrapping_add(word(0x22)) == 0xc6
    {
        (word(0x14).wrapping_sub(word(0x1a)), 0)
    } else if entry.starts_with(b"\x55\x8B\xEC\x83\xEC\x40\x53\x56\x57")
        && entry.get(0x17..0x1f) == Some(b"\xe8\x00\x00\x00\x00\x5d\x81\xed")
        && entry.get(0x23) == Some(&0xb9)
        && 0x6cu32.wrapping_sub(word(0x1f)).wrapping_add(word(0x32)) == 0xc6
    {
        (word(0x24).wrapping_sub(word(0x2a)), 0x10)
    } else if entry.starts_with(b"\x60\xe8\x00\x00\x00\x00\x5d\x81\xed")
        && entry.get(0xd) == Some(&0xb9)
        && le_u16(entry, 0x12) == Some(0xbd8d)
        && entry.get(0x18..0x1b) == Some(b"\x8b\xf7\xac")
        && 0x66u32.wrapping_sub(word(0x9)).wrapping_add(word(0x14)) == 0xae
    {
        (word(0xe), -0x18)
    } else {
        return None;
    };
    let at = (0x63 + offset) as usize;
    if !(0x801..0x2000).contains(&count) || entry.get(at..at + 3) != Some(b"\xaa\xe2\xcc") {
        return None;
    }
    let packer = layout.sections[n - 1];
    let yc = usize::try_from(packer.raw as i64 + offset).ok()?;
    let mut out = data.to_vec();
    // The second routine, decrypted by the first.
    let first = out.get(yc + 0x93..yc + 0x93 + ROUTINE)?.to_vec();
    let encrypted = out.get_mut(yc + 0xc6..yc + 0xc6 + count as usize)?;
    decrypt(&first, encrypted, count)?;
    let routine_at = yc + if offset == -0x18 { 0x3ea } else { 0x457 };
    let second = out.get(routine_at..routine_at + ROUTINE)?.to_vec();
    for (index, section) in layout.sections[..n - 1].iter().enumerate() {
        let header = layout.section_table + index * 40;
        let name = le_u32(data, header)?;
        let raw_size = le_u32(data, header + 16)? as usize;
        if section.raw == 0 || section.rsz == 0 || SKIPPED.contains(&name) || name & 0xffff == 0x4379 {
            continue;
        }
        let raw = section.raw as usize;
        let bytes = out.get_mut(raw..raw.checked_add(raw_size)?)?;
        decrypt(&second, bytes, raw_size as u32)?;
    }
    let pe = layout.e_lfanew;
    out.get_mut(pe + 6..pe + 8)?.copy_from_slice(&((n - 1) as u16).to_le_bytes());
    // No imports (they are yC's), the original entry point, the image without yC.
    out.get_mut(pe + 24 + 0x68..pe + 24 + 0x70)?.fill(0);
    // ClamAV reads the original entry point at 0xa0f, where yC 1.3 with its 0xb97-byte stub
    // keeps it; builds with a shorter stub keep it as many bytes earlier.
    let mut entry_point = le_u32(&out, yc + 0xa0f)?;
    if entry_point == 0 && count < 0xb97 {
        entry_point = le_u32(&out, yc + 0xa0f - (0xb97 - count as usize))?;
    }
    out.get_mut(pe + 24 + 16..pe + 24 + 20)?.copy_from_slice(&entry_point.to_le_bytes());
    let image_size = le_u32(&out, pe + 24 + 0x38)?.wrapping_sub(packer.vsz);
    out.get_mut(pe + 24 + 0x38..pe + 24 + 0x3c)?.copy_from_slice(&image_size.to_le_bytes());
    let packer_raw_size = le_u32(data, layout.section_table + (n - 1) * 40 + 16)? as usize;
    out.truncate(out.len().saturating_sub(packer_raw_size));
    Some(out)
}

/// Runs the routine over every byte of `code`, the countdown register starting at `count`.
fn decrypt(routine: &[u8], code: &mut [u8], count: u32) -> Option<()> {
    let mut cl = count as u8;
    for byte in code.iter_mut() {
        let mut al = *byte;
        let mut j = 0usize;
        let mut steps = 0usize;
        while j < ROUTINE {
            steps += 1;
            if steps > MAX_STEPS {
                return None;
            }
            let operand = |at: usize| routine.get(at).copied();
            match routine.get(j).copied()? {
                0xeb => {
                    // A short jump forward (or back) within the routine.
                    j += 1;
                    j = (j as i64 + operand(j)? as i8 as i64).try_into().ok()?;
                }
                0xfe => {
                    al = al.wrapping_sub(1);
                    j += 1;
                }
                0x2a => {
                    al = al.wrapping_sub(cl);
                    j += 1;
                }
                0x02 => {
                    al = al.wrapping_add(cl);
                    j += 1;
                }
                0x32 => {
                    al ^= cl;
                    j += 1;
                }
                0x04 => {
                    j += 1;
                    al = al.wrapping_add(operand(j)?);
                }
                0x34 => {
                    j += 1;
                    al ^= operand(j)?;
                }
                0x2c => {
                    j += 1;
                    al = al.wrapping_sub(operand(j)?);
                }
                0xc0 => {
                    j += 1;
                    let rol = operand(j)? == 0xc0;
                    j += 1;
                    let by = (operand(j)? as u32) % 8;
                    al = if rol { al.rotate_left(by) } else { al.rotate_right(by) };
                }
                0xd2 => {
                    // Two bytes (D2 C8 / D2 C0); ClamAV's emulator steps over one more.
                    j += 1;
                    let ror = operand(j)? == 0xc8;
                    let by = (cl as u32) % 8;
                    al = if ror { al.rotate_right(by) } else { al.rotate_left(by) };
                }
                0x90 | 0xf8 | 0xf9 => {}
                _ => return None,
            }
            j += 1;
        }
        cl = cl.wrapping_sub(1);
        *byte = al;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routine_interpreter() {
        // xor al, 0x10; add al, cl; rol al, 1; nop...
        let mut routine = vec![0x34, 0x10, 0x02, 0xc1, 0xc0, 0xc0, 0x01];
        routine.resize(ROUTINE, 0x90);
        let mut code = [0x00u8, 0x01];
        decrypt(&routine, &mut code, 2).unwrap();
        assert_eq!(code, [(0x10u8 + 2).rotate_left(1), ((0x01 ^ 0x10) + 1u8).rotate_left(1)]);
        // Unknown opcode: not yC, nothing decrypted.
        let mut bad = vec![0x0f];
        bad.resize(ROUTINE, 0x90);
        assert!(decrypt(&bad, &mut [1, 2, 3], 3).is_none());
        // A jump past the end of the routine ends it; a jump before its start is refused.
        let mut jump = vec![0xeb, 0x7f];
        jump.resize(ROUTINE, 0x90);
        assert!(decrypt(&jump, &mut [1], 1).is_some());
        let mut back = vec![0xeb, 0x80];
        back.resize(ROUTINE, 0x90);
        assert!(decrypt(&back, &mut [1], 1).is_none());
        // A jump onto itself (or any loop) ends with nothing decrypted instead of running for
        // ever (the fuzz target `scan_unpackers` found this one).
        for loop_back in [vec![0xeb, 0xfe], vec![0x90, 0x90, 0xeb, 0xfd], vec![0x90, 0x34, 0x01, 0xeb, 0xfc]] {
            let mut routine = loop_back;
            routine.resize(ROUTINE, 0x90);
            assert!(decrypt(&routine, &mut [1, 2], 2).is_none());
        }
    }
}
