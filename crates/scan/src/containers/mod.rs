//! Container formats: each one hands its members to a [`Visitor`] one at a time, so that the
//! walker recurses into a member before the next one is extracted (memory stays bounded).

mod arj;
mod autoit;
mod cab;
mod chm;
mod compressed;
mod cpio;
mod embedded;
mod ishield;
mod legacy;
mod mime;
mod nrv;
mod nsis;
mod ole2;
mod packers;
mod pdf;
mod pe_embedded;
mod rtf;
mod sevenz;
mod sis;
pub(crate) mod tar;
#[cfg(test)]
mod test_support;
mod tnef;
mod upx;
mod zip;

pub use arj::is_arj;
pub use chm::is_chm;
pub use cpio::is_cpio;
pub use legacy::{BINHEX_MARKER, SZDD_MAGIC};
pub use sis::is_sis;
pub use tnef::TNEF_MAGIC;

use crate::filetype::FileType;
use crate::limits::{ReadCap, ReadError};

/// One member of a container, as the walker sees it.
pub enum Member {
    /// Extracted content to scan; `file_name` when the container names it as a file (its
    /// name is then checked for disguises), `None` for parts such as "stream 3".
    Data { name: String, file_name: Option<String>, data: Vec<u8> },
    /// A member that cannot be scanned for a reason worth reporting (e.g. encrypted).
    Unscannable { name: String, reason: String },
    /// Extraction of a member failed: a limit or malformed data.
    Failed { name: String, error: ReadError },
}

impl Member {
    pub fn file(name: String, data: Vec<u8>) -> Member {
        Member::Data { file_name: Some(name.clone()), name, data }
    }

    pub fn part(name: String, data: Vec<u8>) -> Member {
        Member::Data { name, file_name: None, data }
    }
}

/// Whether the container should go on with its next member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

pub trait Visitor {
    /// How much the next member may expand to.
    fn cap(&self) -> ReadCap;
    /// Most members a container may announce before it is not opened at all.
    fn max_members(&self) -> u64;
    fn member(&mut self, member: Member) -> Flow;
    /// The name of the container being opened, to name what a compressor holds.
    fn container_name(&self) -> &str {
        ""
    }
}

/// Opens `data` as a container of type `file_type` and visits its members. `None` when the
/// type is not a container; `Some(Err)` when the container itself is broken.
pub fn extract(file_type: FileType, data: &[u8], visitor: &mut dyn Visitor) -> Option<Result<(), ReadError>> {
    let result = match file_type {
        FileType::Zip | FileType::Ooxml | FileType::Jar => zip::extract(data, visitor),
        FileType::Gzip => compressed::gunzip(data, visitor),
        FileType::Bzip2 => compressed::bunzip2(data, visitor),
        FileType::Xz => compressed::unxz(data, visitor),
        FileType::Lzma => compressed::unlzma(data, visitor),
        FileType::Tar => tar::extract(data, visitor),
        FileType::Cpio => cpio::extract(data, visitor),
        FileType::Cab => cab::extract(data, visitor),
        FileType::Arj => arj::extract(data, visitor),
        FileType::Chm => chm::extract(data, visitor),
        FileType::SevenZip => sevenz::extract(data, visitor),
        FileType::Sis => sis::extract(data, visitor),
        FileType::Tnef => tnef::extract(data, visitor),
        FileType::Szdd => legacy::unszdd(data, visitor),
        FileType::BinHex => legacy::unbinhex(data, visitor),
        FileType::Mail | FileType::Mbox => mime::extract(data, visitor),
        FileType::Ole2 => ole2::extract(data, visitor),
        FileType::Html => embedded::html_data_uris(data, visitor),
        FileType::Text if memchr::memmem::find(data, b";base64,").is_some() => embedded::html_data_uris(data, visitor),
        FileType::Pdf => pdf::extract(data, visitor),
        FileType::Rtf => rtf::extract(data, visitor),
        FileType::Pe => executable(data, visitor),
        _ => return None,
    };
    Some(result)
}

/// The unpackers and their decompressors one by one, for the fuzz targets (through
/// [`crate::fuzzing`]): `which` 0 UPX, 1–7 the packers of [`packers::unpack_only`], 8 the chain
/// the walker runs on a program; the raw decoders take bytes that need not be a PE file.
pub(crate) mod fuzzing {
    use super::{nrv, packers, upx};

    pub fn unpacker(which: u8, data: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
        match which {
            0 => upx::unpack(data, max_bytes),
            1..=7 => packers::unpack_only(which - 1, data, max_bytes),
            _ => upx::unpack(data, max_bytes).or_else(|| packers::unpack(data, max_bytes).map(|(_, out)| out)),
        }
    }

    /// `which` 0–2: NRV2B, NRV2D, NRV2E; otherwise FSG's decompressor.
    pub fn decoder(which: u8, data: &[u8], max_out: usize) -> Option<Vec<u8>> {
        let method = match which {
            0 => nrv::Method::Nrv2b,
            1 => nrv::Method::Nrv2d,
            2 => nrv::Method::Nrv2e,
            _ => return packers::fsg_decompress(data, max_out).map(|(out, _)| out),
        };
        nrv::decompress(method, data, max_out)
    }
}

/// Programs: the original of a UPX-, WWPack- (...) packed file, the blocks of an NSIS
/// installer, the files of a compiled AutoIt script, an embedded zip, then the first program
/// stored inside.
fn executable(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let max_bytes = visitor.cap().max_bytes;
    if let Some(original) = upx::unpack(data, max_bytes)
        && visitor.member(Member::part("upx-unpacked".into(), original)) == Flow::Stop
    {
        return Ok(());
    }
    if let Some((name, original)) = packers::unpack(data, max_bytes)
        && visitor.member(Member::part(name.into(), original)) == Flow::Stop
    {
        return Ok(());
    }
    if let Some(offset) = nsis::find(data) {
        // A broken installer still has its program and whatever else it carries scanned.
        if let Err(error) = nsis::extract(data, offset, visitor) {
            if matches!(error, ReadError::Limit(_)) {
                return Err(error);
            }
            visitor.member(Member::Failed { name: "nsis".into(), error });
        }
    }
    if let Some((start, version)) = autoit::find(data)
        && let Err(error) = autoit::extract(data, start, version, visitor)
    {
        if matches!(error, ReadError::Limit(_)) {
            return Err(error);
        }
        visitor.member(Member::Failed { name: "autoit".into(), error });
    }
    // InstallShield: an older setup's file list after the program, an MSI setup's stream.
    if let Some(overlay) = overlay_start(data)
        && let Some(Err(error)) = ishield::extract_stream(data, overlay, visitor)
    {
        return Err(error);
    }
    if let Some(start) = ishield::find_msi(data)
        && let Err(error) = ishield::extract_msi(data, start, visitor)
    {
        return Err(error);
    }
    // Self-extracting zips (and programs that carry a zip): the members, read in place.
    if let Some(offset) = zip::find_embedded(data) {
        zip::extract_embedded(&data[offset..], visitor);
    }
    if let Some((offset, tail)) = pe_embedded::first(data) {
        // Cut to what the scan may still expand rather than flag it: installers are large.
        let tail = &tail[..tail.len().min(usize::try_from(max_bytes).unwrap_or(usize::MAX))];
        if !tail.is_empty() {
            visitor.member(Member::part(format!("embedded-pe@{offset}"), tail.to_vec()));
        }
    }
    Ok(())
}

/// Where the data appended to a program (its overlay) starts, when there is some.
fn overlay_start(data: &[u8]) -> Option<usize> {
    let info = crate::clamav::pe::PeInfo::parse(data)?;
    let end = info.sections.iter().map(|s| s.raw_offset as u64 + s.raw_size as u64).max()?;
    (end < data.len() as u64 && end > 0).then_some(end as usize)
}

/// Reads a little-endian integer at `offset`, or `None` past the end.
pub(crate) fn le_u32(data: &[u8], offset: usize) -> Option<u32> {
    let bytes = data.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

pub(crate) fn le_u16(data: &[u8], offset: usize) -> Option<u16> {
    let bytes = data.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_le_bytes([bytes[0], bytes[1]]))
}
