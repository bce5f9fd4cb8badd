//! Upack 0.39 (three sections, the version ClamAV's test file uses, and the two later
//! three-section builds ClamAV knows): an LZMA variant whose probabilities are 32-bit words
//! inside the program's own memory, decoded by the stub at the entry point. The stub's jumps
//! are followed to find the decoder's parameters (the literal context bits, the size of the
//! probability table) and its tables; the decoded program then has its `call`/`jmp` targets
//! turned back from the absolute, byte-swapped form the packer stored them in.
//!
//! Everything is done in one buffer laid out as the stub sees memory (offset 0 is the first
//! section's address); every read and write is checked against it, so a hostile file ends
//! the unpacking (`None`), never the scan. Upack's two-section builds are not unpacked.

use super::{Layout, Sect, patch_sections};
use crate::containers::{le_u16, le_u32};

/// The optional header size Upack writes (its code lives in the headers).
const UPACK_OPTIONAL_HEADER: u16 = 0x148;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    V039,
    B0151477,
    B0297729,
}

pub fn unpack(data: &[u8], layout: &Layout, entry: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
    if layout.sections.len() != 3 || le_u16(data, layout.e_lfanew + 20)? != UPACK_OPTIONAL_HEADER {
        return None;
    }
    let base = layout.image_base;
    let lowest_rva = layout.sections.iter().map(|s| s.rva).min()?;
    let esi = le_u32(entry, 1)?.wrapping_sub(base);
    let starts = |bytes: &[u8]| entry.get(5..5 + bytes.len()) == Some(bytes);
    if entry.first() != Some(&0xbe) || esi <= lowest_rva || !(starts(&[0xad, 0x50]) || starts(&[0xff, 0x36])) {
        return None;
    }
    let (first, second, third) = (layout.sections[0], layout.sections[1], layout.sections[2]);
    // The first section's unaligned raw extent: Upack maps the headers with it.
    let unaligned = |index: usize, field: usize| le_u32(data, layout.section_table + index * 40 + field);
    let first_end = unaligned(0, 16)?.checked_add(unaligned(0, 20)?)? as usize;
    let (second_raw, second_size) = (unaligned(1, 20)? as usize, unaligned(1, 16)? as usize);
    let size = u64::from(first.vsz) + u64::from(second.vsz) + u64::from(third.vsz);
    let image_end = u64::from(first.rva) + size;
    if size > max_bytes || image_end > max_bytes || image_end > u64::from(u32::MAX) {
        return None;
    }
    let mut memory = Memory { bytes: vec![0u8; size as usize] };
    let second_at = second.rva.checked_sub(first.rva)? as usize;
    let third_at = third.rva.checked_sub(first.rva)? as usize;
    if first_end > memory.bytes.len() || third_at.checked_add(first_end)? > memory.bytes.len() {
        return None;
    }
    let head = data.get(..first_end)?;
    memory.bytes[..first_end].copy_from_slice(head);
    memory.bytes[third_at..third_at + first_end].copy_from_slice(head);
    memory
        .bytes
        .get_mut(second_at..second_at.checked_add(second_size)?)?
        .copy_from_slice(data.get(second_raw..second_raw.checked_add(second_size)?)?);
    let entry_at = layout.raw_offset(layout.entry_rva)? as u32;
    let vma = base.wrapping_add(first.rva);
    let unpacked = Stub::read(&mut memory, entry, entry_at, vma, base)?.run(&mut memory)?;

    let mut image = vec![0u8; image_end as usize];
    image[first.rva as usize..].copy_from_slice(&memory.bytes);
    let kept = [Sect { rva: first.rva, vsz: size as u32, raw: first.rva, rsz: size as u32 }];
    patch_sections(data, image, layout, &kept, Some(unpacked.entry.wrapping_add(first.rva)))
}

/// The unpacking stub's parameters, as read from its code and tables.
struct Stub {
    /// The original entry point, relative to the first section.
    entry: u32,
    /// The decoder's tables (range coder state, distances, probabilities).
    tables: u32,
    /// The compressed stream.
    source: u32,
    start: u32,
    end: u32,
    context_bits: u32,
    /// Calls to turn back after decoding, and the marker byte of those that were changed.
    calls: u32,
    call_marker_at: u32,
}

struct Unpacked {
    entry: u32,
}

impl Stub {
    fn read(memory: &mut Memory, entry: &[u8], entry_at: u32, vma: u32, base: u32) -> Option<Stub> {
        let build_hint = if entry.get(5..7) == Some(&[0xff, 0x36]) { Build::B0297729 } else { Build::V039 };
        let mut esi = le_u32(entry, 1)?.wrapping_sub(vma);
        let original_entry = memory.r32(esi)?.wrapping_sub(vma);
        esi = esi.wrapping_add(8);
        let mut edi = 0u32;
        let (mut al, long_jump_at);
        if build_hint == Build::V039 {
            edi = memory.r32(esi)?.wrapping_sub(vma);
            if memory.byte(entry_at.wrapping_add(0xa))? != 0xeb {
                return None;
            }
            esi = relative8(memory, entry_at.wrapping_add(0xb))?.wrapping_add(entry_at).wrapping_add(0xc);
            al = esi.wrapping_add(0x1a);
            if memory.byte(al)? != 0xeb {
                return None;
            }
            al = al.wrapping_add(1);
            al = al.wrapping_add(u32::from(memory.byte(al)?)).wrapping_add(1 + 0xa);
            long_jump_at = 8;
        } else {
            if memory.byte(entry_at.wrapping_add(7))? != 0xe9 {
                return None;
            }
            esi = memory.r32(entry_at.wrapping_add(8))?.wrapping_add(entry_at).wrapping_add(0xc);
            al = esi.wrapping_add(0x25);
            long_jump_at = 10;
        }
        // `mov ch, count`: the probability table holds count * 256 words.
        if memory.byte(al)? != 0xb5 {
            return None;
        }
        al = al.wrapping_add(1);
        let count = u32::from(memory.byte(al)?) * 0x100;
        if memory.byte(al.wrapping_add(long_jump_at))? != 0xe9 {
            return None;
        }
        let mut decoder = memory.r32(al.wrapping_add(long_jump_at + 1))?;
        decoder = if build_hint == Build::V039 {
            decoder.wrapping_add(esi).wrapping_add(relative8(memory, esi.wrapping_add(0x1b))?).wrapping_add(0x1c + 0x18)
        } else {
            decoder.wrapping_add(esi).wrapping_add(0x35)
        };
        // `jecxz` at 43 (0.39) or 46 (the later builds) into the decoder.
        let mut build = build_hint;
        let (mut at, mut jump_at, mut shift_at) = (decoder.wrapping_add(43), 8u32, 24u32);
        if memory.byte(at.wrapping_sub(1))? != 0xe3 {
            at = decoder.wrapping_add(46);
            if memory.byte(at.wrapping_sub(1))? != 0xe3 {
                return None;
            }
            if build != Build::B0297729 {
                build = Build::B0151477;
            }
            (jump_at, shift_at) = (7, 26);
        }
        at = at.wrapping_add(u32::from(memory.byte(at)?)).wrapping_add(1);
        if memory.byte(at.wrapping_add(jump_at))? != 0xe9 {
            return None;
        }
        let target = memory.r32(at.wrapping_add(jump_at + 1))?;
        // The `cmp al, marker` of the call fixing loop.
        let mut call_marker_at = at.wrapping_add(target).wrapping_add(jump_at + 5 + 27);
        if build == Build::B0297729 {
            call_marker_at = call_marker_at.wrapping_add(2);
        }
        // `shr ebp, context_bits`
        let shift = decoder.wrapping_add(shift_at);
        if memory.byte(shift)? != 0xc1 || memory.byte(shift.wrapping_add(1))? != 0xed {
            return None;
        }
        let context_bits = u32::from(memory.byte(shift.wrapping_add(2))?);
        if !(2..=8).contains(&context_bits) {
            return None;
        }
        let words = if build == Build::B0297729 {
            if memory.byte(esi.wrapping_add(6))? != 0xbe || memory.byte(esi.wrapping_add(11))? != 0xbf {
                return None;
            }
            let source = memory.r32(esi.wrapping_add(7))?;
            if source < base || source > vma {
                return None;
            }
            edi = memory.r32(esi.wrapping_add(12))?.wrapping_sub(vma);
            esi = source.wrapping_sub(base);
            0x16
        } else {
            if memory.byte(esi.wrapping_add(7))? != 0xbe {
                return None;
            }
            esi = memory.r32(esi.wrapping_add(8))?.wrapping_sub(vma);
            0x27
        };
        // The stub's parameter block goes in front of the tables it initialises.
        for _ in 0..words {
            let word = memory.r32(esi)?;
            memory.w32(edi, word)?;
            esi = esi.wrapping_add(4);
            edi = edi.wrapping_add(4);
        }
        let mut calls = memory.r32(esi.wrapping_add(4))?;
        let source = memory.r32(edi.wrapping_sub(4))?.wrapping_sub(vma);
        let tables = edi;
        for word in [u32::MAX, 0, 1, 1, 1, 1] {
            memory.w32(edi, word)?;
            edi = edi.wrapping_add(4);
        }
        for _ in 0..count {
            memory.w32(edi, 0x400)?;
            edi = edi.wrapping_add(4);
        }
        let (start, end) = if build == Build::B0297729 {
            calls = memory.r32(esi.wrapping_add(0x40))?;
            (vma.wrapping_sub(base), memory.r32(esi.wrapping_add(0x64))?.wrapping_sub(vma))
        } else {
            (
                memory.r32(esi.wrapping_add(0xc))?.wrapping_sub(vma),
                memory.r32(esi.wrapping_add(0x34))?.wrapping_sub(vma),
            )
        };
        if start > end {
            return None;
        }
        Some(Stub { entry: original_entry, tables, source, start, end, context_bits, calls, call_marker_at })
    }

    fn run(&self, memory: &mut Memory) -> Option<Unpacked> {
        decode(memory, self)?;
        self.fix_calls(memory)?;
        Some(Unpacked { entry: self.entry })
    }

    /// Upack stored each changed `call`/`jmp` operand as a big-endian absolute address with
    /// a marker in its low byte; turn `calls` of them back into relative operands.
    fn fix_calls(&self, memory: &mut Memory) -> Option<()> {
        let marker = memory.byte(self.call_marker_at)?;
        let mut left = self.calls;
        let mut offset = 0u32;
        while left > 0 {
            let opcode = memory.byte(self.start.wrapping_add(offset))?;
            offset = offset.wrapping_add(1);
            if opcode != 0xe8 && opcode != 0xe9 {
                continue;
            }
            let at = self.start.wrapping_add(offset);
            let operand = memory.r32(at)?;
            if operand & 0xff != u32::from(marker) {
                continue;
            }
            memory.w32(at, (operand & 0xffff_ff00).swap_bytes().wrapping_sub(offset).wrapping_sub(4))?;
            offset = offset.wrapping_add(4);
            left -= 1;
        }
        Some(())
    }
}

/// A signed 8-bit displacement read at `at`, as a wrapping 32-bit value.
fn relative8(memory: &Memory, at: u32) -> Option<u32> {
    Some(i32::from(memory.byte(at)? as i8) as u32)
}

/// The stub's view of memory: 32-bit offsets, every access checked.
struct Memory {
    bytes: Vec<u8>,
}

impl Memory {
    fn range(&self, at: u32, length: usize) -> Option<std::ops::Range<usize>> {
        let start = at as usize;
        let end = start.checked_add(length)?;
        (end <= self.bytes.len()).then_some(start..end)
    }

    fn byte(&self, at: u32) -> Option<u8> {
        self.bytes.get(at as usize).copied()
    }

    fn set_byte(&mut self, at: u32, value: u8) -> Option<()> {
        *self.bytes.get_mut(at as usize)? = value;
        Some(())
    }

    fn r32(&self, at: u32) -> Option<u32> {
        let range = self.range(at, 4)?;
        Some(u32::from_le_bytes(self.bytes[range].try_into().ok()?))
    }

    fn w32(&mut self, at: u32, value: u32) -> Option<()> {
        let range = self.range(at, 4)?;
        self.bytes[range].copy_from_slice(&value.to_le_bytes());
        Some(())
    }
}

/// Upack's range decoder: the next input word is read big-endian at `at` for every bit.
struct Range {
    at: u32,
    range: u32,
    low: u32,
}

impl Range {
    fn normalize(&mut self) {
        if self.range & 0xff00_0000 == 0 {
            self.low <<= 8;
            self.range <<= 8;
            self.at = self.at.wrapping_add(1);
        }
    }

    fn code(&self, memory: &Memory) -> Option<u32> {
        Some(memory.r32(self.at)?.swap_bytes().wrapping_sub(self.low))
    }

    /// One bit with the probability word at `probability`.
    fn bit(&mut self, memory: &mut Memory, probability: u32) -> Option<u32> {
        let p = memory.r32(probability)?;
        let bound = (self.range >> 11).wrapping_mul(p);
        let bit = if self.code(memory)? < bound {
            self.range = bound;
            memory.w32(probability, p.wrapping_add(0x800u32.wrapping_sub(p) >> 5))?;
            0
        } else {
            self.low = self.low.wrapping_add(bound);
            self.range = self.range.wrapping_sub(bound);
            memory.w32(probability, p.wrapping_sub(p >> 5))?;
            1
        };
        self.normalize();
        Some(bit)
    }

    /// A bit without probability (the low distance bits).
    fn direct_bit(&mut self, memory: &Memory) -> Option<u32> {
        let code = memory.r32(self.at)?.swap_bytes();
        self.range >>= 1;
        let bit = if code.wrapping_sub(self.low) >= self.range {
            self.low = self.low.wrapping_add(self.range);
            1
        } else {
            0
        };
        self.normalize();
        Some(bit)
    }

    /// A bit tree from `symbol` up to `limit`; the decoded value minus `limit`.
    fn tree(&mut self, memory: &mut Memory, mut symbol: u32, limit: u32, probabilities: u32) -> Option<u32> {
        // Each step doubles the symbol, so a sane limit ends within 32 steps.
        for _ in 0..40 {
            let bit = self.bit(memory, probabilities.wrapping_add(symbol.wrapping_shl(2)))?;
            symbol = symbol.wrapping_mul(2).wrapping_add(bit);
            if symbol >= limit {
                return Some(symbol.wrapping_sub(limit));
            }
        }
        None
    }

    /// A match length: choice bits, then 3, 3 or 8 bits; `state` is carried in the upper
    /// bits as the stub does.
    fn length(&mut self, memory: &mut Memory, state: u32, probabilities: u32) -> Option<u32> {
        let mut limit = 8u32;
        let mut table = probabilities;
        let mut symbol = (state & 0xffff_ff00) | 1;
        let choice = self.bit(memory, table)?;
        table = table.wrapping_add(4);
        if choice != 0 {
            symbol |= 8;
            if self.bit(memory, table)? != 0 {
                limit <<= 5;
                symbol = 0x11;
            }
        }
        let low = self.tree(memory, 1, limit, table.wrapping_add(symbol.wrapping_shl(2)))?;
        Some(symbol.wrapping_add(low))
    }
}

/// Decodes from `stub.start` to `stub.end`, with the stub's tables at `stub.tables`.
fn decode(memory: &mut Memory, stub: &Stub) -> Option<()> {
    let tables = stub.tables;
    let mut rc = Range { at: stub.source, range: memory.r32(tables)?, low: memory.r32(tables.wrapping_add(4))? };
    let mut distances = [0u32; 6];
    for (i, slot) in distances.iter_mut().enumerate() {
        *slot = memory.r32(tables.wrapping_add(4 * i as u32))?;
    }
    let (mut out, end) = (stub.start, stub.end);
    let mut state = 0u32;
    let mut after_match = 0u32;
    while out < end {
        let mut eax = state;
        let mut edx = tables.wrapping_add(eax.wrapping_shl(2)).wrapping_add(0x58);
        let byte = if rc.bit(memory, edx)? != 0 {
            eax = (eax & 0xffff_ff00) | if (eax & 0xff) + 0xf9 > 0xff { 11 } else { 8 };
            let mut distance = distances[2];
            after_match = (after_match & 0xffff_ff00) | 0x30;
            edx = edx.wrapping_add(after_match);
            let length;
            if rc.bit(memory, edx)? == 0 {
                // A new distance.
                eax = eax.wrapping_sub(1);
                let oldest = distances[4];
                distances[4] = distances[3];
                distances[3] = distance;
                distances[5] = oldest;
                state = eax;
                let decoded = rc.length(memory, eax, tables.wrapping_add(0xbc0))?;
                let slot_table = decoded.wrapping_sub(1).min(3) << 6;
                let slot =
                    rc.tree(memory, 1, 0x40, tables.wrapping_add(slot_table.wrapping_shl(2)).wrapping_add(0x378))?;
                distance = slot;
                if slot & 0xff >= 4 {
                    let mut bits = (slot >> 1).wrapping_sub(1);
                    distance = (2 + (slot & 1)).wrapping_shl(bits & 0xff);
                    let mut reverse_table = tables.wrapping_add(distance.wrapping_shl(2)).wrapping_add(0x178);
                    if bits & 0xff > 5 {
                        let mut direct = 0u32;
                        for _ in 0..(bits & 0xff) - 4 {
                            direct = direct.wrapping_shl(1).wrapping_add(rc.direct_bit(memory)?);
                        }
                        bits = 4;
                        distance = distance.wrapping_add(direct.wrapping_shl(4));
                        reverse_table = tables.wrapping_add(0x18);
                    }
                    let count = bits & 0xff;
                    let mut value = rc.tree(memory, 1, 1u32.wrapping_shl(count), reverse_table)?;
                    let mut reversed = if value & 0x8000_0000 != 0 { u32::MAX } else { 0 };
                    for _ in 0..count {
                        reversed = reversed.wrapping_add(reversed).wrapping_add(value & 1);
                        value >>= 1;
                    }
                    distance = distance.wrapping_add(reversed);
                }
                distance = distance.wrapping_add(1);
                length = decoded;
            } else {
                edx = edx.wrapping_add(after_match);
                if rc.bit(memory, edx)? != 0 {
                    edx = edx.wrapping_add(0x60);
                    if rc.bit(memory, edx)? != 0 {
                        edx = edx.wrapping_add(after_match);
                        let third = rc.bit(memory, edx)?;
                        std::mem::swap(&mut distance, &mut distances[4]);
                        distances.swap(3, 4);
                        if third != 0 {
                            std::mem::swap(&mut distance, &mut distances[5]);
                        }
                    } else {
                        std::mem::swap(&mut distance, &mut distances[3]);
                    }
                } else {
                    edx = edx.wrapping_add(after_match);
                    if rc.bit(memory, edx)? == 0 {
                        // One byte from the last distance.
                        state = eax | 1;
                        after_match = (after_match & 0xffff_ff00) | 0x80;
                        let byte = memory.byte(out.wrapping_sub(distances[2]))?;
                        memory.set_byte(out, byte)?;
                        out = out.wrapping_add(1);
                        continue;
                    }
                }
                state = eax;
                length = rc.length(memory, eax, tables.wrapping_add(0x778))?;
            }
            memory.range(out, length as usize)?;
            memory.range(out.wrapping_sub(distance), length as usize + 1)?;
            distances[2] = distance;
            for _ in 0..length {
                let byte = memory.byte(out.wrapping_sub(distance))?;
                memory.set_byte(out, byte)?;
                out = out.wrapping_add(1);
            }
            after_match = 0x80;
            memory.byte(out.wrapping_sub(distance))?
        } else {
            // A literal; the state falls back towards 0.
            loop {
                let low = eax & 0xff;
                let next = if low + 0xfd > 0xff { low - 3 } else { 0 };
                eax = (eax & 0xffff_ff00) | next;
                if next < 7 {
                    break;
                }
            }
            state = eax;
            let previous = if out > stub.start && (out as usize) < memory.bytes.len() {
                u32::from(memory.byte(out - 1)?) >> stub.context_bits
            } else {
                0
            };
            let literals = tables.wrapping_add(previous.wrapping_mul(0x300).wrapping_shl(2)).wrapping_add(0x1008);
            eax = (eax & 0xffff_ff00) | 1;
            let value = if after_match != 0 {
                matched_literal(memory, &mut rc, eax, after_match as u8, out.wrapping_sub(distances[2]), literals)?
            } else {
                rc.tree(memory, eax, (after_match & 0xffff_00ff) | 0x100, literals)?
            };
            after_match = 0;
            value as u8
        };
        memory.set_byte(out, byte)?;
        out = out.wrapping_add(1);
    }
    Some(())
}

/// A literal right after a match, decoded against the byte the match would have given.
fn matched_literal(
    memory: &mut Memory,
    rc: &mut Range,
    mut eax: u32,
    mut mask: u8,
    from: u32,
    literals: u32,
) -> Option<u32> {
    let match_byte = memory.byte(from)?;
    loop {
        eax = (eax & 0xffff_00ff) | if match_byte & mask != 0 { 0x200 } else { 0x100 };
        let bit = rc.bit(memory, literals.wrapping_add(eax.wrapping_shl(2)))?;
        let low = ((eax & 0xff) * 2 + bit) & 0xff;
        eax = (eax & 0xffff_ff00) | low;
        mask >>= 1;
        if mask == 0 {
            return Some(eax);
        }
        let high = ((eax >> 8) & 0xff).wrapping_sub(low) & 1;
        if high == 0 {
            eax = (eax & 0xffff_0000) | low;
            return rc.tree(memory, eax, 0x100, literals);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testfile() -> Vec<u8> {
        std::fs::read("/usr/share/clamav-testfiles/clam-upack.exe")
            .expect("/usr/share/clamav-testfiles is missing: install the Debian package clamav-testfiles")
    }

    fn try_unpack(data: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
        let layout = Layout::parse(data)?;
        let entry = data.get(layout.raw_offset(layout.entry_rva)?..)?;
        unpack(data, &layout, entry, max_bytes)
    }

    #[test]
    fn the_program_comes_back_with_its_zip() {
        let image = try_unpack(&testfile(), 1 << 20).expect("unpacked");
        assert!(memchr::memmem::find(&image, b"PK\x03\x04").is_some());
        assert!(memchr::memmem::find(&image, b"This is a ClamAV test file").is_some());
        assert!(try_unpack(&testfile(), 0x4000).is_none(), "beyond the size limit");
    }

    #[test]
    fn garbage_and_truncated_files_are_not_unpacked() {
        let real = testfile();
        for cut in (0..real.len()).step_by(5) {
            let _ = try_unpack(&real[..cut], 1 << 20);
        }
        for seed in 0..64u32 {
            let mut noisy = real.clone();
            for i in (0x200..noisy.len()).step_by(3) {
                noisy[i] ^= (i as u32).wrapping_mul(seed.wrapping_mul(2654435761) | 1).to_le_bytes()[2];
            }
            if let Some(image) = try_unpack(&noisy, 1 << 20) {
                assert!(image.len() <= 1 << 20);
            }
        }
    }
}
