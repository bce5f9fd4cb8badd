//! MEW 11: an empty section for the program, a second section holding the packer. The entry
//! point jumps to a stub in the PE header (0x154 or 0x158) whose `mov esi` points at a block
//! list in the packer's section: the original entry point, then blocks of FSG's LZ77, each
//! followed by the address where the next one goes (0 ends the list). The rebuilt program is
//! the memory image with the program's section filled in, the packer's own left out.
//!
//! MEW's other mode, LZMA (a `call` at offset 0x7b of the stub), is recognised but not
//! unpacked: such a file is scanned as it is.

use super::{Layout, Sect, fsg, patch_sections};
use crate::containers::le_u32;

/// Where the stub in the header may start (Windows 9x compatibility on or off).
const STUB_OFFSETS: [u32; 2] = [0x154, 0x158];
const STUB_SIZE: usize = 0xb0;
/// `call` at this offset of the stub: the LZMA variant.
const LZMA_CALL_AT: usize = 0x7b;

pub fn unpack(data: &[u8], layout: &Layout, entry: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
    let index = layout
        .sections
        .windows(2)
        .position(|pair| pair[0].rsz == 0 && pair[0].vsz != 0 && pair[1].rsz != 0 && pair[1].vsz != 0)?;
    let (program, packer) = (layout.sections[index], layout.sections[index + 1]);
    if entry.len() < 16 || entry[0] != 0xe9 {
        return None;
    }
    let stub_at = layout.entry_rva.wrapping_add(le_u32(entry, 1)?).wrapping_add(5);
    if !STUB_OFFSETS.contains(&stub_at) {
        return None;
    }
    let stub = data.get(stub_at as usize..stub_at as usize + STUB_SIZE)?;
    if stub[LZMA_CALL_AT] == 0xe8 {
        return None;
    }
    // `mov esi, list`: the block list, inside what the packer's section holds in the file.
    let list_rva = le_u32(stub, 1)?.wrapping_sub(layout.image_base);
    let list_offset = list_rva.checked_sub(packer.rva)?;
    if list_offset == 0 || list_offset.checked_add(12)? > packer.rsz || packer.rsz > packer.vsz {
        return None;
    }
    let size = layout.sections.iter().map(|s| u64::from(s.rva) + u64::from(s.vsz)).max()?;
    if size > max_bytes {
        return None;
    }
    let mut image = vec![0u8; size as usize];
    let (raw, rva, rsz) = (packer.raw as usize, packer.rva as usize, packer.rsz as usize);
    image.get_mut(rva..rva + rsz)?.copy_from_slice(data.get(raw..raw.checked_add(rsz)?)?);
    let packer_end = rva + packer.vsz as usize;

    let list = rva + list_offset as usize;
    let original_entry = le_u32(&image, list + 4)?.wrapping_sub(layout.image_base);
    let mut target = le_u32(&image, list + 8)?.wrapping_sub(layout.image_base) as usize;
    let mut at = list + 12;
    // Each block reads at least two bytes, so the list ends within the packer's section.
    loop {
        let room = image.len().checked_sub(target)?;
        let (block, read) = fsg::decompress(image.get(at..packer_end)?, room)?;
        image.get_mut(target..target + block.len())?.copy_from_slice(&block);
        let next_at = at + read;
        let next = le_u32(&image, next_at)?;
        if next == 0 {
            break;
        }
        target = next.wrapping_sub(layout.image_base) as usize;
        at = next_at + 4;
    }
    let kept = [Sect { rva: program.rva, vsz: program.vsz, raw: program.rva, rsz: program.vsz }];
    patch_sections(data, image, layout, &kept, Some(original_entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_files_are_not_unpacked() {
        let real = std::fs::read("/usr/share/clamav-testfiles/clam-mew.exe")
            .expect("/usr/share/clamav-testfiles is missing: install the Debian package clamav-testfiles");
        for cut in (0..real.len()).step_by(7) {
            let data = &real[..cut];
            if let Some(layout) = Layout::parse(data)
                && let Some(entry) = layout.raw_offset(layout.entry_rva).and_then(|at| data.get(at..))
            {
                let _ = unpack(data, &layout, entry, 1 << 20);
            }
        }
        for seed in 0..64u32 {
            let mut noisy = real.clone();
            for i in (0x200..noisy.len()).step_by(5) {
                noisy[i] ^= (i as u32).wrapping_mul(seed.wrapping_mul(2654435761) | 1).to_le_bytes()[2];
            }
            let layout = Layout::parse(&noisy).expect("headers untouched");
            let entry = layout.raw_offset(layout.entry_rva).and_then(|at| noisy.get(at..)).expect("entry");
            if let Some(image) = unpack(&noisy, &layout, entry, 1 << 20) {
                assert!(image.len() <= 1 << 20);
            }
        }
    }

    #[test]
    fn the_program_comes_back_with_its_zip() {
        let data = std::fs::read("/usr/share/clamav-testfiles/clam-mew.exe")
            .expect("/usr/share/clamav-testfiles is missing: install the Debian package clamav-testfiles");
        let layout = Layout::parse(&data).expect("a PE");
        let entry = layout.raw_offset(layout.entry_rva).and_then(|at| data.get(at..)).expect("entry");
        let image = unpack(&data, &layout, entry, 1 << 20).expect("unpacked");
        assert!(memchr::memmem::find(&image, b"PK\x03\x04").is_some());
        assert!(memchr::memmem::find(&image, b"This is a ClamAV test file").is_some());
        assert!(unpack(&data, &layout, entry, 0x1000).is_none(), "beyond the size limit");
    }
}
