//! RTF: objects embedded with `\objdata` (hex-encoded OLE1 objects). A `Package` object is
//! unwrapped to the file it carries; other classes (e.g. Word documents) are OLE2 files.

use super::{Flow, Member, Visitor, le_u32};
use crate::limits::ReadError;
use memchr::memmem;

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut count = 0u64;
    for start in memmem::find_iter(data, b"\\objdata") {
        count += 1;
        if count > visitor.max_members() {
            return Err(ReadError::Limit(format!("more than {} embedded objects", visitor.max_members())));
        }
        let bytes = decode_hex(&data[start + 8..], visitor.cap().max_bytes as usize);
        let member = match ole1_native(&bytes) {
            Some((class, native)) if class.eq_ignore_ascii_case("Package") => {
                let mut stream = (native.len() as u32).to_le_bytes().to_vec();
                stream.extend_from_slice(native);
                super::ole2::unwrap_ole10_native(&format!("object {count}"), stream)
            }
            Some((class, native)) => Member::part(format!("object {count} ({class})"), native.to_vec()),
            None => Member::part(format!("object {count}"), bytes),
        };
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// Hex digits up to the end of the group, skipping whitespace and control words.
fn decode_hex(text: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut high: Option<u8> = None;
    let mut at = 0;
    while at < text.len() && out.len() < max {
        let c = text[at];
        at += 1;
        match c {
            b'}' => break,
            b'\\' | b'{' => {
                while at < text.len() && text[at].is_ascii_alphanumeric() {
                    at += 1;
                }
            }
            _ => {
                let Some(nibble) = (c as char).to_digit(16) else { continue };
                match high.take() {
                    Some(h) => out.push((h << 4) | nibble as u8),
                    None => high = Some(nibble as u8),
                }
            }
        }
    }
    out
}

/// OLE1 object: version, format, class name, topic, item, native data.
fn ole1_native(object: &[u8]) -> Option<(String, &[u8])> {
    let mut at = 8;
    let string = |at: &mut usize| -> Option<String> {
        let length = le_u32(object, *at)? as usize;
        let raw = object.get(*at + 4..*at + 4 + length)?;
        *at += 4 + length;
        Some(String::from_utf8_lossy(raw.strip_suffix(b"\0").unwrap_or(raw)).into_owned())
    };
    let class = string(&mut at)?;
    string(&mut at)?;
    string(&mut at)?;
    let size = le_u32(object, at)? as usize;
    let native = object.get(at + 4..at + 4 + size)?;
    Some((class, native))
}
