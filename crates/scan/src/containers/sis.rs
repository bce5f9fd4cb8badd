//! Symbian installation files (SIS, EPOC releases 3 to 6): the file records of the header,
//! each file's data zlib-compressed unless the package says otherwise.

use super::{Flow, Member, Visitor, le_u16, le_u32};
use crate::limits::{ReadError, read_capped};

/// UID2 of packages for EPOC releases 3 and 5.
const UID2_EPOC5: u32 = 0x1000_006d;
/// UID2 of EPOC release 6 packages, whose file records also carry the uncompressed size.
const UID2_EPOC6: u32 = 0x1000_3a12;
const UID3: u32 = 0x1000_0419;
/// Header option: the file data is stored, not compressed.
const NOT_COMPRESSED: u16 = 0x0008;
const UNICODE_NAMES: u16 = 0x0001;

pub fn is_sis(data: &[u8]) -> bool {
    // UID1 is the application's own; UID2 and UID3 say "installation file".
    matches!(le_u32(data, 4), Some(UID2_EPOC5 | UID2_EPOC6)) && le_u32(data, 8) == Some(UID3)
}

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let broken = || ReadError::Malformed("broken SIS header".into());
    let languages = le_u16(data, 18).ok_or_else(broken)?.max(1) as usize;
    let files = le_u16(data, 20).ok_or_else(broken)? as u64;
    let options = le_u16(data, 36).ok_or_else(broken)?;
    let mut at = le_u32(data, 52).ok_or_else(broken)? as usize;
    let epoc6 = le_u32(data, 4) == Some(UID2_EPOC6);
    if files > visitor.max_members() {
        return Err(ReadError::Limit(format!("SIS announces {files} files")));
    }
    for index in 0..files {
        let record = le_u32(data, at).ok_or_else(broken)?;
        // 0: a file, 1: a file per language; the others (options, conditions) end the list
        // of what can be found without evaluating the package's conditions.
        let per_language = match record {
            0 => 1,
            1 => languages,
            _ => break,
        };
        let name = read_name(data, at + 20, options).unwrap_or_else(|| format!("file {index}"));
        let lengths = at + 28;
        let pointers = lengths + 4 * per_language;
        let next = pointers + 4 * per_language + if epoc6 { 4 * per_language + 8 } else { 0 };
        for language in 0..per_language {
            let length = le_u32(data, lengths + 4 * language).ok_or_else(broken)? as usize;
            let offset = le_u32(data, pointers + 4 * language).ok_or_else(broken)? as usize;
            let Some(stored) = data.get(offset..offset.saturating_add(length)) else {
                let error = ReadError::Malformed("SIS file data lies outside the package".into());
                if visitor.member(Member::Failed { name: name.clone(), error }) == Flow::Stop {
                    return Ok(());
                }
                continue;
            };
            let member = if options & NOT_COMPRESSED != 0 {
                Member::file(name.clone(), stored.to_vec())
            } else {
                match read_capped(flate2::read::ZlibDecoder::new(stored), length as u64, visitor.cap()) {
                    Ok(data) => Member::file(name.clone(), data),
                    Err(error) => Member::Failed { name: name.clone(), error },
                }
            };
            if visitor.member(member) == Flow::Stop {
                return Ok(());
            }
        }
        at = next;
    }
    Ok(())
}

/// The destination name of a file record (length and offset at `at`), UTF-16 or 8-bit.
fn read_name(data: &[u8], at: usize, options: u16) -> Option<String> {
    let length = le_u32(data, at)? as usize;
    let offset = le_u32(data, at + 4)? as usize;
    let raw = data.get(offset..offset.checked_add(length.min(1024))?)?;
    let name = if options & UNICODE_NAMES != 0 {
        let units: Vec<u16> = raw.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]])).collect();
        String::from_utf16_lossy(&units)
    } else {
        crate::names::decode_raw_name(raw)
    };
    // Destinations are full device paths (`!:\system\apps\x.app`): keep the file name.
    Some(name.rsplit(['\\', '/']).next().unwrap_or(&name).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::ReadCap;
    use std::io::Write;

    struct Collect(Vec<(String, Result<Vec<u8>, String>)>);

    impl Visitor for Collect {
        fn cap(&self) -> ReadCap {
            ReadCap { max_bytes: 1 << 20, max_ratio: u64::MAX }
        }
        fn max_members(&self) -> u64 {
            100
        }
        fn member(&mut self, member: Member) -> Flow {
            match member {
                Member::Data { name, data, .. } => self.0.push((name, Ok(data))),
                Member::Unscannable { name, reason } => self.0.push((name, Err(reason))),
                Member::Failed { name, error } => self.0.push((name, Err(error.to_string()))),
            }
            Flow::Continue
        }
    }

    /// A release-6 package with one file record, its name in UTF-16, its data deflated.
    fn package(content: &[u8]) -> Vec<u8> {
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(content).unwrap();
        let packed = zlib.finish().unwrap();
        let name: Vec<u8> = "!:\\system\\apps\\x.app".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut sis = vec![0u8; 0x44];
        sis[0..4].copy_from_slice(&0x1000_1234u32.to_le_bytes());
        sis[4..8].copy_from_slice(&UID2_EPOC6.to_le_bytes());
        sis[8..12].copy_from_slice(&UID3.to_le_bytes());
        sis[18..20].copy_from_slice(&1u16.to_le_bytes());
        sis[20..22].copy_from_slice(&1u16.to_le_bytes());
        sis[36..38].copy_from_slice(&UNICODE_NAMES.to_le_bytes());
        sis[52..56].copy_from_slice(&0x44u32.to_le_bytes());
        let record_len = 28 + 4 + 4 + 4 + 8;
        let name_at = 0x44 + record_len;
        let data_at = name_at + name.len();
        for value in [0, 0, 0, 0, 0, name.len(), name_at, packed.len(), data_at, content.len(), 0, 0] {
            sis.extend_from_slice(&(value as u32).to_le_bytes());
        }
        sis.extend_from_slice(&name);
        sis.extend_from_slice(&packed);
        sis
    }

    #[test]
    fn file_records_are_inflated() {
        let sis = package(b"the program");
        assert!(is_sis(&sis));
        let mut visitor = Collect(Vec::new());
        extract(&sis, &mut visitor).unwrap();
        assert_eq!(visitor.0, vec![("x.app".to_string(), Ok(b"the program".to_vec()))]);
    }

    #[test]
    fn truncated_packages_are_errors_not_panics() {
        let sis = package(b"the program");
        for cut in 0..sis.len() {
            let _ = extract(&sis[..cut], &mut Collect(Vec::new()));
        }
    }
}
