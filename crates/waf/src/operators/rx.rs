//! `@rx`: PCRE semantics as ModSecurity compiles them (DOTALL, `$` only at the end), on bytes.
//! The `regex` crate runs CRS's RE2-compatible patterns; `fancy-regex` takes the few that need
//! backtracking features (back-references, look-around).

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many patterns needed the backtracking fallback (reported by the conformance runners).
pub static FANCY_FALLBACKS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
pub enum Rx {
    Bytes(regex::bytes::Regex),
    Fancy(fancy_regex::Regex),
}

impl Rx {
    pub fn new(pattern: &str) -> Result<Rx, String> {
        let build = |unicode: bool| {
            regex::bytes::RegexBuilder::new(pattern)
                .dot_matches_new_line(true)
                .unicode(unicode)
                .size_limit(64 << 20)
                .dfa_size_limit(16 << 20)
                .build()
        };
        if let Ok(r) = build(false).or_else(|_| build(true)) {
            return Ok(Rx::Bytes(r));
        }
        let fancy = fancy_regex::RegexBuilder::new(&format!("(?s){pattern}"))
            .backtrack_limit(1_000_000)
            .build()
            .map_err(|e| format!("bad regular expression: {e}"))?;
        FANCY_FALLBACKS.fetch_add(1, Ordering::Relaxed);
        Ok(Rx::Fancy(fancy))
    }

    pub fn is_match(&self, input: &[u8]) -> bool {
        match self {
            Rx::Bytes(r) => r.is_match(input),
            Rx::Fancy(r) => r.is_match(&String::from_utf8_lossy(input)).unwrap_or(false),
        }
    }

    /// Group 0..=9 of the first match, if any (missing groups are empty).
    pub fn captures(&self, input: &[u8]) -> Option<Vec<Vec<u8>>> {
        match self {
            Rx::Bytes(r) => {
                let c = r.captures(input)?;
                Some(
                    (0..c.len().min(10)).map(|i| c.get(i).map(|m| m.as_bytes().to_vec()).unwrap_or_default()).collect(),
                )
            }
            Rx::Fancy(r) => {
                let s = String::from_utf8_lossy(input);
                let c = r.captures(&s).ok()??;
                Some(
                    (0..c.len().min(10))
                        .map(|i| c.get(i).map(|m| m.as_str().as_bytes().to_vec()).unwrap_or_default())
                        .collect(),
                )
            }
        }
    }
}
