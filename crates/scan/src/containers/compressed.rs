//! Single-stream compressors: gzip, bzip2, xz, lzma. The member keeps the outer name without
//! its compression extension (`report.pdf.gz` → `report.pdf`).

use super::{Member, Visitor};
use crate::limits::{CappedWriter, ReadError, read_capped};
use std::io::{BufReader, Cursor};

pub fn gunzip(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let decoder = flate2::read::MultiGzDecoder::new(data);
    let result = read_capped(decoder, data.len() as u64, visitor.cap());
    match gzip_original_name(data) {
        Some(name) => emit(name, true, result, visitor),
        None => emit(inner_name(visitor, &["gz", "z"], "gunzipped"), false, result, visitor),
    }
}

pub fn bunzip2(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let decoder = bzip2::read::MultiBzDecoder::new(data);
    emit(
        inner_name(visitor, &["bz2", "bz"], "bunzipped"),
        false,
        read_capped(decoder, data.len() as u64, visitor.cap()),
        visitor,
    )
}

pub fn unxz(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut writer = CappedWriter::new(data.len() as u64, visitor.cap());
    let result = lzma_rs::xz_decompress(&mut BufReader::new(Cursor::new(data)), &mut writer);
    emit(inner_name(visitor, &["xz"], "unxz"), false, finish(result, writer), visitor)
}

pub fn unlzma(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut writer = CappedWriter::new(data.len() as u64, visitor.cap());
    let result = lzma_rs::lzma_decompress(&mut BufReader::new(Cursor::new(data)), &mut writer);
    emit(inner_name(visitor, &["lzma"], "unlzma"), false, finish(result, writer), visitor)
}

fn finish(result: Result<(), lzma_rs::error::Error>, writer: CappedWriter) -> Result<Vec<u8>, ReadError> {
    match (result, writer.exceeded) {
        (_, Some(limit)) => Err(limit),
        (Ok(()), None) => Ok(writer.out),
        (Err(e), None) => Err(ReadError::Malformed(format!("cannot decompress: {e}"))),
    }
}

/// A failed stream is reported as a failed member: what was decompressed before the error is
/// not scanned, which errs on the side of an error verdict instead of a clean one.
fn emit(
    name: String,
    is_file_name: bool,
    result: Result<Vec<u8>, ReadError>,
    visitor: &mut dyn Visitor,
) -> Result<(), ReadError> {
    match result {
        Ok(data) if is_file_name => visitor.member(Member::file(name, data)),
        Ok(data) => visitor.member(Member::part(name, data)),
        Err(error) => visitor.member(Member::Failed { name, error }),
    };
    Ok(())
}

/// `report.pdf.gz` holds `report.pdf`, `logs.tgz` holds `logs.tar`; otherwise `fallback`.
fn inner_name(visitor: &dyn Visitor, extensions: &[&str], fallback: &str) -> String {
    let outer = visitor.container_name();
    if let Some((stem, ext)) = outer.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        if extensions.contains(&ext.as_str()) && !stem.is_empty() {
            return stem.to_string();
        }
        if matches!(ext.as_str(), "tgz" | "tbz2" | "txz") && !stem.is_empty() {
            return format!("{stem}.tar");
        }
    }
    fallback.to_string()
}

/// The FNAME field of a gzip header, when present.
fn gzip_original_name(data: &[u8]) -> Option<String> {
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    let flags = *data.get(3)?;
    if flags & FNAME == 0 {
        return None;
    }
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let extra = super::le_u16(data, at)? as usize;
        at += 2 + extra;
    }
    let rest = data.get(at..)?;
    let end = memchr::memchr(0, rest)?;
    Some(crate::names::decode_raw_name(&rest[..end]))
}
