//! UPX-packed 32-bit PE files: the sections UPX0 (empty on disk) and UPX1 (compressed data and
//! the stub) are decompressed with NRV2B, NRV2D or NRV2E, whichever decodes the whole stream,
//! and the original file is rebuilt from the PE header UPX keeps after the sections, so that
//! hash signatures and embedded files see the bytes of the program before packing.

use super::nrv::{self, Method};
use super::{le_u16, le_u32};
use crate::clamav::pe::PeInfo;

/// Unpacked images larger than this are not attempted (UPX packs programs, not disks).
const MAX_IMAGE: usize = 64 << 20;

/// The unpacked program, or `None` when `data` is not UPX-packed or does not unpack within
/// `max_bytes`.
pub fn unpack(data: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
    let info = PeInfo::parse(data)?;
    let (upx0, upx1) = (info.sections.first()?, info.sections.get(1)?);
    // UPX's layout: the first section takes no bytes on disk, the entry point is in the second.
    if upx0.raw_size != 0 || upx0.virtual_size == 0 {
        return None;
    }
    let entry = info.entry_point?;
    let upx1_raw = info.section_bytes(data, upx1);
    let upx1_start = upx1.raw_offset as usize;
    if entry < upx1_start || entry >= upx1_start + upx1_raw.len() {
        return None;
    }
    let limit = usize::try_from(max_bytes).unwrap_or(usize::MAX).min(MAX_IMAGE);
    let image_size = (upx0.virtual_size as usize).saturating_add(upx1.virtual_size as usize).min(limit);
    let skew = stub_skew(data, entry, upx1.virtual_address).unwrap_or(0);
    let src = upx1_raw.get(skew..)?;
    let image = [Method::Nrv2b, Method::Nrv2d, Method::Nrv2e]
        .into_iter()
        .find_map(|method| nrv::decompress(method, src, image_size))?;
    rebuild(&image, upx0.virtual_address, limit)
}

/// Where the compressed data starts inside UPX1: the stub begins `pushad; mov esi, ADDRESS`
/// with the address of the data; UPX versions that prepend something to it move it.
fn stub_skew(data: &[u8], entry: usize, upx1_rva: u32) -> Option<usize> {
    if data.get(entry..entry + 2)? != [0x60, 0xbe] {
        return None;
    }
    let address = le_u32(data, entry + 2)?;
    let pe = crate::filetype::pe_header_offset(data)?;
    let image_base = le_u32(data, pe + 24 + 28)?;
    let skew = address.checked_sub(image_base)?.checked_sub(upx1_rva)?;
    (skew < 0x1000).then_some(skew as usize)
}

/// The original file: UPX stores the original PE header after the unpacked sections. Its
/// section table says where each section lay in the file; the image holds them at their
/// virtual addresses (relative to UPX0, where the image starts).
fn rebuild(image: &[u8], image_rva: u32, limit: usize) -> Option<Vec<u8>> {
    let header = original_header(image)?;
    let section_count = le_u16(image, header + 6)? as usize;
    let optional_size = le_u16(image, header + 20)? as usize;
    let table = header + 24 + optional_size;
    let header_bytes = image.get(header..table.checked_add(section_count * 40)?)?;
    // A DOS header that points at the PE header right behind it.
    let mut file = vec![0u8; 0x40];
    file[0..2].copy_from_slice(b"MZ");
    file[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    file.extend_from_slice(header_bytes);
    for index in 0..section_count {
        let at = table + index * 40;
        let rva = le_u32(image, at + 12)?;
        let raw_size = le_u32(image, at + 16)? as usize;
        let raw_offset = le_u32(image, at + 20)? as usize;
        let end = raw_offset.checked_add(raw_size)?;
        if raw_size == 0 {
            continue;
        }
        if end > limit {
            return None;
        }
        if file.len() < end {
            file.resize(end, 0);
        }
        // Sections UPX left outside the image (resources it keeps apart) stay zero here.
        let from = rva.checked_sub(image_rva)? as usize;
        if let Some(bytes) = image.get(from..).map(|rest| &rest[..rest.len().min(raw_size)]) {
            file[raw_offset..raw_offset + bytes.len()].copy_from_slice(bytes);
        }
    }
    Some(file)
}

/// The offset of the last plausible 32-bit PE header in the image: `PE\0\0`, machine i386,
/// between 1 and 96 sections.
fn original_header(image: &[u8]) -> Option<usize> {
    memchr::memmem::rfind_iter(image, b"PE\0\0").find(|&at| {
        le_u16(image, at + 4) == Some(0x14c) && le_u16(image, at + 6).is_some_and(|count| (1..=96).contains(&count))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_upx_is_none() {
        assert_eq!(unpack(b"MZ not a pe at all", 1 << 20), None);
        let mut pe = vec![0u8; 0x200];
        pe[0..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x40;
        pe[0x40..0x44].copy_from_slice(b"PE\0\0");
        assert_eq!(unpack(&pe, 1 << 20), None);
    }

    #[test]
    fn rebuild_places_sections_at_their_file_offsets() {
        // An image at RVA 0x1000: one section of 16 bytes at RVA 0x1000, then the header.
        let mut image = b"section content!".to_vec();
        image.resize(0x40, 0);
        let header = image.len();
        image.extend_from_slice(b"PE\0\0");
        image.extend_from_slice(&0x14cu16.to_le_bytes());
        image.extend_from_slice(&1u16.to_le_bytes());
        image.extend_from_slice(&[0; 12]);
        image.extend_from_slice(&0u16.to_le_bytes()); // no optional header
        image.extend_from_slice(&[0; 2]);
        let mut section = [0u8; 40];
        section[0..5].copy_from_slice(b".text");
        section[8..12].copy_from_slice(&16u32.to_le_bytes());
        section[12..16].copy_from_slice(&0x1000u32.to_le_bytes());
        section[16..20].copy_from_slice(&16u32.to_le_bytes());
        section[20..24].copy_from_slice(&0x200u32.to_le_bytes());
        image.extend_from_slice(&section);
        assert_eq!(original_header(&image), Some(header));
        let file = rebuild(&image, 0x1000, 1 << 20).expect("rebuilds");
        assert_eq!(file.len(), 0x210);
        assert_eq!(&file[0x200..], b"section content!");
        assert_eq!(crate::filetype::pe_header_offset(&file), Some(0x40));
        assert_eq!(rebuild(&image, 0x1000, 0x100), None, "over the limit");
    }
}
