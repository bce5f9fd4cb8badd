//! MIME messages (RFC 2045/2046) and mbox files: every leaf part decoded (base64,
//! quoted-printable) and named by its attachment name, RFC 2047/2231 encoded names included.

use super::{Flow, Member, Visitor};
use crate::limits::ReadError;
use base64::Engine;

const MAX_NESTING: u32 = 32;

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    if data.starts_with(b"From ") {
        return extract_mbox(data, visitor);
    }
    let mut counter = 0;
    walk_part(data, visitor, 0, &mut counter).map(|_| ())
}

fn extract_mbox(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let mut starts = vec![0usize];
    starts.extend(memchr::memmem::find_iter(data, b"\nFrom ").map(|at| at + 1));
    if starts.len() as u64 > visitor.max_members() {
        return Err(ReadError::Limit(format!("mbox holds more than {} messages", visitor.max_members())));
    }
    for (index, &start) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(data.len());
        let message = &data[start..end];
        let body = memchr::memchr(b'\n', message).map_or(&[][..], |nl| &message[nl + 1..]);
        let member = Member::part(format!("message {}", index + 1), body.to_vec());
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

struct Headers {
    content_type: String,
    params: Vec<(String, String)>,
    encoding: String,
    filename: Option<String>,
}

fn walk_part(part: &[u8], visitor: &mut dyn Visitor, nesting: u32, counter: &mut u32) -> Result<Flow, ReadError> {
    if nesting > MAX_NESTING {
        return Err(ReadError::Limit(format!("MIME parts nested deeper than {MAX_NESTING}")));
    }
    let (head, body) = split_head(part);
    let headers = parse_headers(head);
    if headers.content_type.starts_with("multipart/") {
        let Some(boundary) = param(&headers.params, "boundary") else {
            return Err(ReadError::Malformed("multipart part without boundary".into()));
        };
        for child in split_multipart(body, boundary.as_bytes()) {
            if walk_part(child, visitor, nesting + 1, counter)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        return Ok(Flow::Continue);
    }
    *counter += 1;
    if *counter as u64 > visitor.max_members() {
        return Err(ReadError::Limit(format!("message holds more than {} parts", visitor.max_members())));
    }
    if !matches!(headers.encoding.as_str(), "base64" | "quoted-printable") && headers.content_type.starts_with("text/")
    {
        // Plain text is already part of the scanned bytes; only files uuencoded in it are new.
        return Ok(super::embedded::uudecode_all(body, visitor));
    }
    let name = match &headers.filename {
        Some(file) => format!("part {counter}: {file}"),
        None => format!("part {counter} ({})", headers.content_type),
    };
    let decoded = match headers.encoding.as_str() {
        "base64" => decode_base64(body),
        "quoted-printable" => decode_quoted_printable(body),
        "x-uuencode" | "uuencode" | "x-uue" => return Ok(super::embedded::uudecode_all(body, visitor)),
        _ if memchr::memmem::find(body, b"begin ").is_some() && body.len() < 64 << 20 => {
            if super::embedded::uudecode_all(body, visitor) == Flow::Stop {
                return Ok(Flow::Stop);
            }
            body.to_vec()
        }
        _ => body.to_vec(),
    };
    let member = if decoded.len() as u64 > visitor.cap().max_bytes {
        Member::Failed { name, error: ReadError::Limit(format!("part of {} bytes", decoded.len())) }
    } else {
        Member::Data { name, file_name: headers.filename.clone(), data: decoded }
    };
    Ok(visitor.member(member))
}

fn split_head(part: &[u8]) -> (&[u8], &[u8]) {
    if part.starts_with(b"\r\n") {
        return (&[], &part[2..]);
    }
    if part.starts_with(b"\n") {
        return (&[], &part[1..]);
    }
    for (sep, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(at) = memchr::memmem::find(part, sep) {
            return (&part[..at], &part[at + len..]);
        }
    }
    (part, &[])
}

fn parse_headers(head: &[u8]) -> Headers {
    let text = String::from_utf8_lossy(head);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let (content_type, params) = split_params(field("content-type"));
    let (_, disposition) = split_params(field("content-disposition"));
    let filename = param(&disposition, "filename").or_else(|| param(&params, "name"));
    let content_type = if content_type.is_empty() { "text/plain".to_string() } else { content_type };
    Headers { content_type, params, encoding: field("content-transfer-encoding").to_ascii_lowercase(), filename }
}

/// `type/sub; a=b; c="d"` → (`type/sub`, [(a, b), (c, d)]); names lowercased.
fn split_params(value: &str) -> (String, Vec<(String, String)>) {
    let mut pieces = value.split(';');
    let main = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = pieces
        .filter_map(|piece| piece.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string()))
        .collect();
    (main, params)
}

/// A parameter by name, with RFC 2231 (`name*=UTF-8''...`) and RFC 2047 decoding.
fn param(params: &[(String, String)], name: &str) -> Option<String> {
    let extended = format!("{name}*");
    if let Some((_, value)) = params.iter().find(|(k, _)| *k == extended) {
        return Some(decode_rfc2231(value));
    }
    params.iter().find(|(k, _)| k == name).map(|(_, v)| decode_rfc2047(v))
}

fn decode_rfc2231(value: &str) -> String {
    let mut parts = value.splitn(3, '\'');
    let (charset, _, text) = (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(value));
    let mut bytes = Vec::new();
    let raw = text.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%'
            && let Some(byte) =
                raw.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
        {
            bytes.push(byte);
            i += 3;
            continue;
        }
        bytes.push(raw[i]);
        i += 1;
    }
    decode_charset(charset, &bytes)
}

/// `=?ISO-2022-JP?B?...?=` encoded words, common in Japanese mail.
pub(crate) fn decode_rfc2047(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        let word = &rest[start + 2..];
        let parsed = (|| {
            let (charset, word) = word.split_once('?')?;
            let (mode, word) = word.split_once('?')?;
            let end = word.find("?=")?;
            let text = &word[..end];
            let bytes = match mode.to_ascii_uppercase().as_str() {
                "B" => base64::engine::general_purpose::STANDARD.decode(text).ok()?,
                "Q" => decode_quoted_printable(text.replace('_', " ").as_bytes()),
                _ => return None,
            };
            Some((decode_charset(charset, &bytes), charset.len() + mode.len() + end + 6))
        })();
        let Some((decoded, consumed)) = parsed else { break };
        let between = &rest[..start];
        if !between.trim().is_empty() || out.is_empty() {
            out.push_str(between);
        }
        out.push_str(&decoded);
        rest = &rest[start + consumed..];
    }
    out.push_str(rest);
    out
}

fn decode_charset(charset: &str, bytes: &[u8]) -> String {
    match encoding_rs::Encoding::for_label(charset.trim().as_bytes()) {
        Some(encoding) => encoding.decode(bytes).0.into_owned(),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Bodies between `--boundary` lines, up to the closing `--boundary--`.
fn split_multipart<'a>(body: &'a [u8], boundary: &[u8]) -> Vec<&'a [u8]> {
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(boundary);
    let mut parts = Vec::new();
    let mut positions =
        memchr::memmem::find_iter(body, &delimiter).filter(|&at| at == 0 || body[at - 1] == b'\n').peekable();
    while let Some(at) = positions.next() {
        let after = at + delimiter.len();
        if body[after..].starts_with(b"--") {
            break;
        }
        let start = memchr::memchr(b'\n', &body[after..]).map_or(body.len(), |nl| after + nl + 1);
        let end = positions.peek().copied().unwrap_or(body.len());
        if start < end {
            let mut part = &body[start..end];
            part = part.strip_suffix(b"\n").unwrap_or(part);
            part = part.strip_suffix(b"\r").unwrap_or(part);
            parts.push(part);
        }
    }
    parts
}

/// Lenient base64: skips whitespace and stray characters, stops at padding.
pub(crate) fn decode_base64(body: &[u8]) -> Vec<u8> {
    let clean: Vec<u8> =
        body.iter().copied().filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/').collect();
    let usable = clean.len() - clean.len() % 4 + if clean.len() % 4 >= 2 { clean.len() % 4 } else { 0 };
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(&clean[..usable.min(clean.len())]).unwrap_or_default()
}

fn decode_quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'=' {
            if body.get(i + 1..i + 3) == Some(b"\r\n") {
                i += 3;
                continue;
            }
            if body.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            let hex = body.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_japanese_encoded_words() {
        assert_eq!(decode_rfc2047("=?UTF-8?B?6KuL5rGC5pu4LnBkZg==?="), "請求書.pdf");
        assert_eq!(decode_rfc2231("UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf"), "請求書.pdf");
    }
}
