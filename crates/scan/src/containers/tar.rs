//! POSIX/GNU tar: 512-byte headers, octal or base-256 sizes, GNU long names and pax paths.

use super::{Flow, Member, Visitor};
use crate::limits::ReadError;
use crate::names::decode_raw_name;

const BLOCK: usize = 512;

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let max_members = visitor.max_members();
    let max_bytes = visitor.cap().max_bytes;
    let mut on_file = |name: String, body: &[u8]| {
        let member = if body.len() as u64 > max_bytes {
            Member::Failed { name, error: ReadError::Limit(format!("member of {} bytes", body.len())) }
        } else {
            Member::file(name, body.to_vec())
        };
        visitor.member(member)
    };
    match walk(data, max_members, &mut on_file) {
        Err(TarError::Truncated(name)) => {
            visitor.member(Member::Failed { name, error: ReadError::Malformed("tar member truncated".into()) });
            Ok(())
        }
        Err(TarError::Read(error)) => Err(error),
        Ok(()) => Ok(()),
    }
}

pub(crate) enum TarError {
    Truncated(String),
    Read(ReadError),
}

/// Calls `on_file` with the name and content of every regular file, in order.
pub(crate) fn walk(
    data: &[u8],
    max_members: u64,
    on_file: &mut dyn FnMut(String, &[u8]) -> Flow,
) -> Result<(), TarError> {
    let mut at = 0usize;
    let mut long_name: Option<String> = None;
    let mut members = 0u64;
    while let Some(header) = data.get(at..at + BLOCK) {
        if header.iter().all(|&b| b == 0) {
            break;
        }
        if !checksum_ok(header) {
            let message = format!("tar header checksum mismatch at offset {at}");
            return Err(TarError::Read(ReadError::Malformed(message)));
        }
        let size = parse_size(&header[124..136])
            .ok_or_else(|| TarError::Read(ReadError::Malformed(format!("bad tar size field at offset {at}"))))?;
        let body_start = at + BLOCK;
        let body_end = body_start.checked_add(size as usize).filter(|&end| end <= data.len());
        let kind = header[156];
        let name = long_name.take().unwrap_or_else(|| header_name(header));
        let Some(body_end) = body_end else { return Err(TarError::Truncated(name)) };
        let body = &data[body_start..body_end];
        match kind {
            b'L' => long_name = Some(decode_raw_name(trim_nul(body))),
            b'x' => long_name = pax_path(body),
            b'0' | 0 | b'7' => {
                members += 1;
                if members > max_members {
                    let message = format!("tar holds more than {max_members} members");
                    return Err(TarError::Read(ReadError::Limit(message)));
                }
                if on_file(name, body) == Flow::Stop {
                    return Ok(());
                }
            }
            _ => {} // directories, links, devices: nothing to scan
        }
        at = body_start + (size as usize).div_ceil(BLOCK) * BLOCK;
    }
    Ok(())
}

/// Whether every byte of the archive other than its headers, long names and pax records is
/// in the content of a regular file (or is zero padding): then scanning the members sees all
/// the content the archive holds. Bodies of other entry types and data after the end are not
/// members.
pub(crate) fn members_hold_everything(data: &[u8]) -> bool {
    let all_zero = |bytes: &[u8]| bytes.iter().all(|&b| b == 0);
    let mut at = 0usize;
    while let Some(header) = data.get(at..at + BLOCK) {
        if all_zero(header) {
            break;
        }
        let Some(size) = parse_size(&header[124..136]).and_then(|s| usize::try_from(s).ok()) else { return false };
        if size > 0 && !matches!(header[156], b'0' | 0 | b'7' | b'L' | b'x') {
            return false;
        }
        let body_start = at + BLOCK;
        let body_end = body_start.checked_add(size);
        let padded_end = size.checked_next_multiple_of(BLOCK).and_then(|padded| body_start.checked_add(padded));
        let (Some(body_end), Some(padded_end)) = (body_end, padded_end) else { return false };
        match data.get(body_end..padded_end.min(data.len())) {
            Some(padding) if all_zero(padding) => {}
            _ => return false,
        }
        at = padded_end;
    }
    data.get(at..).is_none_or(all_zero)
}

fn header_name(header: &[u8]) -> String {
    let name = trim_nul(&header[0..100]);
    let prefix = trim_nul(&header[345..500]);
    if &header[257..262] == b"ustar" && !prefix.is_empty() {
        format!("{}/{}", decode_raw_name(prefix), decode_raw_name(name))
    } else {
        decode_raw_name(name)
    }
}

fn trim_nul(field: &[u8]) -> &[u8] {
    let end = memchr::memchr(0, field).unwrap_or(field.len());
    &field[..end]
}

/// Octal with NUL/space padding, or GNU base-256 when the high bit of the first byte is set.
fn parse_size(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        return field[1..].iter().try_fold(0u64, |acc, &b| acc.checked_mul(256)?.checked_add(b as u64));
    }
    let text = std::str::from_utf8(field).ok()?;
    let digits = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

fn checksum_ok(header: &[u8]) -> bool {
    let Some(stored) = parse_size(&header[148..156]) else { return false };
    let sum: u64 = header.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u64 }).sum();
    sum == stored
}

/// The `path` record of a pax extended header (`LEN path=VALUE\n`).
fn pax_path(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    text.lines().find_map(|line| line.split_once(" path=").map(|(_, path)| path.to_string()))
}
