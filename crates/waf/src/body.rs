//! Request body processors: URLENCODED, MULTIPART, JSON and XML, filling the argument
//! collections; a body that does not parse sets REQBODY_ERROR, it never fails the engine.

use crate::request::{Pair, parse_urlencoded};

#[derive(Debug, Default)]
pub struct Body {
    pub args_post: Vec<Pair>,
    /// FILES: field name → file name.
    pub files: Vec<Pair>,
    pub files_sizes: Vec<Pair>,
    pub part_headers: Vec<Pair>,
    pub xml_text: Option<Vec<u8>>,
    /// Attribute values (`XML://@*`).
    pub xml_attrs: Vec<Vec<u8>>,
    pub error: Option<String>,
    pub urlencoded_error: bool,
    pub multipart_strict_error: bool,
    pub multipart_unmatched_boundary: bool,
}

const MAX_JSON_DEPTH: usize = 256;

pub fn process(processor: &str, content_type: &str, body: &[u8]) -> Body {
    let mut b = Body::default();
    match processor {
        "URLENCODED" => b.urlencoded_error = parse_urlencoded(body, &mut b.args_post),
        "MULTIPART" => multipart(content_type, body, &mut b),
        "JSON" => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) => flatten_json("json", &v, 0, &mut b.args_post),
            Err(e) => b.error = Some(format!("JSON parsing error: {e}")),
        },
        "XML" => xml(body, &mut b),
        _ => {}
    }
    b
}

fn flatten_json(prefix: &str, v: &serde_json::Value, depth: usize, out: &mut Vec<Pair>) {
    if depth > MAX_JSON_DEPTH {
        return;
    }
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                flatten_json(&format!("{prefix}.{k}"), v, depth + 1, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                flatten_json(&format!("{prefix}.{i}"), v, depth + 1, out);
            }
        }
        Value::String(s) => out.push((prefix.as_bytes().to_vec(), s.as_bytes().to_vec())),
        Value::Null => out.push((prefix.as_bytes().to_vec(), Vec::new())),
        other => out.push((prefix.as_bytes().to_vec(), other.to_string().into_bytes())),
    }
}

/// The text content of an XML document (what `XML:/*` yields); markup is dropped.
fn xml(body: &[u8], b: &mut Body) {
    let trimmed = body.trim_ascii();
    if !trimmed.starts_with(b"<") {
        b.error = Some("XML parsing error: document does not start with an element".into());
        return;
    }
    let mut text = Vec::new();
    let mut k = 0;
    let mut depth_open = 0i64;
    while k < trimmed.len() {
        if trimmed[k] == b'<' {
            if trimmed[k..].starts_with(b"<![CDATA[") {
                let end = memchr::memmem::find(&trimmed[k..], b"]]>").map(|p| k + p).unwrap_or(trimmed.len());
                text.extend_from_slice(&trimmed[(k + 9).min(end)..end]);
                k = end + 3;
                continue;
            }
            let end = memchr::memchr(b'>', &trimmed[k..]).map(|p| k + p);
            let Some(end) = end else {
                b.error = Some("XML parsing error: unterminated tag".into());
                return;
            };
            let tag = &trimmed[k..=end];
            if !tag.starts_with(b"</") && !tag.starts_with(b"<?") && !tag.starts_with(b"<!") {
                attributes(tag, &mut b.xml_attrs);
            }
            if tag.starts_with(b"</") {
                depth_open -= 1;
            } else if !tag.ends_with(b"/>") && !tag.starts_with(b"<?") && !tag.starts_with(b"<!") {
                depth_open += 1;
            }
            k = end + 1;
        } else {
            text.push(trimmed[k]);
            k += 1;
        }
    }
    if depth_open != 0 {
        b.error = Some("XML parsing error: unbalanced elements".into());
    }
    b.xml_text = Some(crate::transforms::Transform::HtmlEntityDecode.apply(&text).into_owned());
}

/// The values of `name="value"` pairs in a start tag.
fn attributes(tag: &[u8], out: &mut Vec<Vec<u8>>) {
    let mut k = 0;
    while let Some(p) = memchr::memchr(b'=', &tag[k..]) {
        let mut i = k + p + 1;
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&q) = tag.get(i).filter(|&&c| c == b'"' || c == b'\'') else {
            k = i;
            continue;
        };
        let Some(end) = memchr::memchr(q, &tag[i + 1..]).map(|e| i + 1 + e) else { return };
        let v = crate::transforms::Transform::HtmlEntityDecode.apply(&tag[i + 1..end]).into_owned();
        out.push(v);
        k = end + 1;
    }
}

fn boundary(content_type: &str) -> Option<String> {
    let p = content_type.to_ascii_lowercase().find("boundary")?;
    let rest = content_type[p + 8..].trim_start().strip_prefix('=')?.trim_start();
    let b =
        if let Some(q) = rest.strip_prefix('"') { q.split('"').next()? } else { rest.split([';', ' ', ',']).next()? };
    (!b.is_empty()).then(|| b.to_string())
}

fn multipart(content_type: &str, body: &[u8], b: &mut Body) {
    let Some(bnd) = boundary(content_type) else {
        b.error = Some("Multipart: boundary not found in the content type".into());
        b.multipart_strict_error = true;
        return;
    };
    let delim = format!("--{bnd}").into_bytes();
    let mut pos = match memchr::memmem::find(body, &delim) {
        Some(p) => p,
        None => {
            b.error = Some("Multipart: no boundary in the body".into());
            b.multipart_strict_error = true;
            return;
        }
    };
    let mut closed = false;
    loop {
        pos += delim.len();
        if body[pos..].starts_with(b"--") {
            closed = true;
            break;
        }
        // Skip the line end after the boundary.
        let Some(nl) = memchr::memchr(b'\n', &body[pos..]) else { break };
        let start = pos + nl + 1;
        let Some(next) = memchr::memmem::find(&body[start..], &delim).map(|p| start + p) else {
            b.multipart_unmatched_boundary = true;
            break;
        };
        let mut part = &body[start..next];
        part = part.strip_suffix(b"\r\n").or_else(|| part.strip_suffix(b"\n")).unwrap_or(part);
        one_part(part, b);
        pos = next;
    }
    if !closed {
        b.error.get_or_insert_with(|| "Multipart: final boundary missing".into());
        b.multipart_strict_error = true;
    }
}

fn one_part(part: &[u8], b: &mut Body) {
    let (head, data) = match memchr::memmem::find(part, b"\r\n\r\n") {
        Some(p) => (&part[..p], &part[p + 4..]),
        None => match memchr::memmem::find(part, b"\n\n") {
            Some(p) => (&part[..p], &part[p + 2..]),
            None => {
                b.error = Some("Multipart: part without headers".into());
                b.multipart_strict_error = true;
                return;
            }
        },
    };
    let mut name = None;
    let mut filename = None;
    let lines: Vec<&[u8]> = head.split(|&c| c == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
    for line in &lines {
        if line.len() >= 20 && line[..20].eq_ignore_ascii_case(b"content-disposition:") {
            let v = &line[20..];
            name = disposition_param(v, b"name");
            filename = disposition_param(v, b"filename");
        }
    }
    let Some(name) = name else {
        b.error = Some("Multipart: part without a name".into());
        b.multipart_strict_error = true;
        return;
    };
    for line in &lines {
        b.part_headers.push((name.clone(), line.to_vec()));
    }
    match filename {
        Some(f) => {
            b.files.push((name.clone(), f));
            b.files_sizes.push((name, data.len().to_string().into_bytes()));
        }
        None => b.args_post.push((name, data.to_vec())),
    }
}

/// `form-data; name="a"; filename="b"` → the value of `key`; quoted values may hold `;`
/// and `\"`.
fn disposition_param(v: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    while i < v.len() {
        while i < v.len() && (v[i] == b';' || v[i].is_ascii_whitespace()) {
            i += 1;
        }
        let ns = i;
        while i < v.len() && v[i] != b'=' && v[i] != b';' {
            i += 1;
        }
        let name = v[ns..i].trim_ascii();
        if i >= v.len() || v[i] == b';' {
            continue;
        }
        i += 1;
        while i < v.len() && v[i] == b' ' {
            i += 1;
        }
        let mut val = Vec::new();
        if v.get(i) == Some(&b'"') {
            i += 1;
            while i < v.len() && v[i] != b'"' {
                if v[i] == b'\\' && matches!(v.get(i + 1), Some(b'"' | b'\\')) {
                    i += 1;
                }
                val.push(v[i]);
                i += 1;
            }
            i += 1;
        } else {
            while i < v.len() && v[i] != b';' {
                val.push(v[i]);
                i += 1;
            }
            val = val.trim_ascii().to_vec();
        }
        if name.eq_ignore_ascii_case(key) {
            return Some(val);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_parts() {
        let body = b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--xx\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.php\"\r\nContent-Type: text/plain\r\n\r\n<?php\r\n--xx--\r\n";
        let b = process("MULTIPART", "Multipart/form-data; Boundary=xx", body);
        assert_eq!(b.error, None);
        assert_eq!(b.args_post, vec![(b"a".to_vec(), b"1".to_vec())]);
        assert_eq!(b.files, vec![(b"f".to_vec(), b"x.php".to_vec())]);
        assert_eq!(b.part_headers.len(), 3);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(process("MULTIPART", "multipart/form-data", b"x").error.is_some());
        assert!(process("MULTIPART", "multipart/form-data; boundary=a", b"--a\r\nnoheaders").error.is_some());
        assert!(process("JSON", "", b"{\"a\":").error.is_some());
        assert!(process("XML", "", b"<a><b>").error.is_some());
        let j = process("JSON", "", b"{\"a\":{\"b\":[1,\"x\"]}}");
        assert_eq!(j.args_post[1], (b"json.a.b.1".to_vec(), b"x".to_vec()));
    }
}
