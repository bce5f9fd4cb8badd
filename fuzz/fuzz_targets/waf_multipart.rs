//! libmodsecurity-style multipart parsing (`mamori_waf::multipart::parse`): any Content-Type
//! and body give fields, files and MULTIPART_* flags without a panic, the parts never hold more
//! bytes than the body, SecUploadFileLimit is flagged exactly when exceeded, and a body that
//! parses cleanly (no error, no strictness flag) parses again to the same fields and files when
//! written out anew with another boundary.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori_waf::multipart::{Parsed, parse};

const CANONICAL: &str = "multipart/form-data; boundary=xx";

fuzz_target!(|data: &[u8]| {
    // First byte: the upload file limit (0-3), and whether the Content-Type is the input's
    // first line (else the canonical one, so that most inputs reach the body parser).
    let Some((&control, rest)) = data.split_first() else { return };
    let limit = usize::from(control & 3);
    let (ct, body) = if control & 4 != 0 {
        match rest.iter().position(|&b| b == b'\n') {
            Some(p) => (String::from_utf8_lossy(&rest[..p]).into_owned(), &rest[p + 1..]),
            None => (String::from_utf8_lossy(rest).into_owned(), &b""[..]),
        }
    } else {
        (CANONICAL.to_string(), rest)
    };
    let p = parse(&ct, body, limit);

    let held: usize =
        p.args.iter().map(|(_, v)| v.len()).sum::<usize>() + p.files.iter().map(|(_, _, d)| d.len()).sum::<usize>();
    assert!(held <= body.len(), "parts hold {held} bytes of a {}-byte body", body.len());
    assert!(p.no_files_bytes <= body.len());
    assert_eq!(p.flags.file_limit_exceeded, limit > 0 && p.files.len() > limit, "{:?}", p.flags);
    assert!(p.args.len() + p.files.len() <= p.names.len());
    if p.flags.error {
        assert!(p.error.is_some(), "a parsing error has its message");
    }

    if p.error.is_none() && !p.flags.strict_error() && p.flags.unmatched_boundary == 0 {
        let again = parse("multipart/form-data; boundary=fz0", &rewrite(&p, b"fz0"), 0);
        assert_eq!(again.error, None, "the rewritten body parses");
        assert_eq!(again.args, p.args);
        assert_eq!(again.files, p.files);
    }
});

/// Fields first, then files, each with a quoted `name` (and `filename`), CRLF line ends.
fn rewrite(p: &Parsed, boundary: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let quoted = |out: &mut Vec<u8>, v: &[u8]| {
        out.push(b'"');
        for &c in v {
            if c == b'"' || c == b'\\' {
                out.push(b'\\');
            }
            out.push(c);
        }
        out.push(b'"');
    };
    let parts = p.args.iter().map(|(n, v)| (n, None, v)).chain(p.files.iter().map(|(n, f, d)| (n, Some(f), d)));
    for (name, filename, data) in parts {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary);
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=");
        quoted(&mut out, name);
        if let Some(f) = filename {
            out.extend_from_slice(b"; filename=");
            quoted(&mut out, f);
        }
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary);
    out.extend_from_slice(b"--\r\n");
    out
}
