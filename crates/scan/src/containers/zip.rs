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
