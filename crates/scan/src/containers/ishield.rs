//! InstallShield installers, as ClamAV reads them:
//! - older setups carry their files after the program as `name\0path\0version\0size\0`
//!   and the bytes (`data1.cab` and the like among them, scanned as they are);
//! - MSI-based setups carry an `InstallShield\0` stream: a count, then for each file a
//!   260-byte name and sizes, and the file zlib-compressed and obfuscated (nibbles swapped,
//!   XORed with a key made from its name).

use super::{Flow, Member, Visitor, le_u32};
use crate::limits::{ReadError, read_capped};

const MSI_MAGIC: &[u8] = b"InstallShield\0";
const NAME_FIELD: usize = 0x104;
const FILE_BLOCK: usize = NAME_FIELD + 4 + 4 + 8 + 4 * 9;
const KEY: [u8; 4] = [0xec, 0xca, 0x79, 0xf8];

/// Reads a NUL-terminated string of at most 2048 bytes at `at`.
fn string(data: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = data.get(at..)?;
    let end = memchr::memchr(0, &rest[..rest.len().min(2048)])?;
    Some((&rest[..end], at + end + 1))
}

/// The file list of an older InstallShield setup at `start` (the end of the program's
/// sections): `None` when the first entry does not parse. The files of its `data1.hdr` and
/// `dataN.cab` archives follow their listed files.
pub fn extract_stream(data: &[u8], start: usize, visitor: &mut dyn Visitor) -> Option<Result<(), ReadError>> {
    let mut at = start;
    let mut count = 0u64;
    let mut header: Option<&[u8]> = None;
    let mut cabinets: Vec<(u16, &[u8])> = Vec::new();
    while let Some((raw_name, content, next)) = list_entry(data, at) {
        count += 1;
        if count > visitor.max_members() {
            return Some(Err(ReadError::Limit(format!("more than {} InstallShield files", visitor.max_members()))));
        }
        let lower = raw_name.to_ascii_lowercase();
        if lower == b"data1.hdr" {
            header = Some(content);
        } else if let Some(number) = lower
            .strip_prefix(b"data")
            .and_then(|rest| rest.strip_suffix(b".cab"))
            .and_then(|n| std::str::from_utf8(n).ok()?.parse::<u16>().ok())
        {
            cabinets.push((number, content));
        }
        let name = crate::names::decode_raw_name(raw_name);
        if !content.is_empty() && visitor.member(Member::file(name, content.to_vec())) == Flow::Stop {
            return Some(Ok(()));
        }
        at = next;
    }
    if count == 0 {
        return None;
    }
    if let Some(header) = header {
        extract_cabinets(header, &cabinets, visitor);
    }
    Some(Ok(()))
}

/// The files `data1.hdr` lists, each in its `dataN.cab` as chunks of raw deflate (a 16-bit
/// length before each).
fn extract_cabinets(header: &[u8], cabinets: &[(u16, &[u8])], visitor: &mut dyn Visitor) {
    const ITEM: usize = 87;
    if le_u32(header, 0) != Some(0x2863_5349) {
        return;
    }
    let Some(data_off) = le_u32(header, 12).map(|v| v as usize) else { return };
    let objects = |at: usize| le_u32(header, data_off.saturating_add(at)).map(|v| v as usize);
    let (Some(dirs_off), Some(files), Some(dir_size)) = (objects(0xc), objects(0x28), objects(0x2c)) else { return };
    let mut at = data_off.saturating_add(dirs_off).saturating_add(dir_size);
    let u64_at = |at: usize| header.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    for _ in 0..files.min(visitor.max_members() as usize) {
        let Some(item) = at.checked_add(ITEM).and_then(|end| header.get(at..end)) else { break };
        let item_at = at;
        at += ITEM;
        let flags = u16::from_le_bytes([item[0], item[1]]);
        let duplicate = item[84] & 1 != 0;
        let cab = u16::from_le_bytes([item[85], item[86]]);
        if flags != 4 || duplicate {
            continue;
        }
        let (Some(size), Some(csize), Some(offset)) = (u64_at(item_at + 2), u64_at(item_at + 10), u64_at(item_at + 18))
        else {
            continue;
        };
        let name_off = le_u32(item, 58).unwrap_or(0) as usize;
        let name = data_off
            .checked_add(dirs_off)
            .and_then(|base| base.checked_add(name_off))
            .and_then(|start| string(header, start))
            .map_or_else(|| "ishield-file".to_string(), |(n, _)| crate::names::decode_raw_name(n));
        let Some((_, cabinet)) = cabinets.iter().find(|(n, _)| *n == cab) else { continue };
        let Some(stream) = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(csize).ok())
            .and_then(|(o, c)| cabinet.get(o..o.checked_add(c)?))
        else {
            continue;
        };
        if size == 0 {
            continue;
        }
        let member = match inflate_chunks(stream, visitor.cap()) {
            Ok(content) => Member::file(name, content),
            Err(error) => Member::Failed { name, error },
        };
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
}

fn inflate_chunks(mut stream: &[u8], cap: crate::limits::ReadCap) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    while stream.len() >= 2 {
        let length = u16::from_le_bytes([stream[0], stream[1]]) as usize;
        stream = &stream[2..];
        if length == 0 {
            continue;
        }
        let chunk =
            stream.get(..length).ok_or_else(|| ReadError::Malformed("InstallShield: chunk past the end".into()))?;
        stream = &stream[length..];
        let left = crate::limits::ReadCap { max_bytes: cap.max_bytes.saturating_sub(out.len() as u64), ..cap };
        out.extend(read_capped(flate2::read::DeflateDecoder::new(chunk), chunk.len() as u64, left)?);
    }
    Ok(out)
}

/// One entry of an older setup's file list: `name\0path\0version\0size\0` and the bytes;
/// the name, the bytes and where the next entry starts.
fn list_entry(data: &[u8], at: usize) -> Option<(&[u8], &[u8], usize)> {
    let (name, next) = string(data, at)?;
    let (_path, next) = string(data, next)?;
    let (version, next) = string(data, next)?;
    let (size, next) = string(data, next)?;
    let size: usize = std::str::from_utf8(size).ok()?.parse().ok()?;
    if name.is_empty() || !version.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        return None;
    }
    let content = data.get(next..next.checked_add(size)?)?;
    Some((name, content, next + size))
}

/// Where an MSI-based InstallShield stream starts (its `InstallShield\0` marker followed by
/// a file count and 24 zero bytes).
pub fn find_msi(data: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(data, MSI_MAGIC).map(|at| at + MSI_MAGIC.len()).find(|&at| {
        let header = data.get(at..at + 0x20);
        header.is_some_and(|h| le_u32(h, 0).is_some_and(|n| n > 0) && h[8..].iter().all(|&b| b == 0))
    })
}

pub fn extract_msi(data: &[u8], start: usize, visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let count = le_u32(data, start).unwrap_or(0) as u64;
    if count > visitor.max_members() {
        return Err(ReadError::Limit(format!("InstallShield stream announces {count} files")));
    }
    let mut at = start + 0x20;
    for _ in 0..count {
        let Some(block) = data.get(at..at + FILE_BLOCK) else { break };
        at += FILE_BLOCK;
        let name_end = memchr::memchr(0, &block[..NAME_FIELD - 1]).unwrap_or(NAME_FIELD - 1);
        let name = &block[..name_end];
        let size = u64::from_le_bytes(block[NAME_FIELD + 8..NAME_FIELD + 16].try_into().unwrap_or([0; 8]));
        let Some(stored) = usize::try_from(size).ok().and_then(|s| data.get(at..at.checked_add(s)?)) else { break };
        at += stored.len();
        if name.is_empty() {
            break;
        }
        let key: Vec<u8> = name.iter().enumerate().map(|(i, &c)| c ^ KEY[i & 3]).collect();
        let plain: Vec<u8> =
            stored.iter().enumerate().map(|(i, &c)| c.rotate_left(4) ^ key[(i & 0x3ff) % key.len()]).collect();
        let name = crate::names::decode_raw_name(name);
        let member = match read_capped(flate2::read::ZlibDecoder::new(&plain[..]), plain.len() as u64, visitor.cap()) {
            Ok(content) => Member::file(name, content),
            Err(error) => Member::Failed { name, error },
        };
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::test_support::Collect;

    #[test]
    fn old_file_list() {
        let data = b"PROGRAM a.txt\0Disk1\\a.txt\x001.0.0.0\x005\0hellob.bin\0Disk1\\b.bin\x000.0.0.0\x002\0xy";
        let mut visitor = Collect::default();
        assert!(extract_stream(data, 8, &mut visitor).is_some());
        assert_eq!(visitor.0, vec![("a.txt".into(), b"hello".to_vec()), ("b.bin".into(), b"xy".to_vec())]);
        assert!(extract_stream(b"text\0more\0v1\0size\0", 0, &mut Collect::default()).is_none(), "not a file list");
        assert!(extract_stream(b"a\0b\x001.0\x0099\0short", 0, &mut Collect::default()).is_none(), "past the end");
    }

    #[test]
    fn msi_stream() {
        use std::io::Write;
        let content = b"the installed program";
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(content).unwrap();
        let packed = encoder.finish().unwrap();
        let name = b"setup.msi";
        let key: Vec<u8> = name.iter().enumerate().map(|(i, &c)| c ^ KEY[i & 3]).collect();
        let stored: Vec<u8> =
            packed.iter().enumerate().map(|(i, &c)| (c ^ key[(i & 0x3ff) % key.len()]).rotate_left(4)).collect();
        let mut data = b"MZ....InstallShield\0".to_vec();
        let mut header = vec![0u8; 0x20];
        header[0] = 1;
        data.extend_from_slice(&header);
        let mut block = vec![0u8; FILE_BLOCK];
        block[..name.len()].copy_from_slice(name);
        block[NAME_FIELD + 8..NAME_FIELD + 16].copy_from_slice(&(stored.len() as u64).to_le_bytes());
        data.extend_from_slice(&block);
        data.extend_from_slice(&stored);
        let start = find_msi(&data).unwrap();
        let mut visitor = Collect::default();
        extract_msi(&data, start, &mut visitor).unwrap();
        assert_eq!(visitor.0, vec![("setup.msi".into(), content.to_vec())]);
        for cut in 0..data.len() {
            let _ = extract_msi(&data[..cut], start.min(cut), &mut Collect::default());
        }
    }
}
