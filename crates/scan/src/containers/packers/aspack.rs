//! ASPack (2.12 to 2.42): a table of blocks, each compressed in place with ASPack's LZ77
//! and canonical Huffman coding; the first block's calls and jumps were made relative and
//! are turned back. The rebuilt program is the memory image without ASPack's two sections.

use super::{Layout, Sect, patch_sections};
use crate::containers::le_u32;

const ENTRY: &[u8] = b"\x60\xe8\x03\x00\x00\x00\xe9\xeb";
const PUSH_RET: &[u8] = b"\x68\x00\x00\x00\x00\xc3";

/// Offsets (from the entry point less one) that differ between ASPack versions.
struct Version {
    marker: usize,
    blocks: usize,
    init_multiplier: usize,
    comp_block: usize,
    work: usize,
    /// Where the original entry point is stored.
    oep: usize,
    /// Bytes per entry of the block table.
    block_entry: usize,
}

const VERSIONS: [Version; 3] = [
    // 2.12
    Version {
        marker: 0x3b9,
        blocks: 0x57c,
        init_multiplier: 0x70e,
        comp_block: 0x6d6,
        work: 0x148,
        oep: 0x39b,
        block_entry: 8,
    },
    // after 2.12, before 2.42
    Version {
        marker: 0x41f,
        blocks: 0x5d8,
        init_multiplier: 0x76a,
        comp_block: 0x732,
        work: 0x13a,
        oep: 0x401,
        block_entry: 12,
    },
    // 2.42
    Version {
        marker: 0x42b,
        blocks: 0x5e4,
        init_multiplier: 0x776,
        comp_block: 0x73e,
        work: 0x148,
        oep: 0x40d,
        block_entry: 12,
    },
];

const SIZES: [usize; 4] = [721, 28, 8, 19];

pub fn unpack(data: &[u8], layout: &Layout, entry: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
    if !entry.starts_with(ENTRY) {
        return None;
    }
    let version = VERSIONS.iter().find(|v| entry.get(v.marker..v.marker + PUSH_RET.len()) == Some(PUSH_RET))?;
    let size = layout.sections.iter().map(|s| s.rva as u64 + s.vsz as u64).max()?;
    if size == 0 || size > max_bytes {
        return None;
    }
    let mut image = vec![0u8; size as usize];
    for section in layout.sections.iter().filter(|s| s.rsz != 0) {
        let (raw, rva, rsz) = (section.raw as usize, section.rva as usize, section.rsz as usize);
        image.get_mut(rva..rva.checked_add(rsz)?)?.copy_from_slice(data.get(raw..raw.checked_add(rsz)?)?);
    }
    let ep = layout.entry_rva.checked_sub(1)? as usize;
    let mut stream = Stream::new();
    let mut sum = 0u32;
    for i in 0..58 {
        stream.init_array[i] = sum;
        if let Some(&shift) = image.get(ep + i + version.init_multiplier) {
            sum = sum.wrapping_add(1u32.checked_shl(shift as u32).unwrap_or(0));
        }
    }
    let stuff: Vec<u8> = image.get(ep + version.comp_block..ep + version.comp_block + 0x80)?.to_vec();
    let work_byte = *image.get(ep + version.work)?;
    let mut blocks = ep + version.blocks;
    let mut first = true;
    loop {
        let block_rva = le_u32(&image, blocks)? as usize;
        let block_size = le_u32(&image, blocks + 4)? as usize;
        if block_rva == 0 {
            break;
        }
        if block_size == 0 || block_rva.checked_add(block_size)? > image.len() {
            return None;
        }
        let mut input = image[block_rva..block_rva + block_size].to_vec();
        input.resize(block_size + 0x10e, 0);
        stream.input = input;
        stream.at = 0;
        stream.decompress_block(&stuff, &mut image[block_rva..block_rva + block_size])?;
        if first && block_size > 7 {
            unroll_calls(&mut image[block_rva..block_rva + block_size], work_byte);
        }
        first = false;
        blocks += version.block_entry;
        if version.block_entry == 12 {
            // Entries whose size is -0x10e are skipped (as ASPack's own loader does).
            while le_u32(&image, blocks + 4)?.wrapping_add(0x10e) == 0 {
                blocks += 12;
            }
        }
    }
    let oep = le_u32(&image, ep + version.oep).unwrap_or(0);
    let mut kept: &[Sect] = &layout.sections;
    if kept.len() > 2 && ep as u32 == kept[kept.len() - 2].rva && kept[kept.len() - 1].rsz == 0 {
        kept = &kept[..kept.len() - 2];
    }
    patch_sections(data, image, layout, kept, Some(oep))
}

/// The first block's E8/E9 (call/jmp) targets were stored absolute and byte-rotated.
fn unroll_calls(block: &mut [u8], work_byte: u8) {
    let mut i = 0usize;
    while i < block.len() - 6 {
        if matches!(block[i], 0xe8 | 0xe9) && block[i + 1] == work_byte {
            let target = u32::from_le_bytes([block[i + 1], block[i + 2], block[i + 3], block[i + 4]]) & 0xffff_ff00;
            let target = target.rotate_left(0x18).wrapping_sub(i as u32);
            block[i + 1..i + 5].copy_from_slice(&target.to_le_bytes());
            i += 4;
        }
        i += 1;
    }
}

struct Stream {
    bitpos: u32,
    hash: u32,
    init_array: [u32; 58],
    starts: [Vec<u32>; 4],
    ends: [[u8; 0x100]; 4],
    input: Vec<u8>,
    at: usize,
    decrypt_dict: [u8; 757],
    d3: [[u32; 24]; 4],
    d4: [[u32; 24]; 4],
    dict_ok: bool,
    array2: [u8; 758],
    array1: [u8; 19],
}

impl Stream {
    fn new() -> Stream {
        Stream {
            bitpos: 0,
            hash: 0x10000,
            init_array: [0; 58],
            starts: SIZES.map(|n| vec![0; n]),
            ends: [[0; 0x100]; 4],
            input: Vec::new(),
            at: 0,
            decrypt_dict: [0; 757],
            d3: [[0; 24]; 4],
            d4: [[0; 24]; 4],
            dict_ok: false,
            array2: [0; 758],
            array1: [0; 19],
        }
    }

    fn fill(&mut self) -> Option<()> {
        while self.bitpos >= 8 {
            let byte = *self.input.get(self.at)?;
            self.hash = (self.hash << 8) | byte as u32;
            self.at += 1;
            self.bitpos -= 8;
        }
        Some(())
    }

    fn window(&self) -> u32 {
        (self.hash >> (8 - self.bitpos)) & 0xff_ffff
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        self.fill()?;
        let value = self.window().checked_shr(24u32.checked_sub(n)?).unwrap_or(0);
        self.bitpos += n;
        Some(value)
    }

    fn decode(&mut self, which: usize) -> Option<u32> {
        self.fill()?;
        let value = (self.hash >> (8 - self.bitpos)) & 0xff_fe00;
        let d3 = &self.d3[which];
        let pos = if value < d3[8] {
            let pos = *self.ends[which].get((value >> 16) as usize)? as usize;
            if pos == 0 || pos >= 24 {
                return None;
            }
            pos
        } else {
            (9..15).find(|&p| value < d3[p]).unwrap_or(15)
        };
        self.bitpos += pos as u32;
        let index = (value.wrapping_sub(d3[pos - 1]) >> (24 - pos)).wrapping_add(self.d4[which][pos]) as usize;
        self.starts[which].get(index).copied()
    }

    fn build_array(&mut self, lengths: &[u8], which: usize) -> Option<()> {
        let size = SIZES[which];
        let lengths = lengths.get(..size)?;
        let mut bus = [0u32; 18];
        let mut dict = [0u32; 18];
        for &len in lengths {
            *bus.get_mut(len as usize)? += 1;
        }
        self.d3[which][0] = 0;
        self.d4[which][0] = 0;
        let mut sum = 0u32;
        let mut end_offset = 0usize;
        for (i, counter) in (9..=23u32).rev().enumerate() {
            sum = sum.checked_add(bus[i + 1].checked_shl(counter)?)?;
            if sum > 0x100_0000 {
                return None;
            }
            self.d3[which][i + 1] = sum;
            let value = bus[i].wrapping_add(self.d4[which][i]);
            self.d4[which][i + 1] = value;
            dict[i + 1] = value;
            if counter >= 0x10 {
                let old = end_offset;
                end_offset = (sum >> 16) as usize;
                if end_offset != old {
                    self.ends[which].get_mut(old..end_offset)?.fill(i as u8 + 1);
                }
            }
        }
        if sum != 0x100_0000 {
            return None;
        }
        for (i, &len) in lengths.iter().enumerate() {
            if len != 0 {
                let slot = dict[len as usize] as usize;
                *self.starts[which].get_mut(slot)? = i as u32;
                dict[len as usize] += 1;
            }
        }
        Some(())
    }

    fn build_dictionaries(&mut self) -> Option<()> {
        if self.bits(1)? == 0 {
            self.decrypt_dict.fill(0);
        }
        for i in 0..19 {
            self.array1[i] = self.bits(4)? as u8;
        }
        let array1 = self.array1;
        self.build_array(&array1, 3)?;
        let mut counter = 0usize;
        while counter < 757 {
            let value = self.decode(3)?;
            match value {
                0..=15 => {
                    self.array2[1 + counter] = (self.decrypt_dict[counter].wrapping_add(value as u8)) & 0xf;
                    counter += 1;
                }
                16 => {
                    let repeat = 3 + self.bits(2)?;
                    for _ in 0..repeat {
                        if counter >= 757 {
                            break;
                        }
                        self.array2[1 + counter] = self.array2[counter];
                        counter += 1;
                    }
                }
                _ => {
                    let zeros = if value == 17 { 3 + self.bits(3)? } else { 11 + self.bits(7)? };
                    for _ in 0..zeros {
                        if counter >= 757 {
                            break;
                        }
                        self.array2[1 + counter] = 0;
                        counter += 1;
                    }
                }
            }
        }
        let array2 = self.array2;
        self.build_array(&array2[1..], 0)?;
        self.build_array(&array2[722..], 1)?;
        self.build_array(&array2[750..], 2)?;
        self.dict_ok = array2[750..758].iter().any(|&v| v != 3);
        self.decrypt_dict.copy_from_slice(&array2[1..758]);
        Some(())
    }

    fn decompress_block(&mut self, stuff: &[u8], output: &mut [u8]) -> Option<()> {
        self.d3 = [[0; 24]; 4];
        self.d4 = [[0; 24]; 4];
        self.decrypt_dict.fill(0);
        self.bitpos = 0x20;
        self.build_dictionaries()?;
        let size = output.len();
        let mut counter = 0usize;
        let mut history = [0u32; 4];
        while counter < size {
            let code = self.decode(0)?;
            if code < 256 {
                output[counter] = code as u8;
                counter += 1;
                continue;
            }
            if code >= 720 {
                self.build_dictionaries()?;
                continue;
            }
            let back_index = ((code - 256) >> 3) as usize;
            if back_index >= 58 {
                return None;
            }
            let mut length = ((code - 256) & 7) as usize + 2;
            if length - 2 == 7 {
                let extra = self.decode(1)? as usize;
                if extra >= 0x56 {
                    return None;
                }
                let width = *stuff.get(extra + 0x1c)? as u32;
                self.fill()?;
                let bits = self.window().checked_shr(0x18u32.checked_sub(width)?).unwrap_or(0);
                length = length.checked_add(*stuff.get(extra)? as usize)?.checked_add(bits as usize)?;
                self.bitpos += width;
            }
            let mut distance = self.init_array[back_index];
            let width = *stuff.get(back_index + 0x38)? as u32;
            if !self.dict_ok || width < 3 {
                self.fill()?;
                distance = distance.wrapping_add(self.window().checked_shr(24u32.checked_sub(width)?).unwrap_or(0));
                self.bitpos += width;
            } else {
                let width = width - 3;
                self.fill()?;
                let high = self.window().checked_shr(24u32.checked_sub(width)?).unwrap_or(0);
                distance = distance.wrapping_add(high.wrapping_mul(8));
                self.bitpos += width;
                distance = distance.wrapping_add(self.decode(2)?);
            }
            let back = if distance < 3 {
                let back = history[distance as usize];
                if distance != 0 {
                    history[distance as usize] = history[0];
                    history[0] = back;
                }
                back
            } else {
                history[2] = history[1];
                history[1] = history[0];
                history[0] = distance - 3;
                distance - 3
            } as usize
                + 1;
            if back > counter || length > size - counter {
                return None;
            }
            for _ in 0..length {
                output[counter] = output[counter - back];
                counter += 1;
            }
        }
        Some(())
    }
}
