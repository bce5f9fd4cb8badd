//! Payloads embedded in text: uuencoded files (`begin 644 name` ... `end`) and base64
//! `data:` URIs in HTML.

use super::{Flow, Member, Visitor};
use crate::limits::ReadError;
use memchr::memmem;

/// Every uuencoded block in `text`; returns whether any was found.
pub fn uudecode_all(text: &[u8], visitor: &mut dyn Visitor) -> Flow {
    let mut at = 0;
    while let Some(found) = memmem::find(&text[at..], b"begin ") {
        let start = at + found;
        at = start + 6;
        if start > 0 && text[start - 1] != b'\n' {
            continue;
        }
        let line_end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |e| start + e);
        let header = String::from_utf8_lossy(&text[start..line_end]);
        let mut fields = header.trim_end().splitn(3, ' ');
        let (_, mode, name) = (fields.next(), fields.next(), fields.next());
        let (Some(mode), Some(name)) = (mode, name) else { continue };
        if mode.is_empty() || !mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            continue;
        }
        let (decoded, end) = uudecode(&text[line_end.min(text.len())..]);
        at = line_end + end;
        if visitor.member(Member::file(name.to_string(), decoded)) == Flow::Stop {
            return Flow::Stop;
        }
    }
    Flow::Continue
}

/// Decodes lines up to `end` (or a line that is not uuencoded); returns bytes and how far it read.
fn uudecode(body: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut consumed = 0;
    for line in body.split_inclusive(|&b| b == b'\n') {
        consumed += line.len();
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line == b"end" || line == b"`" {
            if line == b"end" {
                break;
            }
            continue;
        }
        let length = (line[0].wrapping_sub(32) & 0x3f) as usize;
        let sextet = |c: u8| (c.wrapping_sub(32)) & 0x3f;
        let mut decoded = Vec::with_capacity(length + 3);
        for group in line[1..].chunks(4) {
            if group.len() < 4 {
                break;
            }
            let n = (sextet(group[0]) as u32) << 18
                | (sextet(group[1]) as u32) << 12
                | (sextet(group[2]) as u32) << 6
                | sextet(group[3]) as u32;
            decoded.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        }
        decoded.truncate(length);
        out.extend(decoded);
    }
    (out, consumed)
}

/// `data:...;base64,PAYLOAD` URIs in HTML.
pub fn html_data_uris(html: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut count = 0u64;
    for start in memmem::find_iter(html, b"data:") {
        let rest = &html[start..];
        let Some(comma) = memchr::memchr(b',', &rest[..rest.len().min(256)]) else { continue };
        if memmem::find(&rest[..comma], b";base64").is_none() {
            continue;
        }
        let payload = &rest[comma + 1..];
        let end = payload
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b"+/=\r\n ".contains(&b)))
            .unwrap_or(payload.len());
        count += 1;
        if count > visitor.max_members() {
            return Err(ReadError::Limit(format!("more than {} data URIs", visitor.max_members())));
        }
        let decoded = super::mime::decode_base64(&payload[..end]);
        if visitor.member(Member::part(format!("data URI {count}"), decoded)) == Flow::Stop {
            break;
        }
    }
    Ok(())
}
