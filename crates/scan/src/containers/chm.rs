//! Compiled HTML Help (CHM, `ITSF`): a directory of files (`ITSP` header, `PMGL` chunks of
//! names with section, offset and length), section 0 stored as it is, section 1 one LZX
//! stream (`::DataSpace/Storage/MSCompressed/Content`) cut into 32 KiB frames whose
//! compressed offsets the reset table lists. Every named file is a member; the storage's own
//! `::` entries are not.

use super::{Flow, Member, Visitor, le_u32};
use crate::limits::ReadError;

pub const MAGIC: &[u8] = b"ITSF";
const CONTENT: &str = "::DataSpace/Storage/MSCompressed/Content";
const CONTROL: &str = "::DataSpace/Storage/MSCompressed/ControlData";
const RESET_TABLE: &str =
    "::DataSpace/Storage/MSCompressed/Transform/{7FC28940-9D31-11D0-9B27-00A0C91E9C7C}/InstanceData/ResetTable";
const FRAME: usize = 0x8000;

pub fn is_chm(data: &[u8]) -> bool {
    data.starts_with(MAGIC) && le_u32(data, 4).is_some_and(|version| (2..=3).contains(&version))
}

fn malformed(why: &str) -> ReadError {
    ReadError::Malformed(format!("CHM: {why}"))
}

fn le_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

struct Entry {
    name: String,
    section: u64,
    offset: u64,
    length: u64,
}

/// CHM's variable-length integers: 7 bits a byte, most significant first.
fn encint(chunk: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for _ in 0..9 {
        let byte = *chunk.get(*at)?;
        *at += 1;
        value = (value << 7) | (byte & 0x7f) as u64;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn directory(data: &[u8], max_entries: u64) -> Result<(Vec<Entry>, usize), ReadError> {
    let version = le_u32(data, 4).ok_or_else(|| malformed("truncated header"))?;
    let dir_offset = le_u64(data, 0x48).ok_or_else(|| malformed("truncated header"))? as usize;
    let dir_length = le_u64(data, 0x50).ok_or_else(|| malformed("truncated header"))? as usize;
    let content = if version >= 3 {
        le_u64(data, 0x58).ok_or_else(|| malformed("truncated header"))? as usize
    } else {
        dir_offset.saturating_add(dir_length)
    };
    let itsp =
        data.get(dir_offset..).filter(|d| d.starts_with(b"ITSP")).ok_or_else(|| malformed("no ITSP directory"))?;
    let header_length = le_u32(itsp, 8).ok_or_else(|| malformed("truncated directory"))? as usize;
    let chunk_size = le_u32(itsp, 0x10).ok_or_else(|| malformed("truncated directory"))? as usize;
    let chunks = le_u32(itsp, 0x2c).ok_or_else(|| malformed("truncated directory"))? as usize;
    if !(0x20..=0x10000).contains(&chunk_size) {
        return Err(malformed("bad directory chunk size"));
    }
    let mut entries = Vec::new();
    for index in 0..chunks.min(itsp.len() / chunk_size + 1) {
        let start = header_length.saturating_add(index.saturating_mul(chunk_size));
        let Some(chunk) = itsp.get(start..start.saturating_add(chunk_size)) else { break };
        if !chunk.starts_with(b"PMGL") {
            continue;
        }
        let free = le_u32(chunk, 4).unwrap_or(0) as usize;
        let end = chunk_size.saturating_sub(free);
        let mut at = 0x14;
        while at < end {
            let Some(name_length) = encint(chunk, &mut at) else { break };
            let Some(name) = at.checked_add(name_length as usize).and_then(|e| chunk.get(at..e)) else { break };
            at += name_length as usize;
            let name = String::from_utf8_lossy(name).into_owned();
            let (Some(section), Some(offset), Some(length)) =
                (encint(chunk, &mut at), encint(chunk, &mut at), encint(chunk, &mut at))
            else {
                break;
            };
            if entries.len() as u64 >= max_entries {
                return Err(ReadError::Limit(format!("more than {max_entries} CHM entries")));
            }
            entries.push(Entry { name, section, offset, length });
        }
    }
    Ok((entries, content))
}

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let (entries, content) = directory(data, visitor.max_members().saturating_mul(4))?;
    let section0 = |entry: &Entry| -> Option<&[u8]> {
        let start = content.checked_add(usize::try_from(entry.offset).ok()?)?;
        data.get(start..start.checked_add(usize::try_from(entry.length).ok()?)?)
    };
    let find = |name: &str| entries.iter().find(|e| e.name == name && e.section == 0);
    // The compressed section, decompressed as far as its files reach.
    let wanted =
        entries.iter().filter(|e| e.section == 1).map(|e| e.offset.saturating_add(e.length)).max().unwrap_or(0);
    let mut stream: Option<Result<Vec<u8>, ReadError>> = None;
    if wanted > 0 {
        let compressed = find(CONTENT).and_then(section0);
        let control = find(CONTROL).and_then(section0);
        let table = find(RESET_TABLE).and_then(section0);
        stream = Some(match (compressed, control, table) {
            (Some(compressed), Some(control), Some(table)) => {
                let limit = wanted.min(visitor.cap().max_bytes);
                decompress(compressed, control, table, limit as usize)
            }
            _ => Err(malformed("compressed section without its control data or reset table")),
        });
    }
    for entry in &entries {
        if entry.length == 0 || entry.name.starts_with("::") || entry.name.ends_with('/') {
            continue;
        }
        let name = entry.name.trim_start_matches('/').to_string();
        let member = match entry.section {
            0 => match section0(entry) {
                Some(bytes) => Member::file(name, bytes.to_vec()),
                None => Member::Failed { name, error: malformed("file past the end") },
            },
            1 => match &stream {
                Some(Ok(bytes)) => {
                    let start = entry.offset as usize;
                    let end = start.saturating_add(entry.length as usize).min(bytes.len());
                    match bytes.get(start..end) {
                        Some(slice) if end > start => Member::file(name, slice.to_vec()),
                        _ => Member::Failed { name, error: malformed("file past the decompressed data") },
                    }
                }
                Some(Err(error)) => Member::Failed { name, error: error.clone() },
                None => continue,
            },
            _ => Member::Unscannable { name, reason: "CHM file in an unknown section".into() },
        };
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// Decompresses the LZX stream up to `limit` bytes, frame by frame.
fn decompress(compressed: &[u8], control: &[u8], table: &[u8], limit: usize) -> Result<Vec<u8>, ReadError> {
    if control.get(4..8) != Some(b"LZXC") {
        return Err(malformed("control data is not LZXC"));
    }
    let version = le_u32(control, 8).unwrap_or(0);
    let mut reset_interval = le_u32(control, 12).unwrap_or(0) as usize;
    let mut window = le_u32(control, 16).unwrap_or(0) as usize;
    if version == 2 {
        reset_interval = reset_interval.saturating_mul(FRAME);
        window = window.saturating_mul(FRAME);
    }
    let window = match window {
        0x8000 => lzxd::WindowSize::KB32,
        0x10000 => lzxd::WindowSize::KB64,
        0x20000 => lzxd::WindowSize::KB128,
        0x40000 => lzxd::WindowSize::KB256,
        0x80000 => lzxd::WindowSize::KB512,
        0x100000 => lzxd::WindowSize::MB1,
        0x200000 => lzxd::WindowSize::MB2,
        _ => return Err(malformed("unsupported LZX window")),
    };
    if reset_interval == 0 || !reset_interval.is_multiple_of(FRAME) {
        return Err(malformed("bad LZX reset interval"));
    }
    let frames_per_reset = reset_interval / FRAME;
    let entries = le_u32(table, 4).unwrap_or(0) as usize;
    let entry_size = le_u32(table, 8).unwrap_or(0) as usize;
    let table_offset = le_u32(table, 12).unwrap_or(0) as usize;
    let total = le_u64(table, 0x10).unwrap_or(0) as usize;
    if entry_size != 8 {
        return Err(malformed("bad reset table"));
    }
    let frame_start = |frame: usize| -> Option<usize> {
        if frame >= entries {
            return None;
        }
        le_u64(table, table_offset.checked_add(frame.checked_mul(8)?)?).map(|v| v as usize)
    };
    let limit = limit.min(total);
    let mut out = Vec::with_capacity(limit.min(compressed.len().saturating_mul(16)));
    let mut decoder = lzxd::Lzxd::new(window);
    let mut frame = 0usize;
    while out.len() < limit {
        if frame.is_multiple_of(frames_per_reset) && frame > 0 {
            decoder.reset();
        }
        let start = frame_start(frame).ok_or_else(|| malformed("frame missing from the reset table"))?;
        let end = frame_start(frame + 1).unwrap_or(compressed.len()).min(compressed.len());
        let chunk = compressed.get(start..end).ok_or_else(|| malformed("frame past the compressed data"))?;
        let length = FRAME.min(total - out.len());
        let produced = decoder.decompress_next(chunk, length).map_err(|e| malformed(&format!("LZX: {e}")))?;
        out.extend_from_slice(produced);
        frame += 1;
    }
    out.truncate(limit);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::test_support::Collect;

    #[test]
    fn encoded_integers() {
        let mut at = 0;
        assert_eq!(encint(&[0x81, 0x00], &mut at), Some(128));
        assert_eq!(at, 2);
        let mut at = 0;
        assert_eq!(encint(&[0xff; 12], &mut at), None);
    }

    #[test]
    fn truncated_and_garbage_input_is_an_error_not_a_panic() {
        let mut data = b"ITSF\x03\0\0\0".to_vec();
        data.resize(0x60, 0);
        let mut visitor = Collect::default();
        assert!(extract(&data, &mut visitor).is_err());
        for seed in 0..64u32 {
            let mut noise = data.clone();
            noise.extend((0..600u32).map(|i| (i.wrapping_mul(seed.wrapping_mul(2654435761) | 1) >> 9) as u8));
            noise[0x48..0x50].copy_from_slice(&0x60u64.to_le_bytes());
            noise[0x60..0x64].copy_from_slice(b"ITSP");
            let _ = extract(&noise, &mut visitor);
            for cut in [0x10, 0x50, 0x61, 0x100] {
                let _ = extract(&noise[..cut.min(noise.len())], &mut visitor);
            }
        }
    }
}
