//! The multipart/form-data body processor, strict in the way libmodsecurity is: the body is
//! read in lines (at most 4 KiB each), and every irregularity that parsers disagree on is
//! recorded as a MULTIPART_* flag rather than silently repaired, so that rules (CRS 920120,
//! modsecurity.conf's 200003) can refuse what a back end might read differently.

use crate::request::Pair;

/// libmodsecurity's line buffer: longer lines are handled in pieces of this size.
const LINE_BUF: usize = 4096;

/// The MULTIPART_* variables, 0 or 1 each (`unmatched_boundary` may be 2, see below).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Flags {
    /// Any error that stopped parsing (REQBODY_ERROR is set too).
    pub error: bool,
    pub boundary_quoted: bool,
    pub boundary_whitespace: bool,
    pub data_before: bool,
    pub data_after: bool,
    pub header_folding: bool,
    pub invalid_header_folding: bool,
    pub lf_line: bool,
    pub crlf_line: bool,
    pub missing_semicolon: bool,
    pub invalid_quoting: bool,
    pub invalid_part: bool,
    pub file_limit_exceeded: bool,
    /// 1: a line that looks like a boundary did not match; 2: it did not match, but the real
    /// boundary was seen again after it (for rules that only want to refuse the former).
    pub unmatched_boundary: u8,
}

impl Flags {
    /// MULTIPART_STRICT_ERROR.
    pub fn strict_error(&self) -> bool {
        self.error
            || self.boundary_quoted
            || self.boundary_whitespace
            || self.data_before
            || self.data_after
            || self.header_folding
            || self.lf_line
            || self.missing_semicolon
            || self.invalid_quoting
            || self.invalid_part
            || self.invalid_header_folding
            || self.file_limit_exceeded
    }

    /// MULTIPART_CRLF_LF_LINES: both line endings were used.
    pub fn mixed_line_endings(&self) -> bool {
        self.crlf_line && self.lf_line
    }
}

/// What a multipart body yields.
#[derive(Debug, Default)]
pub struct Parsed {
    pub flags: Flags,
    /// The first error, as REQBODY_ERROR_MSG shows it.
    pub error: Option<String>,
    /// Form fields (name, value).
    pub args: Vec<Pair>,
    /// File parts: (field name, file name, contents).
    pub files: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    /// Every part's `name` and `filename` values, in order (MULTIPART_NAME, MULTIPART_FILENAME).
    pub names: Vec<Vec<u8>>,
    pub filenames: Vec<Vec<u8>>,
    /// (field name, `Header: value`) of every part (MULTIPART_PART_HEADERS).
    pub part_headers: Vec<Pair>,
    /// Bytes of part headers and form fields: what SecRequestBodyNoFilesLimit limits.
    pub no_files_bytes: usize,
}

#[derive(Default)]
struct Part {
    /// Header name → value, folded lines joined with a space.
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    last_header: Option<usize>,
    /// False while reading headers.
    in_data: bool,
    is_file: bool,
    name: Option<Vec<u8>>,
    filename: Option<Vec<u8>>,
    data: Vec<u8>,
    /// The line end held back from the previous data line: it belongs to the data only if
    /// more data follows (the one before a boundary does not).
    held: Vec<u8>,
}

struct Parser {
    boundary: Vec<u8>,
    out: Parsed,
    part: Option<Part>,
    boundaries_seen: usize,
    complete: bool,
    /// The piece being processed starts a line (the previous one ended with LF).
    at_line_start: bool,
    /// An unterminated last line, left unprocessed as libmodsecurity leaves it in its buffer.
    pending: Vec<u8>,
    upload_file_limit: usize,
}

/// Parses `body` as sent with `content_type` (as the client wrote it: the boundary is
/// case-sensitive). `upload_file_limit` is SecUploadFileLimit (0: none).
pub fn parse(content_type: &str, body: &[u8], upload_file_limit: usize) -> Parsed {
    let mut out = Parsed::default();
    let boundary = match boundary(content_type, &mut out.flags) {
        Ok(b) => b,
        Err(e) => {
            out.flags.error = true;
            out.error = Some(e);
            return out;
        }
    };
    let mut p = Parser {
        boundary,
        out,
        part: None,
        boundaries_seen: 0,
        complete: false,
        at_line_start: true,
        pending: Vec::new(),
        upload_file_limit,
    };
    if let Err(e) = p.process(body) {
        p.out.flags.error = true;
        p.out.error = Some(e);
    }
    p.finish(!body.is_empty());
    p.out
}

/// The boundary of `multipart/form-data; boundary=...`, with the C-T irregularities flagged.
fn boundary(ct: &str, flags: &mut Flags) -> Result<Vec<u8>, String> {
    let err = |what: &str| Err(format!("Multipart: Invalid boundary in C-T ({what})."));
    if ct.is_empty() {
        return Err("Multipart: Content-Type header not available.".into());
    }
    if ct.len() > 1024 {
        return err("length");
    }
    if !ct.get(..19).is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data")) {
        return Err("Multipart: Invalid MIME type.".into());
    }
    if count_boundary_params(ct) > 1 {
        return Err("Multipart: Multiple boundary parameters in C-T.".into());
    }
    // The parameter name is matched case-sensitively, as libmodsecurity does.
    let Some(at) = ct.find("boundary") else {
        return if count_boundary_params(ct) > 0 {
            err("case sensitivity")
        } else {
            Err("Multipart: Boundary not found in C-T.".into())
        };
    };
    let b = ct.as_bytes();
    let mut semicolon = false;
    for &c in &b[19..at] {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b';' && !semicolon {
            semicolon = true;
        } else {
            return err("malformed");
        }
    }
    flags.missing_semicolon = !semicolon;
    let Some(eq) = ct[at + 8..].find('=').map(|p| at + 8 + p) else { return err("malformed") };
    for &c in &b[at + 8..eq] {
        if c.is_ascii_whitespace() {
            flags.boundary_whitespace = true;
        } else {
            return err("parameter name");
        }
    }
    let value = &b[eq + 1..];
    if value.first().is_some_and(u8::is_ascii_whitespace) {
        flags.boundary_whitespace = true;
    }
    let quoted = value.len() >= 2 && value[0] == b'"' && value[value.len() - 1] == b'"';
    let boundary = if quoted {
        flags.boundary_quoted = true;
        &value[1..value.len() - 1]
    } else {
        if value.first() == Some(&b'"') || (value.len() >= 2 && value[value.len() - 1] == b'"') {
            return err("quote");
        }
        // Parameters after the boundary (`; charset=UTF-8`) are tolerated, as libmodsecurity does.
        match memchr::memchr(b';', value) {
            Some(p) => &value[..p],
            None => value,
        }
    };
    if count_boundary_params(&String::from_utf8_lossy(boundary)) != 0 {
        return err("content");
    }
    if boundary.is_empty() {
        return err("empty");
    }
    if !boundary_characters_valid(boundary) {
        return err("characters");
    }
    Ok(boundary.to_vec())
}

/// How often `boundary` followed (somewhere) by `=` appears, in any case.
fn count_boundary_params(s: &str) -> usize {
    let lower = s.to_ascii_lowercase();
    let mut n = 0;
    let mut rest = lower.as_str();
    while let Some(p) = rest.find("boundary") {
        rest = &rest[p + 8..];
        if rest.contains('=') {
            n += 1;
        }
    }
    n
}

/// RFC 2046's boundary characters (a space, but not at the end).
fn boundary_characters_valid(b: &[u8]) -> bool {
    b.iter()
        .enumerate()
        .all(|(i, &c)| c.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&c) || (c == b' ' && i + 1 < b.len()))
}

impl Parser {
    /// Cuts the body into the pieces libmodsecurity looks at: lines, or 4 KiB of a longer one
    /// (never ending a piece with a CR, so that a CRLF is not split).
    fn process(&mut self, body: &[u8]) -> Result<(), String> {
        let mut rest = body;
        while !rest.is_empty() {
            let window = &rest[..rest.len().min(LINE_BUF)];
            let mut len = match memchr::memchr(b'\n', window) {
                Some(p) => p + 1,
                None if rest.len() < LINE_BUF => {
                    // The unterminated last line is left for `finish`.
                    self.pending = rest.to_vec();
                    return Ok(());
                }
                None => LINE_BUF,
            };
            let full_piece = len == LINE_BUF && window[len - 1] != b'\n';
            if full_piece && window[len - 1] == b'\r' {
                len -= 1;
            }
            let piece = &rest[..len];
            rest = &rest[len..];
            self.piece(piece, full_piece)?;
            self.at_line_start = piece.last() == Some(&b'\n');
            if self.complete && !rest.is_empty() {
                self.out.flags.data_after = true;
                return Ok(());
            }
        }
        Ok(())
    }
}

impl Parser {
    /// One line (or piece of a long line); `cut` when it is a 4 KiB piece of a longer line.
    fn piece(&mut self, line: &[u8], cut: bool) -> Result<(), String> {
        let blen = self.boundary.len();
        let looks_like_boundary = self.at_line_start && line.len() > 3 && line.starts_with(b"--");
        if looks_like_boundary && line[2..].starts_with(&self.boundary) {
            if self.out.flags.unmatched_boundary == 1 && self.boundaries_seen > 0 {
                self.out.flags.unmatched_boundary = 2;
            }
            let mut end = &line[2 + blen..];
            let last = end.starts_with(b"--");
            if last {
                end = &end[2..];
                if self.complete {
                    return Err("Multipart: Invalid boundary (final duplicate).".into());
                }
            }
            match end {
                b"\r\n" => self.out.flags.crlf_line = true,
                b"\n" => self.out.flags.lf_line = true,
                _ => return Err(format!("Multipart: Invalid boundary: {}", String::from_utf8_lossy(line))),
            }
            self.close_part(last);
            if last {
                self.complete = true;
            }
            self.boundaries_seen += 1;
            return Ok(());
        }
        if looks_like_boundary {
            let after = &line[2..];
            if self.out.flags.boundary_quoted && after.first() == Some(&b'"') && after[1..].starts_with(&self.boundary)
            {
                return Err("Multipart: Invalid boundary (quotes).".into());
            }
            let trimmed = after.trim_ascii_start();
            if trimmed.len() != after.len() && trimmed.starts_with(&self.boundary) {
                return Err("Multipart: Invalid boundary (whitespace).".into());
            }
            self.out.flags.unmatched_boundary = 1;
        } else if self.at_line_start && contains_dashes_then(line, &self.boundary) {
            self.out.flags.unmatched_boundary = 1;
        }
        let Some(part) = &mut self.part else {
            self.out.flags.data_before = true;
            return Ok(());
        };
        if part.in_data {
            self.data(line);
            return Ok(());
        }
        if cut {
            return Err(format!("Multipart: Part header line over {LINE_BUF} bytes long"));
        }
        self.header_line(line)
    }

    fn header_line(&mut self, line: &[u8]) -> Result<(), String> {
        if line.contains(&0) {
            return Err("Multipart: Nul byte in part headers.".into());
        }
        self.out.no_files_bytes += line.len();
        if line.len() > 1 && line[line.len() - 2] == b'\r' {
            self.out.flags.crlf_line = true;
        } else {
            self.out.flags.lf_line = true;
        }
        if line == b"\r\n" || line == b"\n" {
            return self.end_of_headers();
        }
        let flags = &mut self.out.flags;
        let part = self.part.as_mut().expect("headers are read inside a part");
        let text = chomp(line);
        if line[0].is_ascii_whitespace() {
            // A folded header continues the previous one.
            flags.header_folding = true;
            let lead = text.iter().take_while(|c| c.is_ascii_whitespace()).count();
            if text[..lead].iter().any(|&c| c != b' ' && c != b'\t') {
                flags.invalid_header_folding = true;
            }
            let Some(last) = part.last_header else {
                return Err("Multipart: Invalid part header (folding error).".into());
            };
            let value = &mut part.headers[last].1;
            value.push(b' ');
            value.extend_from_slice(&text[lead..]);
            if value.len() > LINE_BUF {
                return Err("Multipart: Part header too long.".into());
            }
            return Ok(());
        }
        let Some(colon) = memchr::memchr(b':', text) else {
            return Err(format!("Multipart: Invalid part header (colon missing): {}", String::from_utf8_lossy(line)));
        };
        if colon == 0 {
            return Err("Multipart: Invalid part header (header name missing).".into());
        }
        if !text[..colon].iter().all(|&c| is_token_char(c)) {
            return Err("Multipart: Invalid part header (contains invalid character).".into());
        }
        let name = text[..colon].to_vec();
        let value = text[colon + 1..].iter().skip_while(|&&c| c == b' ' || c == b'\t').copied().collect();
        // Part header names compare case-insensitively (`Content-disposition` is common).
        if part.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            return Err(format!("Multipart: Duplicate part header: {}.", String::from_utf8_lossy(&name)));
        }
        part.headers.push((name, value));
        part.last_header = Some(part.headers.len() - 1);
        Ok(())
    }

    /// The empty line after a part's headers: its Content-Disposition decides what it is.
    fn end_of_headers(&mut self) -> Result<(), String> {
        let part = self.part.as_mut().expect("headers are read inside a part");
        let Some((_, cd)) = part.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(b"Content-Disposition")) else {
            return Err("Multipart: Part missing Content-Disposition header.".into());
        };
        let cd = cd.clone();
        let mut parsed = Disposition::default();
        if let Err(code) = content_disposition(&cd, &mut parsed, &mut self.out.flags.invalid_quoting) {
            return Err(format!(
                "Multipart: Invalid Content-Disposition header ({code}): {}",
                String::from_utf8_lossy(&cd)
            ));
        }
        self.out.names.extend(parsed.name.clone());
        self.out.filenames.extend(parsed.filename.clone());
        (part.name, part.filename) = (parsed.name, parsed.filename);
        let Some(name) = part.name.clone() else {
            return Err("Multipart: Content-Disposition header missing name field.".into());
        };
        if part.filename.is_some() {
            // A crude parser that looks for `filename=` would miss this file: refuse it.
            if memchr::memmem::find(&cd, b"filename=").is_none() {
                return Err("Multipart: Invalid Content-Disposition header (filename).".into());
            }
            part.is_file = true;
        }
        for (n, v) in &part.headers {
            let mut line = n.clone();
            line.extend_from_slice(b": ");
            line.extend_from_slice(v);
            self.out.part_headers.push((name.clone(), line));
        }
        part.in_data = true;
        part.last_header = None;
        Ok(())
    }

    fn data(&mut self, line: &[u8]) {
        let part = self.part.as_mut().expect("data is read inside a part");
        // The line end is held back: before a boundary it is not part of the data.
        let held = if line.ends_with(b"\r\n") {
            2
        } else if line.ends_with(b"\n") {
            1
        } else {
            0
        };
        let held_before = std::mem::take(&mut part.held);
        if !part.is_file {
            self.out.no_files_bytes += held_before.len() + line.len() - held;
        }
        part.data.extend_from_slice(&held_before);
        part.data.extend_from_slice(&line[..line.len() - held]);
        part.held = line[line.len() - held..].to_vec();
    }

    /// A boundary ends the part being read; unless it is the last, another begins.
    fn close_part(&mut self, last: bool) {
        if let Some(part) = self.part.take() {
            match (part.name, part.is_file) {
                (None, _) => self.out.flags.invalid_part = true,
                (Some(name), true) => {
                    if self.upload_file_limit > 0 && self.out.files.len() >= self.upload_file_limit {
                        self.out.flags.file_limit_exceeded = true;
                    }
                    self.out.files.push((name, part.filename.unwrap_or_default(), part.data));
                }
                (Some(name), false) => self.out.args.push((name, part.data)),
            }
        }
        if !last {
            self.part = Some(Part::default());
        }
    }

    /// The end of the body: a final boundary without its line end still counts.
    fn finish(&mut self, seen_data: bool) {
        if !seen_data || self.complete {
            return;
        }
        if self.boundaries_seen == 0 {
            self.fail("Multipart: No boundaries found in payload.");
            return;
        }
        let mut last = b"--".to_vec();
        last.extend_from_slice(&self.boundary);
        last.extend_from_slice(b"--");
        if self.at_line_start && self.pending == last {
            self.close_part(true);
            self.complete = true;
        } else {
            self.fail("Multipart: Final boundary missing.");
        }
    }

    fn fail(&mut self, why: &str) {
        self.out.error.get_or_insert_with(|| why.to_string());
    }
}

/// `--` followed by the boundary anywhere in the line (a boundary not at the line start).
fn contains_dashes_then(line: &[u8], boundary: &[u8]) -> bool {
    memchr::memmem::find_iter(line, b"--").any(|p| line[p + 2..].starts_with(boundary))
}

/// The line without its CRLF or LF.
fn chomp(line: &[u8]) -> &[u8] {
    let l = line.strip_suffix(b"\n").unwrap_or(line);
    l.strip_suffix(b"\r").unwrap_or(l)
}

fn is_token_char(c: u8) -> bool {
    c > 32 && c < 127 && !b"()<>@,;:\\\"/[]?=".contains(&c)
}

/// The parameters of a part's Content-Disposition.
#[derive(Default)]
struct Disposition {
    name: Option<Vec<u8>>,
    filename: Option<Vec<u8>>,
    encoded_filename: Option<Vec<u8>>,
}

/// Parses `form-data; name="a"; filename="b"`; anything else is an error with
/// libmodsecurity's code (shown in REQBODY_ERROR_MSG).
fn content_disposition(v: &[u8], out: &mut Disposition, invalid_quoting: &mut bool) -> Result<(), i32> {
    if !v.starts_with(b"form-data") {
        return Err(-1);
    }
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    let skip_ws = |mut i: usize| {
        while at(i) == b' ' || at(i) == b'\t' {
            i += 1;
        }
        i
    };
    let mut i = skip_ws(9);
    if at(i) == 0 {
        return Ok(());
    }
    if at(i) != b';' {
        return Err(-2);
    }
    i += 1;
    while at(i) != 0 {
        i = skip_ws(i);
        if at(i) == 0 {
            return Err(-3);
        }
        let start = i;
        while !matches!(at(i), 0 | b'=' | b'\t' | b' ') {
            i += 1;
        }
        if at(i) == 0 {
            return Err(-4);
        }
        let name = &v[start..i];
        i = skip_ws(i);
        if at(i) == 0 {
            return Err(-5);
        }
        if at(i) != b'=' {
            return Err(-13);
        }
        i = skip_ws(i + 1);
        if at(i) == 0 {
            return Err(-6);
        }
        let mut value = Vec::new();
        if at(i) == b'"' || at(i) == b'\'' {
            let quote = at(i);
            if quote == b'\'' {
                *invalid_quoting = true;
            }
            i += 1;
            if at(i) == 0 {
                return Err(-7);
            }
            while at(i) != 0 {
                if at(i) == b'\\' {
                    if at(i + 1) == 0 {
                        return Err(-8);
                    }
                    // Only the quote and the backslash are escaped (IE sends other `\`s).
                    if at(i + 1) == quote || at(i + 1) == b'\\' {
                        i += 1;
                    }
                } else if at(i) == quote {
                    break;
                }
                value.push(at(i));
                i += 1;
            }
            i += 1;
        } else {
            let start = i;
            while is_token_char(at(i)) {
                i += 1;
            }
            value.extend_from_slice(&v[start..i.min(v.len())]);
        }
        let (slot, duplicate) = match name {
            b"name" => (&mut out.name, -14),
            b"filename" => (&mut out.filename, -15),
            // RFC 5987's encoded file name: accepted; `filename` is the one used.
            b"filename*" => (&mut out.encoded_filename, -15),
            _ => return Err(-11),
        };
        if slot.is_some() {
            return Err(duplicate);
        }
        *slot = Some(value);
        if at(i) != 0 {
            i = skip_ws(i);
            if at(i) == 0 {
                return Ok(());
            }
            if at(i) != b';' {
                if i > 0 && (at(i - 1) == b'\'' || at(i - 1) == b'"') {
                    *invalid_quoting = true;
                }
                return Err(-12);
            }
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=xx";

    #[test]
    fn fields_files_and_headers() {
        let body = b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n2\r\n--xx\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.php\"\r\nContent-Type: text/plain\r\n\r\n<?php\r\n--xx--\r\n";
        let p = parse(CT, body, 0);
        assert_eq!(p.error, None);
        assert_eq!(p.args, vec![(b"a".to_vec(), b"1\r\n2".to_vec())]);
        assert_eq!(p.files, vec![(b"f".to_vec(), b"x.php".to_vec(), b"<?php".to_vec())]);
        assert_eq!(p.part_headers.len(), 3);
        assert!(!p.flags.strict_error(), "{:?}", p.flags);
    }

    #[test]
    fn irregularities_are_flagged() {
        let lf = parse(CT, b"--xx\nContent-Disposition: form-data; name=\"a\"\n\n1\n--xx--\n", 0);
        assert!(lf.flags.lf_line && lf.flags.strict_error());
        let after = parse(CT, b"--xx\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--xx--\r\nmore", 0);
        assert!(after.flags.data_after);
        let single = parse(CT, b"--xx\r\nContent-Disposition: form-data; name='a'\r\n\r\n1\r\n--xx--\r\n", 0);
        assert!(single.flags.invalid_quoting);
        let missing = parse(CT, b"--xx\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n", 0);
        assert_eq!(missing.error.as_deref(), Some("Multipart: Final boundary missing."));
        let foreign = parse(CT, b"--xx\r\nContent-Disposition: form-data; name=a\r\n\r\n--yy\r\n--xx--\r\n", 0);
        assert_eq!(foreign.flags.unmatched_boundary, 2);
    }

    #[test]
    fn garbage_never_panics() {
        // A deterministic generator over the bytes the parser cares about.
        let mut state = 99u64;
        let mut next = move |n: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        let alphabet = b"-xb=\"'; \t\r\n:\x00\x0eboundaryContent-Disposition form-data name filename*";
        for _ in 0..3000 {
            let mut some = |max: usize| (0..next(max)).map(|_| alphabet[next(alphabet.len())]).collect::<Vec<u8>>();
            let ct = format!("multipart/form-data{}", String::from_utf8_lossy(&some(30)));
            let mut body = b"--xx\r\n".to_vec();
            body.extend(some(400));
            let _ = parse(&ct, &body, 2);
            let _ = parse(CT, &body, 0);
        }
    }

    #[test]
    fn content_type_boundaries() {
        let flags = |ct: &str| {
            let mut f = Flags::default();
            boundary(ct, &mut f).map(|b| (String::from_utf8(b).unwrap(), f))
        };
        assert_eq!(flags("multipart/form-data; boundary=0000").unwrap().0, "0000");
        assert!(flags("multipart/form-data; boundary=\"0000\"").unwrap().1.boundary_quoted);
        assert!(flags("multipart/form-data boundary=0000").unwrap().1.missing_semicolon);
        assert!(flags("multipart/form-data; boundary =0000").unwrap().1.boundary_whitespace);
        for bad in [
            "multipart/form-data, boundary=0000",
            "multipart/form-data; bOundAry=0000",
            "multipart/form-data; boundary123=0000",
            "multipart/form-data; boundary=0000, boundary=1111",
            "multipart/form-data;boundary=\"0000",
            "multipart/form-data;boundary=0000!1111",
            "text/plain; boundary=0000",
        ] {
            assert!(flags(bad).is_err(), "{bad}");
        }
    }
}
