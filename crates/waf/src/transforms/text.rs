//! Transformations that reshape text: case, whitespace, comments, paths, hashes.

use std::borrow::Cow;

use md5::Digest;

/// isspace() of the C locale, plus the non-breaking space ModSecurity also treats as space.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

pub fn lowercase(i: &[u8]) -> Cow<'_, [u8]> {
    if i.iter().any(|c| c.is_ascii_uppercase()) { Cow::Owned(i.to_ascii_lowercase()) } else { Cow::Borrowed(i) }
}

pub fn uppercase(i: &[u8]) -> Cow<'_, [u8]> {
    if i.iter().any(|c| c.is_ascii_lowercase()) { Cow::Owned(i.to_ascii_uppercase()) } else { Cow::Borrowed(i) }
}

pub fn length(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(i.len().to_string().into_bytes())
}

pub fn md5(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(md5::Md5::digest(i).to_vec())
}

pub fn sha1(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(sha1::Sha1::digest(i).to_vec())
}

pub fn cmd_line(i: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(i.len());
    let mut space = false;
    for &c in i {
        match c {
            b'"' | b'\'' | b'\\' | b'^' => {}
            b' ' | b',' | b';' | b'\t' | b'\r' | b'\n' => {
                if !space {
                    out.push(b' ');
                    space = true;
                }
            }
            b'/' | b'(' => {
                if space {
                    out.pop();
                }
                space = false;
                out.push(c);
            }
            _ => {
                out.push(c.to_ascii_lowercase());
                space = false;
            }
        }
    }
    Cow::Owned(out)
}

pub fn compress_whitespace(i: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(i.len());
    let mut in_ws = false;
    for &c in i {
        if is_space(c) || c == 0xa0 {
            if !in_ws {
                out.push(b' ');
                in_ws = true;
            }
        } else {
            out.push(c);
            in_ws = false;
        }
    }
    Cow::Owned(out)
}

pub fn remove_whitespace(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(i.iter().copied().filter(|&c| !(is_space(c) || c == 0xa0)).collect())
}

pub fn remove_nulls(i: &[u8]) -> Cow<'_, [u8]> {
    if !i.contains(&0) {
        return Cow::Borrowed(i);
    }
    Cow::Owned(i.iter().copied().filter(|&c| c != 0).collect())
}

pub fn replace_nulls(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(i.iter().map(|&c| if c == 0 { b' ' } else { c }).collect())
}

pub fn trim_left(i: &[u8]) -> Cow<'_, [u8]> {
    let s = i.iter().position(|&c| !is_space(c)).unwrap_or(i.len());
    Cow::Borrowed(&i[s..])
}

pub fn trim_right(i: &[u8]) -> Cow<'_, [u8]> {
    let e = i.iter().rposition(|&c| !is_space(c)).map(|p| p + 1).unwrap_or(0);
    Cow::Borrowed(&i[..e])
}

pub fn trim(i: &[u8]) -> Cow<'_, [u8]> {
    let s = i.iter().position(|&c| !is_space(c)).unwrap_or(i.len());
    let e = i.iter().rposition(|&c| !is_space(c)).map(|p| p + 1).unwrap_or(s);
    Cow::Borrowed(&i[s..e.max(s)])
}

pub fn parity_even(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(i.iter().map(|&c| if (c & 0x7f).count_ones() % 2 == 1 { c | 0x80 } else { c & 0x7f }).collect())
}

pub fn parity_odd(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(i.iter().map(|&c| if (c & 0x7f).count_ones() % 2 == 0 { c | 0x80 } else { c & 0x7f }).collect())
}

pub fn parity_zero(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(i.iter().map(|&c| c & 0x7f).collect())
}

/// Removes `/* */`, `<!-- -->` comments and cuts at `--` and `#`.
pub fn remove_comments(i: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(i.len());
    let mut k = 0;
    let mut in_comment = false;
    while k < i.len() {
        if !in_comment {
            if i[k] == b'/' && i.get(k + 1) == Some(&b'*') {
                in_comment = true;
                k += 2;
            } else if i[k] == b'<' && i[k..].starts_with(b"<!--") {
                in_comment = true;
                k += 4;
            } else if (i[k] == b'-' && i.get(k + 1) == Some(&b'-')) || i[k] == b'#' {
                break;
            } else {
                out.push(i[k]);
                k += 1;
            }
        } else if i[k] == b'*' && i.get(k + 1) == Some(&b'/') {
            in_comment = false;
            k += 2;
        } else if i[k] == b'-' && i[k..].starts_with(b"-->") {
            in_comment = false;
            k += 3;
        } else {
            k += 1;
        }
    }
    if in_comment {
        out.push(b' ');
    }
    Cow::Owned(out)
}

pub fn remove_comments_char(i: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(i.len());
    let mut k = 0;
    while k < i.len() {
        let rest = &i[k..];
        if rest.starts_with(b"/*") || rest.starts_with(b"*/") || rest.starts_with(b"--") {
            k += 2;
        } else if rest.starts_with(b"<!--") {
            k += 4;
        } else if rest.starts_with(b"-->") {
            k += 3;
        } else if i[k] == b'#' {
            k += 1;
        } else {
            out.push(i[k]);
            k += 1;
        }
    }
    Cow::Owned(out)
}

/// Replaces each `/* ... */` (also unterminated) with one space.
pub fn replace_comments(i: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(i.len());
    let mut k = 0;
    let mut in_comment = false;
    while k < i.len() {
        if !in_comment {
            if i[k] == b'/' && i.get(k + 1) == Some(&b'*') {
                in_comment = true;
                k += 2;
            } else {
                out.push(i[k]);
                k += 1;
            }
        } else if i[k] == b'*' && i.get(k + 1) == Some(&b'/') {
            in_comment = false;
            out.push(b' ');
            k += 2;
        } else {
            k += 1;
        }
    }
    if in_comment {
        out.push(b' ');
    }
    Cow::Owned(out)
}

pub fn normalise_path(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(normalise(i, false))
}

pub fn normalise_path_win(i: &[u8]) -> Cow<'_, [u8]> {
    Cow::Owned(normalise(i, true))
}

/// Collapses `//`, removes `./` segments and resolves `../` (kept when nothing is above).
fn normalise(i: &[u8], win: bool) -> Vec<u8> {
    if i.is_empty() {
        return Vec::new();
    }
    let src: Vec<u8> = if win { i.iter().map(|&c| if c == b'\\' { b'/' } else { c }).collect() } else { i.to_vec() };
    let absolute = src[0] == b'/';
    let trailing = src.ends_with(b"/");
    let mut stack: Vec<&[u8]> = Vec::new();
    for seg in src.split(|&c| c == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                if matches!(stack.last(), Some(s) if *s != b"..") {
                    stack.pop();
                } else if !absolute {
                    stack.push(seg);
                }
            }
            _ => stack.push(seg),
        }
    }
    let mut out = Vec::with_capacity(src.len());
    if absolute {
        out.push(b'/');
    }
    out.extend(stack.join(&b'/'));
    if trailing && !stack.is_empty() {
        out.push(b'/');
    }
    out
}
