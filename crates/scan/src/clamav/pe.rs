//! The little of the PE format that ClamAV signatures need: sections (for `.mdb`/`.msb`
//! section hashes and `Sx+n` offsets) and the entry point (`EP+n`).

use crate::containers::{le_u16, le_u32};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub virtual_address: u32,
    pub virtual_size: u32,
    pub raw_offset: u32,
    pub raw_size: u32,
}

#[derive(Debug, Clone, Default)]
pub struct PeInfo {
    pub sections: Vec<Section>,
    /// File offset of the entry point, when it falls inside a section (or the headers).
    pub entry_point: Option<usize>,
}

impl PeInfo {
    /// Parses the headers of a PE file; `None` when `data` is not PE.
    pub fn parse(data: &[u8]) -> Option<PeInfo> {
        let pe = crate::filetype::pe_header_offset(data)?;
        let section_count = le_u16(data, pe + 6)? as usize;
        let optional_size = le_u16(data, pe + 20)? as usize;
        let optional = pe + 24;
        let entry_rva = le_u32(data, optional + 16)?;
        let table = optional + optional_size;
        let mut sections = Vec::new();
        for index in 0..section_count.min(96) {
            let at = table + index * 40;
            let Some(raw_offset) = le_u32(data, at + 20) else { break };
            sections.push(Section {
                virtual_size: le_u32(data, at + 8)?,
                virtual_address: le_u32(data, at + 12)?,
                raw_size: le_u32(data, at + 16)?,
                raw_offset,
            });
        }
        let entry_point = rva_to_offset(&sections, entry_rva).filter(|&offset| offset < data.len());
        Some(PeInfo { sections, entry_point })
    }

    /// Raw bytes of a section, clipped to the file.
    pub fn section_bytes<'a>(&self, data: &'a [u8], section: &Section) -> &'a [u8] {
        let start = (section.raw_offset as usize).min(data.len());
        let end = start.saturating_add(section.raw_size as usize).min(data.len());
        &data[start..end]
    }
}

fn rva_to_offset(sections: &[Section], rva: u32) -> Option<usize> {
    for section in sections {
        let size = section.virtual_size.max(section.raw_size);
        if rva >= section.virtual_address && rva < section.virtual_address.saturating_add(size) {
            return Some((rva - section.virtual_address + section.raw_offset) as usize);
        }
    }
    // Entry points in the headers (packers do this) map one to one.
    sections.iter().map(|s| s.virtual_address).min().filter(|&first| rva < first).map(|_| rva as usize)
}
