//! Request body processors: URLENCODED, MULTIPART (in `multipart.rs`), JSON and XML, filling
//! the argument collections; a body that does not parse sets REQBODY_ERROR, it never fails the
//! engine.

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
    /// The MULTIPART_* flags, when the body was parsed as multipart.
    pub multipart: Option<crate::multipart::Flags>,
    /// Every part's `name` and `filename` (MULTIPART_NAME, MULTIPART_FILENAME).
    pub multipart_names: Vec<Vec<u8>>,
    pub multipart_filenames: Vec<Vec<u8>>,
    /// File name → contents (FILES_TMP_CONTENT).
    pub files_content: Vec<Pair>,
    /// Part headers and form fields of a multipart body, for SecRequestBodyNoFilesLimit.
    pub multipart_no_files_bytes: Option<usize>,
    /// Bytes of uploaded file contents (not counted against SecRequestBodyNoFilesLimit).
    pub file_bytes: usize,
}

const MAX_JSON_DEPTH: usize = 256;

/// What body processing needs besides the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// How many arguments SecArgumentsLimit still allows.
    pub args_room: Option<usize>,
    /// SecUploadFileLimit (0: none).
    pub upload_files: usize,
    /// SecRequestBodyJsonDepthLimit.
    pub json_depth: usize,
}

pub fn process(processor: &str, content_type: &str, body: &[u8], limits: Limits) -> Body {
    let mut b = Body::default();
    let args_room = limits.args_room;
    match processor {
        "URLENCODED" => b.urlencoded_error = parse_urlencoded(body, &mut b.args_post),
        "MULTIPART" => multipart(content_type, body, limits.upload_files, &mut b),
        // An empty JSON body is no error: libmodsecurity sets REQBODY_ERROR only for a JSON
        // parse error on a body that has bytes (its regression case for issue #1822).
        "JSON" if body.is_empty() => {}
        "JSON" => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) if json_depth(&v) > limits.json_depth => {
                b.error = Some(format!("JSON parsing error: nested deeper than {} levels", limits.json_depth));
            }
            Ok(v) => {
                flatten_json("json", &v, 0, &mut b.args_post);
                // libmodsecurity stops the JSON parser at the first argument over the limit.
                if let Some(room) = args_room
                    && b.args_post.len() > room
                {
                    b.args_post.truncate(room);
                    b.error = Some("JSON parsing error: more arguments than SecArgumentsLimit allows".into());
                }
            }
            Err(e) => b.error = Some(format!("JSON parsing error: {e}")),
        },
        "XML" => xml(body, &mut b),
        _ => {}
    }
    b
}

/// How many objects and arrays are nested at the deepest point.
fn json_depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Object(m) => 1 + m.values().map(json_depth).max().unwrap_or(0),
        serde_json::Value::Array(a) => 1 + a.iter().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
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

/// Fills the argument and file collections from the multipart parser.
fn multipart(content_type: &str, body: &[u8], upload_file_limit: usize, b: &mut Body) {
    let p = crate::multipart::parse(content_type, body, upload_file_limit);
    b.args_post = p.args;
    for (name, filename, data) in p.files {
        b.file_bytes += data.len();
        b.files_sizes.push((name.clone(), data.len().to_string().into_bytes()));
        b.files_content.push((filename.clone(), data));
        b.files.push((name, filename));
    }
    b.part_headers = p.part_headers;
    b.multipart_names = p.names;
    b.multipart_filenames = p.filenames;
    b.multipart_no_files_bytes = Some(p.no_files_bytes);
    // REQBODY_ERROR_MSG as ModSecurity words it (CRS's tests look for this text).
    b.error = p.error.map(|e| format!("Multipart parsing error: {e}"));
    b.multipart = Some(p.flags);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_parts() {
        let body = b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--xx\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.php\"\r\nContent-Type: text/plain\r\n\r\n<?php\r\n--xx--\r\n";
        let b = process(
            "MULTIPART",
            "Multipart/form-data; boundary=xx",
            body,
            Limits { json_depth: 100, ..Limits::default() },
        );
        assert_eq!(b.error, None);
        assert_eq!(b.args_post, vec![(b"a".to_vec(), b"1".to_vec())]);
        assert_eq!(b.files, vec![(b"f".to_vec(), b"x.php".to_vec())]);
        assert_eq!(b.part_headers.len(), 3);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(
            process("MULTIPART", "multipart/form-data", b"x", Limits { json_depth: 100, ..Limits::default() })
                .error
                .is_some()
        );
        assert!(
            process(
                "MULTIPART",
                "multipart/form-data; boundary=a",
                b"--a\r\nnoheaders",
                Limits { json_depth: 100, ..Limits::default() }
            )
            .error
            .is_some()
        );
        assert!(process("JSON", "", b"{\"a\":", Limits { json_depth: 100, ..Limits::default() }).error.is_some());
        assert!(process("XML", "", b"<a><b>", Limits { json_depth: 100, ..Limits::default() }).error.is_some());
        let empty = process("JSON", "application/json", b"", Limits { json_depth: 100, ..Limits::default() });
        assert_eq!(empty.error, None, "an empty JSON body is not a parse error");
        assert!(process("JSON", "", b" ", Limits { json_depth: 100, ..Limits::default() }).error.is_some());
        let j = process("JSON", "", b"{\"a\":{\"b\":[1,\"x\"]}}", Limits { json_depth: 100, ..Limits::default() });
        assert_eq!(j.args_post[1], (b"json.a.b.1".to_vec(), b"x".to_vec()));
    }
}
