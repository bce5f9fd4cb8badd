//! 7z: every member, decoded one block after the other (a solid block in order), within the
//! limits. Encrypted archives are flagged, since their content cannot be scanned.

use super::{Flow, Member, Visitor};
use crate::limits::{ReadError, read_capped};
use sevenz_rust2::{ArchiveReader, EncoderMethod, Error, Password};
use std::io::{Cursor, Read};

/// Largest LZMA/LZMA2 dictionary a member may make the decoder allocate up front: 7-Zip's
/// strongest preset uses 64 MiB; a larger one only costs memory for a scan.
const MAX_DICTIONARY: u64 = 64 << 20;

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut reader = match ArchiveReader::new(Cursor::new(data), Password::empty()) {
        Ok(reader) => reader,
        Err(e) if is_encryption(&e) => {
            let reason = "encrypted 7z archive (names and contents), its content cannot be scanned";
            visitor.member(Member::Unscannable { name: "7z headers".into(), reason: reason.into() });
            return Ok(());
        }
        Err(e) => return Err(ReadError::Malformed(format!("broken 7z: {e}"))),
    };
    reader.set_thread_count(1);
    let archive = reader.archive();
    if archive.files.len() as u64 > visitor.max_members() {
        return Err(ReadError::Limit(format!("7z announces {} members", archive.files.len())));
    }
    let mut encrypted = false;
    for coder in archive.blocks.iter().flat_map(|block| block.coders.iter()) {
        let id = coder.encoder_method_id();
        encrypted |= id == EncoderMethod::ID_AES256_SHA256;
        if let Some(size) = dictionary_size(id, coder.properties())
            && size > MAX_DICTIONARY
        {
            return Err(ReadError::Limit(format!("7z dictionary of {size} bytes")));
        }
    }
    if encrypted {
        for file in archive.files.iter().filter(|file| file.has_stream()) {
            let reason = "encrypted 7z member, its content cannot be scanned".to_string();
            if visitor.member(Member::Unscannable { name: file.name().to_string(), reason }) == Flow::Stop {
                break;
            }
        }
        return Ok(());
    }
    let compressed_len = data.len() as u64;
    let mut stopped = false;
    let result = reader.for_each_entries(|entry, content: &mut dyn Read| {
        if entry.is_directory() || entry.is_anti_item() {
            return Ok(true);
        }
        let name = entry.name().to_string();
        let cap = visitor.cap();
        let member = if entry.size() > cap.max_bytes {
            Member::Failed { name, error: ReadError::Limit(format!("expands beyond {} bytes", cap.max_bytes)) }
        } else {
            match read_capped(content, compressed_len, cap) {
                Ok(data) => Member::file(name, data),
                Err(error) => Member::Failed { name, error },
            }
        };
        stopped = visitor.member(member) == Flow::Stop;
        Ok(!stopped)
    });
    match result {
        Ok(()) => Ok(()),
        // A member that failed to decode was reported already; the reader then gives up on
        // its block, which says nothing new.
        Err(_) if stopped => Ok(()),
        Err(e) => Err(ReadError::Malformed(format!("broken 7z: {e}"))),
    }
}

fn is_encryption(error: &Error) -> bool {
    matches!(error, Error::PasswordRequired | Error::MaybeBadPassword(_))
        || error.to_string().to_ascii_lowercase().contains("aes")
}

/// The dictionary size an LZMA or LZMA2 coder asks for, from its properties.
fn dictionary_size(method: &[u8], properties: &[u8]) -> Option<u64> {
    if method == EncoderMethod::ID_LZMA {
        let bytes = properties.get(1..5)?;
        return Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as u64);
    }
    if method == EncoderMethod::ID_LZMA2 {
        let bits = u64::from(*properties.first()? & 0x3f);
        return Some(if bits >= 40 { u64::from(u32::MAX) } else { (2 | (bits & 1)) << (bits / 2 + 11) });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::ReadCap;
    use sevenz_rust2::{ArchiveEntry, ArchiveWriter};

    #[derive(Default)]
    struct Collect {
        members: Vec<(String, Result<Vec<u8>, String>)>,
        max_bytes: u64,
    }

    impl Visitor for Collect {
        fn cap(&self) -> ReadCap {
            ReadCap { max_bytes: self.max_bytes, max_ratio: u64::MAX }
        }
        fn max_members(&self) -> u64 {
            100
        }
        fn member(&mut self, member: Member) -> Flow {
            match member {
                Member::Data { name, data, .. } => self.members.push((name, Ok(data))),
                Member::Unscannable { name, reason } => self.members.push((name, Err(reason))),
                Member::Failed { name, error } => self.members.push((name, Err(error.to_string()))),
            }
            Flow::Continue
        }
    }

    fn archive(files: &[(&str, &[u8])], solid: bool) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut writer = ArchiveWriter::new(&mut out).expect("writer");
        if solid {
            let entries = files.iter().map(|(name, _)| ArchiveEntry::new_file(name)).collect();
            let readers = files.iter().map(|(_, data)| sevenz_rust2::SourceReader::new(*data)).collect();
            writer.push_archive_entries(entries, readers).expect("solid entries");
        } else {
            for (name, data) in files {
                writer.push_archive_entry(ArchiveEntry::new_file(name), Some(*data)).expect("entry");
            }
        }
        writer.finish().expect("finish");
        out.into_inner()
    }

    #[test]
    fn members_of_plain_and_solid_archives() {
        let files: &[(&str, &[u8])] = &[("a.txt", b"first member"), ("dir/b.bin", &[7u8; 5000])];
        for solid in [false, true] {
            let mut visitor = Collect { max_bytes: 1 << 20, ..Default::default() };
            extract(&archive(files, solid), &mut visitor).expect("archive opens");
            assert_eq!(visitor.members.len(), 2, "solid: {solid}");
            assert_eq!(visitor.members[0], ("a.txt".to_string(), Ok(b"first member".to_vec())));
            assert_eq!(visitor.members[1], ("dir/b.bin".to_string(), Ok(vec![7u8; 5000])));
        }
    }

    #[test]
    fn a_member_larger_than_the_cap_is_a_limit() {
        let big = vec![0u8; 100_000];
        let data = archive(&[("big.bin", &big)], false);
        let mut visitor = Collect { max_bytes: 10_000, ..Default::default() };
        extract(&data, &mut visitor).expect("archive opens");
        let (name, result) = &visitor.members[0];
        assert_eq!(name, "big.bin");
        assert!(result.as_ref().unwrap_err().contains("limit exceeded"), "{result:?}");
    }

    #[test]
    fn broken_archives_are_errors_not_panics() {
        let good = archive(&[("a.txt", b"some text to compress")], false);
        for cut in [6, 12, 32, good.len() / 2, good.len() - 1] {
            let mut visitor = Collect { max_bytes: 1 << 20, ..Default::default() };
            let _ = extract(&good[..cut], &mut visitor);
        }
        let mut flipped = good.clone();
        for i in 32..flipped.len() {
            flipped[i] ^= 0x55;
            let _ = extract(&flipped, &mut Collect { max_bytes: 1 << 20, ..Default::default() });
            flipped[i] ^= 0x55;
        }
    }

    #[test]
    fn dictionary_sizes() {
        assert_eq!(dictionary_size(EncoderMethod::ID_LZMA, &[0x5d, 0, 0, 0, 1]), Some(1 << 24));
        assert_eq!(dictionary_size(EncoderMethod::ID_LZMA2, &[16]), Some(1 << 20));
        assert_eq!(dictionary_size(EncoderMethod::ID_LZMA2, &[40]), Some(u64::from(u32::MAX)));
        assert_eq!(dictionary_size(EncoderMethod::ID_LZMA, &[0x5d]), None);
        assert_eq!(dictionary_size(EncoderMethod::ID_COPY, &[]), None);
    }
}
