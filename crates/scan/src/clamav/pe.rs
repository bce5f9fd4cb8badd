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
            // A raw offset near 4 GiB must not wrap around (found by fuzzing).
            return (rva - section.virtual_address).checked_add(section.raw_offset).map(|offset| offset as usize);
        }
    }
    // Entry points in the headers (packers do this) map one to one.
    sections.iter().map(|s| s.virtual_address).min().filter(|&first| rva < first).map(|_| rva as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_point_past_4_gib_is_none_not_a_panic() {
        let sections =
            [Section { virtual_address: 0x1000, virtual_size: 0x1000, raw_offset: u32::MAX, raw_size: 0x200 }];
        assert_eq!(rva_to_offset(&sections, 0x1010), None);
        assert_eq!(rva_to_offset(&sections, 0x1000), Some(u32::MAX as usize));
    }

    /// The input the fuzzer found (`scan_containers`): a PE whose section lies at offset
    /// 0xffffffff.
    #[test]
    fn fuzzed_section_offset_does_not_panic() {
        let data = hex::decode("4d5a90000300000004000000ffff0000b800000000000000400000000000000000000000000000000000000000000000000000000000000000000000c80000000e1fba0e00b409cd21b8014ccd21546869732070726f6772616d2063616e6e6f742062652072756e20696e20444f53206d6f64652e0d0d0a2400000000000000439336cb07f2589807f2589807f25898c4fd059802f2589807f259981cf258982034369804f258982034209806f258985269636807f2589800000000000000000000000000000000504500004c010300392903480000000000000000e00003010b010800001000000010a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a000000050000020630000006000000070000000004000001000000002000004000000000000000400000000000000008000000010000000000000020000040000100000100000000072686d24dff99764db7695b46b07678700000000000000000000000000000000d8b413dd2df7d717cce0f5ef0c640699910b639237805c8f070096becd7ee71821436ee96e3415bd908b8c263a4ac8a786084b49ecac19a12684694aeaae3cf7165a1a2b73de078d688fc9797373f41e9df50ed54d6e4e29c10e5b151ede2c7bc03fed17eb12975134f52b2050e57f4f3848b399033fe2aefee3282834425eb806eefcb376d42c9f69480001040600010980f800070b01000123030101055d000001000c822000080a01fd3c07ef0000050111130063006c0061006d002e006500780065000000140a010000032df7be16ca01150601002080a4810000").unwrap();
        let _ = PeInfo::parse(&data);
        let _ = crate::scan_with(&crate::SignatureSet::builtin(), &crate::Limits::default(), "x.exe", &data, "");
    }
}
