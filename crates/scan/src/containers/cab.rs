//! Microsoft Cabinet files with stored or MSZIP folders. LZX and Quantum folders are
//! reported as unscannable.

use super::{Flow, Member, Visitor, le_u16, le_u32};
use crate::limits::ReadError;
use std::io::Read;

fn malformed(what: &str) -> ReadError {
    ReadError::Malformed(format!("broken cabinet: {what}"))
}

struct Folder {
    first_data: usize,
    blocks: usize,
    compression: u16,
}

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let files_at = le_u32(data, 16).ok_or_else(|| malformed("header"))? as usize;
    let folder_count = le_u16(data, 26).ok_or_else(|| malformed("header"))? as usize;
    let file_count = le_u16(data, 28).ok_or_else(|| malformed("header"))? as usize;
    let flags = le_u16(data, 30).ok_or_else(|| malformed("header"))?;
    if file_count as u64 > visitor.max_members() {
        return Err(ReadError::Limit(format!("cabinet announces {file_count} files")));
    }
    let (mut at, folder_reserve, data_reserve) = if flags & 4 != 0 {
        let header_reserve = le_u16(data, 36).ok_or_else(|| malformed("reserve"))? as usize;
        (40 + header_reserve, *data.get(38).unwrap_or(&0) as usize, *data.get(39).unwrap_or(&0) as usize)
    } else {
        (36, 0, 0)
    };
    if flags & 1 != 0 {
        at = skip_string(data, skip_string(data, at)?)?; // previous cabinet and disk
    }
    if flags & 2 != 0 {
        at = skip_string(data, skip_string(data, at)?)?;
    }
    let mut folders = Vec::new();
    for _ in 0..folder_count {
        folders.push(Folder {
            first_data: le_u32(data, at).ok_or_else(|| malformed("folder"))? as usize,
            blocks: le_u16(data, at + 4).ok_or_else(|| malformed("folder"))? as usize,
            compression: le_u16(data, at + 6).ok_or_else(|| malformed("folder"))?,
        });
        at += 8 + folder_reserve;
    }
    let mut unpacked: Vec<Option<Result<Vec<u8>, ReadError>>> = (0..folders.len()).map(|_| None).collect();
    let mut at = files_at;
    for _ in 0..file_count {
        let size = le_u32(data, at).ok_or_else(|| malformed("file entry"))? as usize;
        let offset = le_u32(data, at + 4).ok_or_else(|| malformed("file entry"))? as usize;
        let folder = le_u16(data, at + 8).ok_or_else(|| malformed("file entry"))? as usize;
        let name_end = skip_string(data, at + 16)?;
        let name = crate::names::decode_raw_name(&data[at + 16..name_end - 1]);
        at = name_end;
        let Some(spec) = folders.get(folder) else {
            visitor.member(Member::Failed { name, error: malformed("file in a missing folder") });
            continue;
        };
        let content = unpacked[folder].get_or_insert_with(|| unpack_folder(data, spec, data_reserve, visitor));
        let member = match content {
            Ok(bytes) => match bytes.get(offset..offset.saturating_add(size)) {
                Some(body) => Member::file(name, body.to_vec()),
                None => Member::Failed { name, error: malformed("file outside its folder") },
            },
            Err(ReadError::Malformed(m)) if m.contains("compression") => {
                Member::Unscannable { name, reason: m.clone() }
            }
            Err(error) => Member::Failed { name, error: error.clone() },
        };
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

fn skip_string(data: &[u8], at: usize) -> Result<usize, ReadError> {
    let rest = data.get(at..).ok_or_else(|| malformed("string outside the file"))?;
    Ok(at + memchr::memchr(0, rest).ok_or_else(|| malformed("unterminated string"))? + 1)
}

fn unpack_folder(data: &[u8], folder: &Folder, reserve: usize, visitor: &dyn Visitor) -> Result<Vec<u8>, ReadError> {
    let method = folder.compression & 0x0f;
    if method > 1 {
        let name = if method == 2 { "Quantum" } else { "LZX" };
        return Err(ReadError::Malformed(format!("cabinet {name} compression is not supported")));
    }
    let max = visitor.cap().max_bytes as usize;
    let mut out = Vec::new();
    let mut at = folder.first_data;
    for _ in 0..folder.blocks {
        let packed = le_u16(data, at + 4).ok_or_else(|| malformed("data block"))? as usize;
        let start = at + 8 + reserve;
        let block = data.get(start..start + packed).ok_or_else(|| malformed("data block truncated"))?;
        at = start + packed;
        if method == 0 {
            out.extend_from_slice(block);
        } else {
            // MSZIP: "CK" and a deflate stream per block. Blocks after the first may refer
            // to the previous block's output, which this decoder does not carry over: such a
            // block fails and the file is reported as an error, never as clean.
            let deflate = block.strip_prefix(b"CK").ok_or_else(|| malformed("MSZIP block without CK"))?;
            let mut produced = Vec::new();
            flate2::read::DeflateDecoder::new(deflate)
                .take(64 * 1024)
                .read_to_end(&mut produced)
                .map_err(|e| malformed(&format!("MSZIP block: {e}")))?;
            out.extend_from_slice(&produced);
        }
        if out.len() > max {
            return Err(ReadError::Limit(format!("cabinet folder expands beyond {max} bytes")));
        }
    }
    Ok(out)
}
