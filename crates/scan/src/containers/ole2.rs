//! OLE2 compound files (legacy Office, MSI, Outlook .msg): every stream is a member; the
//! payload of an `Ole10Native` stream (a file embedded with "Insert Object") is unwrapped.

use super::{Flow, Member, Visitor, le_u16, le_u32};
use crate::limits::ReadError;

const END_OF_CHAIN: u32 = 0xffff_fffe;
const FREE: u32 = 0xffff_ffff;

struct Compound<'a> {
    data: &'a [u8],
    sector_size: usize,
    mini_sector_size: usize,
    mini_cutoff: u64,
    fat: Vec<u32>,
    mini_fat: Vec<u32>,
    mini_stream: Vec<u8>,
}

fn malformed(message: &str) -> ReadError {
    ReadError::Malformed(format!("broken OLE2 file: {message}"))
}

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let file = Compound::open(data)?;
    let directory = file.chain(le_u32(data, 0x30).ok_or_else(|| malformed("no header"))?, None)?;
    let entries: Vec<&[u8]> = directory.chunks_exact(128).collect();
    if entries.len() as u64 > visitor.max_members() {
        return Err(ReadError::Limit(format!("OLE2 directory holds {} entries", entries.len())));
    }
    for entry in entries {
        if entry[0x42] != 2 {
            continue; // storages and the root hold no content of their own
        }
        let name = entry_name(entry);
        let start = le_u32(entry, 0x74).unwrap_or(END_OF_CHAIN);
        let size = le_u32(entry, 0x78).unwrap_or(0) as u64;
        if size > visitor.cap().max_bytes {
            let error = ReadError::Limit(format!("stream of {size} bytes"));
            if visitor.member(Member::Failed { name, error }) == Flow::Stop {
                break;
            }
            continue;
        }
        let stream = if size < file.mini_cutoff { file.mini_chain(start, size) } else { file.chain(start, Some(size)) };
        let member = match stream {
            Ok(stream) if name.ends_with("Ole10Native") => unwrap_ole10_native(&name, stream),
            Ok(stream) if name == "PowerPoint Document" => {
                if powerpoint_objects(&stream, visitor) == Flow::Stop {
                    break;
                }
                Member::part(name, stream)
            }
            Ok(stream) => Member::part(name, stream),
            Err(error) => Member::Failed { name, error },
        };
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

impl<'a> Compound<'a> {
    fn open(data: &'a [u8]) -> Result<Self, ReadError> {
        let shift = le_u16(data, 0x1e).ok_or_else(|| malformed("short header"))?;
        let mini_shift = le_u16(data, 0x20).ok_or_else(|| malformed("short header"))?;
        if !(shift == 9 || shift == 12) || mini_shift != 6 {
            return Err(malformed("unexpected sector size"));
        }
        let mut file = Compound {
            data,
            sector_size: 1 << shift,
            mini_sector_size: 1 << mini_shift,
            mini_cutoff: le_u32(data, 0x38).unwrap_or(4096) as u64,
            fat: Vec::new(),
            mini_fat: Vec::new(),
            mini_stream: Vec::new(),
        };
        file.fat = file.read_fat()?;
        let mini_fat_start = le_u32(data, 0x3c).unwrap_or(END_OF_CHAIN);
        if mini_fat_start != END_OF_CHAIN && mini_fat_start != FREE {
            let raw = file.chain(mini_fat_start, None)?;
            file.mini_fat = raw.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        }
        let directory_start = le_u32(data, 0x30).ok_or_else(|| malformed("no directory"))?;
        let root = file.chain(directory_start, None)?;
        if root.len() >= 128 {
            let start = le_u32(&root, 0x74).unwrap_or(END_OF_CHAIN);
            let size = le_u32(&root, 0x78).unwrap_or(0) as u64;
            if start != END_OF_CHAIN && size > 0 {
                file.mini_stream = file.chain(start, Some(size))?;
            }
        }
        Ok(file)
    }

    fn sector(&self, index: u32) -> Option<&'a [u8]> {
        let start = (index as usize).checked_add(1)?.checked_mul(self.sector_size)?;
        self.data.get(start..start.checked_add(self.sector_size)?)
    }

    /// The FAT: sectors listed in the header's 109 DIFAT slots, then in DIFAT sectors.
    fn read_fat(&self) -> Result<Vec<u32>, ReadError> {
        let mut fat_sectors: Vec<u32> = (0..109).filter_map(|i| le_u32(self.data, 0x4c + i * 4)).collect();
        let mut difat = le_u32(self.data, 0x44).unwrap_or(END_OF_CHAIN);
        let mut hops = 0;
        while difat != END_OF_CHAIN && difat != FREE {
            hops += 1;
            let sector = self.sector(difat).filter(|_| hops < 10_000).ok_or_else(|| malformed("bad DIFAT chain"))?;
            let slots = self.sector_size / 4 - 1;
            fat_sectors.extend((0..slots).filter_map(|i| le_u32(sector, i * 4)));
            difat = le_u32(sector, slots * 4).unwrap_or(END_OF_CHAIN);
        }
        let mut fat = Vec::new();
        for index in fat_sectors.into_iter().filter(|&s| s != FREE && s != END_OF_CHAIN) {
            let sector = self.sector(index).ok_or_else(|| malformed("FAT sector outside the file"))?;
            fat.extend(sector.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        }
        Ok(fat)
    }

    /// Follows a FAT chain; a loop or a sector outside the file is an error.
    fn chain(&self, start: u32, size: Option<u64>) -> Result<Vec<u8>, ReadError> {
        let mut out = Vec::new();
        let mut current = start;
        let mut hops = 0usize;
        while current != END_OF_CHAIN && current != FREE {
            hops += 1;
            if hops > self.fat.len() + 1 {
                return Err(malformed("FAT chain loops"));
            }
            out.extend_from_slice(self.sector(current).ok_or_else(|| malformed("sector outside the file"))?);
            if size.is_some_and(|s| out.len() as u64 >= s) {
                break;
            }
            current = *self.fat.get(current as usize).ok_or_else(|| malformed("FAT index out of range"))?;
        }
        if let Some(size) = size {
            out.truncate(size as usize);
        }
        Ok(out)
    }

    fn mini_chain(&self, start: u32, size: u64) -> Result<Vec<u8>, ReadError> {
        let mut out = Vec::new();
        let mut current = start;
        let mut hops = 0usize;
        while current != END_OF_CHAIN && current != FREE && (out.len() as u64) < size {
            hops += 1;
            if hops > self.mini_fat.len() + 1 {
                return Err(malformed("mini FAT chain loops"));
            }
            let from = current as usize * self.mini_sector_size;
            let sector = self.mini_stream.get(from..from + self.mini_sector_size);
            out.extend_from_slice(sector.ok_or_else(|| malformed("mini sector outside the mini stream"))?);
            current = *self.mini_fat.get(current as usize).ok_or_else(|| malformed("mini FAT index out of range"))?;
        }
        out.truncate(size as usize);
        Ok(out)
    }
}

fn entry_name(entry: &[u8]) -> String {
    let length = (le_u16(entry, 0x40).unwrap_or(0) as usize).min(64);
    let units: Vec<u16> =
        entry[..length].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0).collect();
    String::from_utf16_lossy(&units).chars().filter(|c| !c.is_control()).collect()
}

/// Ole10Native: size, flags, label, file name, ..., temp path, data size, data.
pub(super) fn unwrap_ole10_native(stream_name: &str, stream: Vec<u8>) -> Member {
    let parsed = (|| {
        let mut at = 6; // total size (4) and flags (2)
        let label_end = at + memchr::memchr(0, stream.get(at..)?)?;
        at = label_end + 1;
        let file_end = at + memchr::memchr(0, stream.get(at..)?)?;
        let file_name = crate::names::decode_raw_name(&stream[at..file_end]);
        at = file_end + 1 + 4; // reserved
        let temp_path_len = le_u32(&stream, at)? as usize;
        at += 4 + temp_path_len;
        let size = le_u32(&stream, at)? as usize;
        let payload = stream.get(at + 4..at + 4 + size)?.to_vec();
        Some((file_name, payload))
    })();
    match parsed {
        Some((file_name, payload)) => {
            Member::Data { name: format!("{stream_name}: {file_name}"), file_name: Some(file_name), data: payload }
        }
        None => Member::part(stream_name.to_string(), stream),
    }
}

/// PowerPoint keeps embedded objects in `ExOleObjStg` records (type 0x1011); instance 1 means
/// zlib-compressed after a 4-byte uncompressed size. Each is an OLE2 file of its own.
fn powerpoint_objects(stream: &[u8], visitor: &mut dyn Visitor) -> Flow {
    const COMPRESSED_EX_OLE_OBJ_STG: [u8; 4] = [0x10, 0x00, 0x11, 0x10];
    let mut count = 0u64;
    for at in memchr::memmem::find_iter(stream, &COMPRESSED_EX_OLE_OBJ_STG) {
        let Some(length) = le_u32(stream, at + 4) else { break };
        let Some(record) = stream.get(at + 12..(at + 8).saturating_add(length as usize)) else { continue };
        count += 1;
        if count > visitor.max_members() {
            return Flow::Stop;
        }
        let name = format!("embedded object {count}");
        let member = match crate::limits::read_capped(
            flate2::read::ZlibDecoder::new(record),
            record.len() as u64,
            visitor.cap(),
        ) {
            Ok(object) => Member::part(name, object),
            Err(error) => Member::Failed { name, error },
        };
        if visitor.member(member) == Flow::Stop {
            return Flow::Stop;
        }
    }
    Flow::Continue
}
