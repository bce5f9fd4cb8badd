//! TNEF (`winmail.dat`, Outlook's rich text wrapper): attachment titles and data.

use super::{Flow, Member, Visitor, le_u32};
use crate::limits::ReadError;

pub const TNEF_MAGIC: &[u8] = &[0x78, 0x9f, 0x3e, 0x22];

const ATTACH_TITLE: u32 = 0x0001_8010;
const ATTACH_DATA: u32 = 0x0006_800f;

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut at = 6; // signature (4), key (2)
    let mut title: Option<String> = None;
    let mut members = 0u64;
    // Writers pad the end; fewer bytes than an attribute header are not an attribute.
    while at + 9 <= data.len() {
        let level = data[at];
        let (Some(id), Some(length)) = (le_u32(data, at + 1), le_u32(data, at + 5)) else {
            return Err(ReadError::Malformed(format!("TNEF attribute header truncated at offset {at}")));
        };
        let start = at + 9;
        let Some(value) = data.get(start..start.saturating_add(length as usize)) else {
            return Err(ReadError::Malformed(format!("TNEF attribute of {length} bytes truncated")));
        };
        at = start + length as usize + 2; // checksum
        if level != 2 {
            continue;
        }
        match id {
            ATTACH_TITLE => {
                let raw = value.strip_suffix(b"\0").unwrap_or(value);
                title = Some(crate::names::decode_raw_name(raw));
            }
            ATTACH_DATA => {
                members += 1;
                if members > visitor.max_members() {
                    return Err(ReadError::Limit(format!(
                        "TNEF holds more than {} attachments",
                        visitor.max_members()
                    )));
                }
                let name = title.take().unwrap_or_else(|| format!("attachment {members}"));
                if visitor.member(Member::file(name, value.to_vec())) == Flow::Stop {
                    break;
                }
            }
            _ => {}
        }
    }
    Ok(())
}
