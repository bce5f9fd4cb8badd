//! ZIP (and OOXML, JAR): members with Shift_JIS or UTF-8 names; encrypted members are flagged
//! because their content cannot be scanned.

use super::{Flow, Member, Visitor};
use crate::limits::{ReadError, read_capped};
use crate::names::decode_raw_name;
use std::io::Cursor;

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut archive =
        ::zip::ZipArchive::new(Cursor::new(data)).map_err(|e| ReadError::Malformed(format!("broken zip: {e}")))?;
    if archive.len() as u64 > visitor.max_members() {
        return Err(ReadError::Limit(format!("zip announces {} members", archive.len())));
    }
    for index in 0..archive.len() {
        let member = read_member(&mut archive, index, visitor);
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

fn read_member(archive: &mut ::zip::ZipArchive<Cursor<&[u8]>>, index: usize, visitor: &dyn Visitor) -> Member {
    let (name, encrypted, compressed_size, is_dir) = match archive.by_index_raw(index) {
        Ok(file) => (decode_raw_name(file.name_raw()), file.encrypted(), file.compressed_size(), file.is_dir()),
        Err(e) => {
            return Member::Failed {
                name: format!("#{index}"),
                error: ReadError::Malformed(format!("broken zip: {e}")),
            };
        }
    };
    if encrypted {
        return Member::Unscannable { name, reason: "encrypted zip member, its content cannot be scanned".into() };
    }
    if is_dir {
        return Member::part(name, Vec::new());
    }
    let file = match archive.by_index(index) {
        Ok(file) => file,
        Err(e) => return Member::Failed { name, error: ReadError::Malformed(format!("cannot open zip member: {e}")) },
    };
    match read_capped(file, compressed_size, visitor.cap()) {
        Ok(data) => Member::file(name, data),
        Err(error) => Member::Failed { name, error },
    }
}

/// Where a zip stored inside another file (a self-extracting program) starts: the first
/// local header after offset 0 that looks like one.
pub fn find_embedded(data: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(data.get(1..)?, b"PK\x03\x04").map(|at| at + 1).find(|&at| {
        let field = |offset: usize| super::le_u16(data, at + offset);
        field(4).is_some_and(|version| version <= 63)
            && field(8).is_some_and(|method| matches!(method, 0 | 8 | 9 | 12 | 14))
            && field(26).is_some_and(|name| (1..=1024).contains(&name))
    })
}

/// The members of an embedded zip, read from their local headers one after another (the
/// central directory of a stored archive need not be where the zip reader would look).
/// Returns whether any member was read; a broken zip is not reported (what looked like one
/// inside a program may not be).
pub fn extract_embedded(data: &[u8], visitor: &mut dyn Visitor) -> bool {
    let mut reader = Cursor::new(data);
    let mut count = 0u64;
    loop {
        if count >= visitor.max_members() {
            return count > 0;
        }
        let file = match ::zip::read::read_zipfile_from_stream(&mut reader) {
            Ok(Some(file)) => file,
            Ok(None) | Err(_) => return count > 0,
        };
        count += 1;
        let name = decode_raw_name(file.name_raw());
        let member = if file.encrypted() {
            Member::Unscannable { name, reason: "encrypted zip member, its content cannot be scanned".into() }
        } else if file.is_dir() {
            continue;
        } else {
            let compressed = file.compressed_size();
            match read_capped(file, compressed, visitor.cap()) {
                Ok(content) => Member::file(name, content),
                Err(error) => Member::Failed { name, error },
            }
        };
        if visitor.member(member) == Flow::Stop {
            return true;
        }
    }
}
