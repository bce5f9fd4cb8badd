//! Old single-file encodings still met in mail and on disk: SZDD (`COMPRESS.EXE`, LZSS) and
//! BinHex 4.0.

use super::{Member, Visitor};
use crate::limits::ReadError;

pub const SZDD_MAGIC: &[u8] = b"SZDD\x88\xf0\x27\x33";
pub const BINHEX_MARKER: &[u8] = b"(This file must be converted with BinHex";

/// SZDD: 14-byte header, then LZSS with a 4 KiB window primed with spaces.
pub fn unszdd(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let body = data.get(14..).ok_or_else(|| ReadError::Malformed("SZDD header truncated".into()))?;
    let max = visitor.cap().max_bytes as usize;
    let mut window = [b' '; 4096];
    let mut position = 4096 - 16;
    let mut out = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let control = body[at];
        at += 1;
        for bit in 0..8 {
            if at >= body.len() {
                break;
            }
            if control & (1 << bit) != 0 {
                out.push(body[at]);
                window[position] = body[at];
                position = (position + 1) & 0xfff;
                at += 1;
            } else {
                let (Some(&low), Some(&high)) = (body.get(at), body.get(at + 1)) else { break };
                at += 2;
                let mut offset = (low as usize) | (((high as usize) & 0xf0) << 4);
                for _ in 0..(high as usize & 0x0f) + 3 {
                    let byte = window[offset];
                    out.push(byte);
                    window[position] = byte;
                    position = (position + 1) & 0xfff;
                    offset = (offset + 1) & 0xfff;
                }
            }
            if out.len() > max {
                visitor.member(Member::Failed {
                    name: "unszdd".into(),
                    error: ReadError::Limit(format!("expands beyond {max} bytes")),
                });
                return Ok(());
            }
        }
    }
    visitor.member(Member::part("unszdd".into(), out));
    Ok(())
}

/// BinHex 4.0: 6-bit text encoding, RLE (0x90), then a header with the name, the data fork
/// and the resource fork.
pub fn unbinhex(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    const ALPHABET: &[u8] = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
    let malformed = |what: &str| ReadError::Malformed(format!("BinHex: {what}"));
    let marker = memchr::memmem::find(data, BINHEX_MARKER).ok_or_else(|| malformed("no marker"))?;
    let after = &data[marker..];
    let start = memchr::memchr(b':', after).ok_or_else(|| malformed("no start colon"))? + 1;
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut decoded = Vec::new();
    for &c in &after[start..] {
        if c == b':' {
            break;
        }
        let Some(value) = ALPHABET.iter().position(|&a| a == c) else { continue };
        bits = (bits << 6) | value as u32;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            decoded.push((bits >> nbits) as u8);
        }
    }
    let mut expanded = Vec::with_capacity(decoded.len());
    let mut iter = decoded.iter().copied().peekable();
    while let Some(byte) = iter.next() {
        if byte == 0x90 {
            match iter.next() {
                Some(0) => expanded.push(0x90),
                Some(count) => {
                    let last = *expanded.last().ok_or_else(|| malformed("run without a byte"))?;
                    if expanded.len() + count as usize > visitor.cap().max_bytes as usize {
                        return Err(ReadError::Limit("BinHex run expands beyond the limit".into()));
                    }
                    expanded.extend(std::iter::repeat_n(last, count as usize - 1));
                }
                None => break,
            }
        } else {
            expanded.push(byte);
        }
    }
    let name_len = *expanded.first().ok_or_else(|| malformed("empty"))? as usize;
    let name = crate::names::decode_raw_name(expanded.get(1..1 + name_len).ok_or_else(|| malformed("short name"))?);
    // name, NUL, type (4), creator (4), flags (2), data length (4), resource length (4), CRC (2)
    let lengths = 1 + name_len + 1 + 4 + 4 + 2;
    let data_len = expanded.get(lengths..lengths + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let data_start = lengths + 4 + 4 + 2;
    let fork = data_len
        .and_then(|len| expanded.get(data_start..data_start + len))
        .ok_or_else(|| malformed("truncated data fork"))?;
    visitor.member(Member::file(name, fork.to_vec()));
    Ok(())
}
