//! NSIS (Nullsoft) installers: the data appended to the installer program, after its first
//! header (`flags, 0xDEADBEEF, "NullsoftInst", header size, archive size`), is a sequence of
//! blocks: the installer's script header, then each installed file. Non-solid archives
//! store each block as `u32 length` (high bit: compressed) and the bytes; solid ones
//! compress the whole sequence as one stream. Compression is LZMA, zlib (raw deflate) or
//! bzip2, guessed from the data as ClamAV does. The script is not interpreted: every block
//! is a member (`headers`, `content.001`, ...), which is all a scan needs.

use super::{Flow, Member, Visitor, le_u32};
use crate::limits::{CappedWriter, ReadCap, ReadError, read_capped};
use std::io::{Read, Write};

/// The signature of the first header, after its 4-byte flags.
const MAGIC: &[u8] = b"\xef\xbe\xad\xdeNullsoftInst";
const FIRST_HEADER: usize = 0x1c;
const COMPRESSED: u32 = 0x8000_0000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Lzma,
    Zlib,
    Bzip2,
}

/// Where the first header of an NSIS archive starts in `data`, if it holds one.
pub fn find(data: &[u8]) -> Option<usize> {
    let at = memchr::memmem::find(data, MAGIC)?;
    at.checked_sub(4)
}

/// Visits the blocks of the NSIS archive whose first header is at `offset`.
pub fn extract(data: &[u8], offset: usize, visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let header = data.get(offset..offset + FIRST_HEADER).ok_or_else(|| malformed("truncated first header"))?;
    let archive_size = le_u32(header, 0x18).unwrap_or(0) as usize;
    // A truncated installer is read as far as it goes.
    let end = offset.saturating_add(archive_size).min(data.len());
    let body = data.get(offset + FIRST_HEADER..end).ok_or_else(|| malformed("archive smaller than its header"))?;
    let (solid, method) = guess_layout(body);
    if solid { extract_solid(body, method, visitor) } else { extract_blocks(body, method, visitor) }
}

fn malformed(why: &str) -> ReadError {
    ReadError::Malformed(format!("NSIS: {why}"))
}

fn detect(block: &[u8]) -> Method {
    if block.first() == Some(&b'1') {
        Method::Bzip2
    } else if le_u32(block, 0).is_some_and(|v| v & !COMPRESSED == 0x5d) {
        Method::Lzma
    } else {
        Method::Zlib
    }
}

/// ClamAV's guess: walk the blocks as if non-solid; when one would run past the end, the
/// archive is solid. The method is the one most compressed blocks look like (solid: the
/// first bytes').
fn guess_layout(body: &[u8]) -> (bool, Method) {
    let mut votes = [0usize; 3];
    let mut pos = 0usize;
    let first = detect(body);
    // The last 4 bytes are the archive's CRC, not a block.
    while pos + 4 < body.len() {
        let Some(word) = le_u32(body, pos) else { break };
        let size = (word & !COMPRESSED) as usize;
        if word & COMPRESSED != 0
            && let Some(block) = body.get(pos + 4..)
        {
            votes[detect(block) as usize] += 1;
        }
        match pos.checked_add(4 + size) {
            Some(next) if next <= body.len() => pos = next,
            _ => return (true, first),
        }
    }
    let method = [Method::Lzma, Method::Zlib, Method::Bzip2]
        .into_iter()
        .max_by_key(|m| (votes[*m as usize], matches!(m, Method::Zlib)))
        .unwrap_or(Method::Zlib);
    (false, method)
}

fn block_name(index: usize) -> String {
    if index == 0 { "nsis/headers".to_string() } else { format!("nsis/content.{index:03}") }
}

fn extract_blocks(body: &[u8], method: Method, visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut pos = 0usize;
    let mut index = 0usize;
    while pos + 4 <= body.len() {
        if index as u64 >= visitor.max_members() {
            return Err(ReadError::Limit(format!("more than {} NSIS blocks", visitor.max_members())));
        }
        let word = le_u32(body, pos).unwrap_or(0);
        let size = (word & !COMPRESSED) as usize;
        let Some(block) = pos.checked_add(4).and_then(|start| body.get(start..start.checked_add(size)?)) else {
            break;
        };
        pos += 4 + size;
        let name = block_name(index);
        index += 1;
        if size == 0 {
            continue;
        }
        let member = if word & COMPRESSED == 0 {
            Member::part(name, block.to_vec())
        } else {
            match decompress(block, method, visitor.cap()) {
                Ok(out) => Member::part(name, out),
                Err(error) => Member::Failed { name, error },
            }
        };
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// A solid archive: one stream holding `u32 length` and bytes for each block.
fn extract_solid(body: &[u8], method: Method, visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let stream = match decompress(body, method, visitor.cap()) {
        Ok(stream) => stream,
        Err(error) => {
            visitor.member(Member::Failed { name: "nsis/solid".into(), error });
            return Ok(());
        }
    };
    let mut pos = 0usize;
    let mut index = 0usize;
    while let Some(size) = le_u32(&stream, pos) {
        if index as u64 >= visitor.max_members() {
            return Err(ReadError::Limit(format!("more than {} NSIS blocks", visitor.max_members())));
        }
        let size = size as usize;
        let start = pos + 4;
        // The last block may be cut short by a truncated stream: scan what there is.
        let block = &stream[start..start.saturating_add(size).min(stream.len())];
        pos = start.saturating_add(size);
        let name = block_name(index);
        index += 1;
        if !block.is_empty() && visitor.member(Member::part(name, block.to_vec())) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

fn decompress(block: &[u8], method: Method, cap: ReadCap) -> Result<Vec<u8>, ReadError> {
    match method {
        Method::Zlib => read_capped(flate2::read::DeflateDecoder::new(block), block.len() as u64, cap),
        Method::Bzip2 => {
            // NSIS leaves out bzip2's stream header; the blocks are standard.
            let stream = [&b"BZh9"[..], block].concat();
            read_capped(bzip2::read::BzDecoder::new(&stream[..]), block.len() as u64, cap)
        }
        Method::Lzma => {
            // Properties (5 bytes), then the raw stream: no size, often no end marker.
            let (&props, rest) = block.split_first().ok_or_else(|| malformed("empty LZMA block"))?;
            let dict_size = le_u32(rest, 0).ok_or_else(|| malformed("truncated LZMA properties"))?;
            // Matches never reach further back than the output goes, which the cap bounds.
            let dict_size = dict_size.clamp(4096, MAX_DICTIONARY.min(cap.max_bytes.max(4096) as u32));
            let mut reader = lzma_rust2::LzmaReader::new_with_props(&rest[4..], u64::MAX, props, dict_size, None)
                .map_err(|e| malformed(&format!("bad LZMA properties: {e}")))?;
            reader.set_defer_errors(true);
            read_partial(reader, block.len() as u64, cap)
        }
    }
}

/// Largest LZMA dictionary allocated for a block.
const MAX_DICTIONARY: u32 = 64 << 20;

/// Like `read_capped`, but a stream that breaks after some output (NSIS streams usually end
/// without an end marker) gives that output.
fn read_partial(mut reader: impl Read, compressed_len: u64, cap: ReadCap) -> Result<Vec<u8>, ReadError> {
    let mut writer = CappedWriter::new(compressed_len, cap);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return Ok(writer.out),
            Ok(n) => {
                if writer.write_all(&chunk[..n]).is_err() {
                    return Err(writer.exceeded.unwrap_or_else(|| malformed("write failed")));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) if !writer.out.is_empty() => return Ok(writer.out),
            Err(e) => return Err(malformed(&format!("cannot decompress: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::test_support::Collect;

    fn archive(blocks: &[u8]) -> Vec<u8> {
        let mut data = b"MZ-program-".to_vec();
        let offset = data.len();
        data.extend_from_slice(&0u32.to_le_bytes());
        data.extend_from_slice(MAGIC);
        data.extend_from_slice(&0x100u32.to_le_bytes());
        data.extend_from_slice(&((FIRST_HEADER + blocks.len()) as u32).to_le_bytes());
        data.extend_from_slice(blocks);
        assert_eq!(find(&data), Some(offset));
        data
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn non_solid_zlib_and_stored_blocks() {
        let mut blocks = Vec::new();
        for content in [&b"script header"[..], b"first file contents"] {
            let packed = deflate(content);
            blocks.extend_from_slice(&(packed.len() as u32 | COMPRESSED).to_le_bytes());
            blocks.extend_from_slice(&packed);
        }
        blocks.extend_from_slice(&5u32.to_le_bytes());
        blocks.extend_from_slice(b"plain");
        let data = archive(&blocks);
        let mut visitor = Collect::default();
        extract(&data, find(&data).unwrap(), &mut visitor).unwrap();
        let names: Vec<&str> = visitor.0.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["nsis/headers", "nsis/content.001", "nsis/content.002"]);
        assert_eq!(visitor.0[1].1, b"first file contents");
        assert_eq!(visitor.0[2].1, b"plain");
    }

    #[test]
    fn solid_zlib() {
        let mut inner = Vec::new();
        for content in [&b"hdr"[..], b"the file"] {
            inner.extend_from_slice(&(content.len() as u32).to_le_bytes());
            inner.extend_from_slice(content);
        }
        let data = archive(&deflate(&inner));
        let mut visitor = Collect::default();
        extract(&data, find(&data).unwrap(), &mut visitor).unwrap();
        assert_eq!(visitor.0.len(), 2);
        assert_eq!(visitor.0[1].1, b"the file");
    }

    #[test]
    fn truncated_and_garbage_input_is_an_error_not_a_panic() {
        let data = archive(&deflate(b"0123456789abcdef0123456789abcdef"));
        let start = find(&data).unwrap();
        for cut in 0..data.len() {
            let mut visitor = Collect::default();
            let _ = extract(&data[..cut], start.min(cut), &mut visitor);
        }
        let mut garbage = archive(&[0xff; 64]);
        let start = find(&garbage).unwrap();
        let mut visitor = Collect::default();
        let _ = extract(&garbage, start, &mut visitor);
        garbage.truncate(start + 10);
        assert!(extract(&garbage, start, &mut visitor).is_err());
        // An LZMA-looking block of noise.
        let mut blocks = (40u32 | COMPRESSED).to_le_bytes().to_vec();
        blocks.extend_from_slice(&[0x5d, 0, 0, 0x80, 0]);
        blocks.extend((0..35u8).map(|i| i.wrapping_mul(97)));
        let data = archive(&blocks);
        let _ = extract(&data, find(&data).unwrap(), &mut visitor);
    }
}
