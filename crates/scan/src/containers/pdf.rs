//! PDF: the content of every stream object, inflated when it is `/FlateDecode`, so that
//! embedded files and compressed scripts are scanned as members.

use super::{Flow, Member, Visitor};
use crate::limits::{ReadCap, ReadError, read_capped};
use memchr::memmem;

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut count = 0u64;
    let mut search_from = 0;
    while let Some(found) = memmem::find(&data[search_from..], b"stream") {
        let keyword = search_from + found;
        search_from = keyword + 6;
        if keyword >= 3 && &data[keyword - 3..keyword] == b"end" {
            continue;
        }
        let mut start = keyword + 6;
        if data[start..].starts_with(b"\r\n") {
            start += 2;
        } else if data[start..].starts_with(b"\n") || data[start..].starts_with(b"\r") {
            start += 1;
        } else {
            continue;
        }
        let dictionary = dictionary_before(&data[..keyword]);
        let Some(end) = memmem::find(&data[start..], b"endstream").map(|e| start + e) else {
            visitor.member(Member::Failed {
                name: format!("stream {}", count + 1),
                error: ReadError::Malformed("PDF stream without endstream".into()),
            });
            break;
        };
        search_from = end + 9;
        count += 1;
        if count > visitor.max_members() {
            return Err(ReadError::Limit(format!("PDF holds more than {} streams", visitor.max_members())));
        }
        let raw = stream_bytes(dictionary, &data[start..end]);
        let embedded = memmem::find(dictionary, b"/EmbeddedFile").is_some();
        let name = if embedded { format!("embedded file {count}") } else { format!("stream {count}") };
        let member = if memmem::find(dictionary, b"/FlateDecode").is_some() {
            match inflate(raw, visitor.cap()) {
                Ok(data) => Member::part(name, data),
                Err(error) => Member::Failed { name, error },
            }
        } else {
            // Unfiltered streams are scanned on their own too: hash signatures need the
            // exact bytes of an embedded file.
            Member::part(name, raw.to_vec())
        };
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// The stream's bytes: `/Length` when it is a direct number that fits, else up to
/// `endstream` without the end-of-line before it.
fn stream_bytes<'a>(dictionary: &[u8], until_endstream: &'a [u8]) -> &'a [u8] {
    if let Some(at) = memmem::find(dictionary, b"/Length") {
        let rest = &dictionary[at + 7..];
        let text = String::from_utf8_lossy(&rest[..rest.len().min(32)]).into_owned();
        let mut words = text.split(|c: char| c.is_whitespace() || c == '/' || c == '>').filter(|w| !w.is_empty());
        let number = words.next().and_then(|w| w.parse::<usize>().ok());
        let indirect = words.nth(1) == Some("R");
        if let Some(length) = number.filter(|&n| !indirect && n <= until_endstream.len()) {
            return &until_endstream[..length];
        }
    }
    let trimmed = until_endstream.strip_suffix(b"\n").unwrap_or(until_endstream);
    trimmed.strip_suffix(b"\r").unwrap_or(trimmed)
}

/// The `<< ... >>` dictionary just before a `stream` keyword (bounded look-back).
fn dictionary_before(before: &[u8]) -> &[u8] {
    let window_start = before.len().saturating_sub(4096);
    let window = &before[window_start..];
    match memmem::rfind(window, b"obj") {
        Some(at) => &window[at..],
        None => window,
    }
}

/// zlib, falling back to raw deflate: writers in the wild produce both.
fn inflate(raw: &[u8], cap: ReadCap) -> Result<Vec<u8>, ReadError> {
    match read_capped(flate2::read::ZlibDecoder::new(raw), raw.len() as u64, cap) {
        Ok(data) => Ok(data),
        Err(ReadError::Limit(reason)) => Err(ReadError::Limit(reason)),
        Err(ReadError::Malformed(_)) => read_capped(flate2::read::DeflateDecoder::new(raw), raw.len() as u64, cap),
    }
}
