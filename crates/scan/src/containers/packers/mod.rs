//! Unpackers for compressed and encrypted Windows programs (beyond UPX): each recognises its
//! packer by the code at the entry point, as ClamAV does, rebuilds the original program in a
//! memory image and hands back a PE file whose sections lie where they would in memory.
//! Bounds are checked at every read and write; a packer that does not look right is simply
//! not unpacked.

mod aspack;
mod fsg;
mod mew;
mod pespin;
mod petite;
mod upack;
mod wwpack;
mod yc;

use super::{le_u16, le_u32};

/// A section as ClamAV lays it out: addresses aligned to the section and file alignments,
/// the raw size clipped to the file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sect {
    pub rva: u32,
    pub vsz: u32,
    pub raw: u32,
    pub rsz: u32,
}

/// What the unpackers need of a PE file's headers.
#[derive(Debug, Clone)]
pub struct Layout {
    pub e_lfanew: usize,
    pub entry_rva: u32,
    pub image_base: u32,
    pub sections: Vec<Sect>,
    /// Offset of the section table.
    pub section_table: usize,
}

fn align_down(value: u32, alignment: u32) -> u32 {
    if alignment != 0 && !value.is_multiple_of(alignment) { value - value % alignment } else { value }
}

fn align_up(value: u32, alignment: u32) -> u32 {
    if alignment == 0 {
        return value;
    }
    let rounded = (value / alignment).saturating_add(u32::from(!value.is_multiple_of(alignment)));
    rounded.saturating_mul(alignment)
}

impl Layout {
    /// Parses a 32-bit PE's headers; `None` for anything else.
    pub fn parse(data: &[u8]) -> Option<Layout> {
        let e_lfanew = le_u32(data, 0x3c)? as usize;
        if data.get(e_lfanew..e_lfanew.checked_add(4)?)? != b"PE\0\0" {
            return None;
        }
        let count = le_u16(data, e_lfanew + 6)? as usize;
        if !(1..=96).contains(&count) {
            return None;
        }
        let optional_size = le_u16(data, e_lfanew + 20)? as usize;
        let optional = e_lfanew + 24;
        if le_u16(data, optional)? != 0x10b {
            return None;
        }
        let entry_rva = le_u32(data, optional + 16)?;
        let image_base = le_u32(data, optional + 28)?;
        let valign = le_u32(data, optional + 32)?;
        let mut falign = le_u32(data, optional + 36)?;
        let section_table = optional + optional_size;
        let raw_sections: Vec<[u32; 4]> = (0..count)
            .map(|i| {
                let at = section_table + i * 40;
                Some([le_u32(data, at + 8)?, le_u32(data, at + 12)?, le_u32(data, at + 16)?, le_u32(data, at + 20)?])
            })
            .collect::<Option<_>>()?;
        // ClamAV's file alignment fallback.
        if falign != 0x200
            && raw_sections
                .iter()
                .any(|&[_, _, rsz, raw]| falign != 0 && rsz != 0 && raw % falign != 0 && raw % 0x200 == 0)
        {
            falign = 0x200;
        }
        let file_size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let sections = raw_sections
            .iter()
            .map(|&[vsz, rva, rsz, raw]| {
                let mut sect = Sect {
                    rva: align_down(rva, valign),
                    vsz: align_up(vsz, valign),
                    raw: align_down(raw, falign),
                    rsz: align_up(rsz, falign),
                };
                if sect.vsz == 0 && sect.rsz != 0 {
                    sect.vsz = align_up(rsz, valign);
                }
                if sect.rsz != 0 && sect.raw.checked_add(sect.rsz).is_none_or(|end| end > file_size) {
                    sect.rsz = file_size.saturating_sub(sect.raw);
                }
                sect
            })
            .collect();
        Some(Layout { e_lfanew, entry_rva, image_base, sections, section_table })
    }

    /// The file offset of an RVA (ClamAV's `cli_rawaddr` without its header special cases).
    pub fn raw_offset(&self, rva: u32) -> Option<usize> {
        self.sections
            .iter()
            .find_map(|s| (s.rsz != 0 && rva >= s.rva && rva - s.rva < s.rsz).then(|| (s.raw + (rva - s.rva)) as usize))
    }
}

/// Unpacks `data` with the first unpacker that recognises it; the rebuilt program, cut to at
/// most `max_bytes`, or `None`.
pub fn unpack(data: &[u8], max_bytes: u64) -> Option<(&'static str, Vec<u8>)> {
    let layout = Layout::parse(data)?;
    let entry = layout.raw_offset(layout.entry_rva)?;
    let entry_code = data.get(entry..)?;
    if let Some(out) = wwpack::unpack(data, &layout, entry_code, max_bytes) {
        return Some(("wwpack-unpacked", out));
    }
    if let Some(out) = aspack::unpack(data, &layout, entry_code, max_bytes) {
        return Some(("aspack-unpacked", out));
    }
    if let Some(out) = petite::unpack(data, &layout, entry_code, layout.image_base, max_bytes) {
        return Some(("petite-unpacked", out));
    }
    if let Some(out) = yc::unpack(data, &layout, entry_code) {
        return Some(("yc-decrypted", out));
    }
    if let Some(out) = pespin::unpack(data, &layout, entry_code, max_bytes) {
        return Some(("pespin-unpacked", out));
    }
    if let Some(out) = mew::unpack(data, &layout, entry_code, max_bytes) {
        return Some(("mew-unpacked", out));
    }
    if let Some(out) = upack::unpack(data, &layout, entry_code, max_bytes) {
        return Some(("upack-unpacked", out));
    }
    None
}

/// One unpacker alone, chosen by `which` (for the fuzz targets: each unpacker is reached
/// even when an earlier one in [`unpack`] would have claimed the input): 0 WWPack, 1 ASPack,
/// 2 Petite, 3 yC, 4 PESpin, 5 MEW, 6 Upack.
pub fn unpack_only(which: u8, data: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
    let layout = Layout::parse(data)?;
    let entry = layout.raw_offset(layout.entry_rva)?;
    let entry_code = data.get(entry..)?;
    match which % 7 {
        0 => wwpack::unpack(data, &layout, entry_code, max_bytes),
        1 => aspack::unpack(data, &layout, entry_code, max_bytes),
        2 => petite::unpack(data, &layout, entry_code, layout.image_base, max_bytes),
        3 => yc::unpack(data, &layout, entry_code),
        4 => pespin::unpack(data, &layout, entry_code, max_bytes),
        5 => mew::unpack(data, &layout, entry_code, max_bytes),
        _ => upack::unpack(data, &layout, entry_code, max_bytes),
    }
}

/// FSG's decompressor on raw bytes (for the fuzz targets).
pub fn fsg_decompress(source: &[u8], size: usize) -> Option<(Vec<u8>, usize)> {
    fsg::decompress(source, size)
}

/// Rewrites the section table for `sections`, each with its raw data where it lies in memory
/// (raw size and offset = virtual size and address); returns where the table now ends.
pub fn write_section_table(image: &mut [u8], layout: &Layout, sections: &[Sect]) -> Option<usize> {
    let mut at = layout.section_table;
    for section in sections {
        let header = image.get_mut(at..at + 40)?;
        header[8..12].copy_from_slice(&section.vsz.to_le_bytes());
        header[12..16].copy_from_slice(&section.rva.to_le_bytes());
        header[16..20].copy_from_slice(&section.vsz.to_le_bytes());
        header[20..24].copy_from_slice(&section.rva.to_le_bytes());
        at += 40;
    }
    Some(at)
}

/// Turns a memory image into a PE file: the original headers in front, `kept` sections only
/// (the packer's own left out), each with its raw data where it lies in memory, the file
/// ending with the last of them; `entry`, when known, as the entry point.
pub fn patch_sections(
    data: &[u8],
    mut image: Vec<u8>,
    layout: &Layout,
    kept: &[Sect],
    entry: Option<u32>,
) -> Option<Vec<u8>> {
    let end = kept.iter().map(|s| s.rva as usize + s.vsz as usize).max()?;
    image.truncate(end);
    let first = kept.iter().map(|s| s.rva as usize).min()?;
    let headers = layout.section_table + 40 * (layout.sections.len() + 1);
    if headers > first || headers > data.len() || headers > image.len() {
        return None;
    }
    image[..headers].copy_from_slice(&data[..headers]);
    let pe = layout.e_lfanew;
    image.get_mut(pe + 6..pe + 8)?.copy_from_slice(&(kept.len() as u16).to_le_bytes());
    if let Some(entry) = entry {
        image.get_mut(pe + 0x28..pe + 0x2c)?.copy_from_slice(&entry.to_le_bytes());
    }
    image.get_mut(pe + 0x50..pe + 0x54)?.copy_from_slice(&(end as u32).to_le_bytes());
    let at = write_section_table(&mut image, layout, kept)?;
    image.get_mut(at..at + 40 * (layout.sections.len() - kept.len()))?.fill(0);
    Some(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_helpers() {
        assert_eq!(align_down(0x1234, 0x1000), 0x1000);
        assert_eq!(align_up(0x1234, 0x1000), 0x2000);
        assert_eq!(align_up(0x1000, 0x1000), 0x1000);
        assert_eq!(align_up(5, 0), 5);
        assert_eq!(align_up(u32::MAX, 0x1000), u32::MAX);
    }

    #[test]
    fn garbage_is_not_a_layout() {
        assert!(Layout::parse(b"MZ").is_none());
        assert!(unpack(&[0u8; 64], 1 << 20).is_none());
    }
}
