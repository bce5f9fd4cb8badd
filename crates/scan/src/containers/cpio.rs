//! cpio archives in their four formats: old binary (both byte orders), odc (octal ASCII) and
//! newc/crc (hex ASCII).

use super::{Flow, Member, Visitor};
use crate::limits::ReadError;
use crate::names::decode_raw_name;

enum Format {
    Binary { big_endian: bool },
    Odc,
    Newc,
}

fn format_of(data: &[u8]) -> Option<Format> {
    match data.get(..6)? {
        b"070707" => Some(Format::Odc),
        b"070701" | b"070702" => Some(Format::Newc),
        _ => match data.get(..2)? {
            [0xc7, 0x71] => Some(Format::Binary { big_endian: false }),
            [0x71, 0xc7] => Some(Format::Binary { big_endian: true }),
            _ => None,
        },
    }
}

pub fn is_cpio(data: &[u8]) -> bool {
    format_of(data).is_some()
}

/// One header: name size, file size, header length, alignment of name and data.
struct Header {
    name_size: usize,
    file_size: usize,
    header_len: usize,
    align: usize,
    mode: u32,
}

fn parse_header(data: &[u8], format: &Format) -> Option<Header> {
    let ascii = |range: std::ops::Range<usize>, radix: u32| -> Option<usize> {
        usize::from_str_radix(std::str::from_utf8(data.get(range)?).ok()?, radix).ok()
    };
    match format {
        Format::Binary { big_endian } => {
            let word = |at: usize| -> Option<usize> {
                let b = data.get(at..at + 2)?;
                Some(if *big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) }
                    as usize)
            };
            let file_size = (word(22)? << 16) | word(24)?;
            Some(Header { name_size: word(20)?, file_size, header_len: 26, align: 2, mode: word(6)? as u32 })
        }
        Format::Odc => Some(Header {
            name_size: ascii(59..65, 8)?,
            file_size: ascii(65..76, 8)?,
            header_len: 76,
            align: 1,
            mode: ascii(18..24, 8)? as u32,
        }),
        Format::Newc => Some(Header {
            name_size: ascii(94..102, 16)?,
            file_size: ascii(54..62, 16)?,
            header_len: 110,
            align: 4,
            mode: ascii(14..22, 16)? as u32,
        }),
    }
}

fn align(value: usize, to: usize) -> usize {
    value.div_ceil(to) * to
}

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut at = 0;
    let mut members = 0u64;
    while at < data.len() {
        let rest = &data[at..];
        let format = format_of(rest).ok_or_else(|| ReadError::Malformed(format!("bad cpio header at offset {at}")))?;
        let header = parse_header(rest, &format)
            .ok_or_else(|| ReadError::Malformed(format!("truncated cpio header at offset {at}")))?;
        let name_end = header.header_len + header.name_size;
        let raw_name =
            rest.get(header.header_len..name_end).ok_or_else(|| ReadError::Malformed("cpio name truncated".into()))?;
        let name = decode_raw_name(raw_name.strip_suffix(b"\0").unwrap_or(raw_name));
        if name == "TRAILER!!!" {
            break;
        }
        let data_start = align(name_end, header.align);
        let data_end = data_start + header.file_size;
        let Some(body) = rest.get(data_start..data_end) else {
            visitor.member(Member::Failed { name, error: ReadError::Malformed("cpio member truncated".into()) });
            return Ok(());
        };
        at += align(data_end, header.align);
        const REGULAR: u32 = 0o100000;
        if header.mode & 0o170000 != REGULAR {
            continue;
        }
        members += 1;
        if members > visitor.max_members() {
            return Err(ReadError::Limit(format!("cpio holds more than {} members", visitor.max_members())));
        }
        if visitor.member(Member::file(name, body.to_vec())) == Flow::Stop {
            break;
        }
    }
    Ok(())
}
