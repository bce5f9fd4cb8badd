//! `Include` paths: relative to the including file, with `*` and `?` globs in the last component.

use std::path::{Path, PathBuf};

pub fn expand(pattern: &str, base: &Path) -> Result<Vec<PathBuf>, String> {
    let p = Path::new(pattern);
    let full = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
    let name = full.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    if !name.contains(['*', '?']) {
        return Ok(vec![full]);
    }
    let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str().is_some_and(|n| glob_match(name.as_bytes(), n.as_bytes())))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&p[1..], s) || (!s.is_empty() && glob_match(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob_match(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob_match(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(b"REQUEST-*.conf", b"REQUEST-901-X.conf"));
        assert!(!glob_match(b"*.conf", b"x.conf.example"));
        assert!(glob_match(b"a?c", b"abc"));
    }
}
