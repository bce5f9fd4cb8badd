//! Wildcard patterns (`*` any run of characters, `?` one character), compiled once per query.
//!
//! Compiled to literal segments split at `*`, matched greedily left to right, which is linear
//! for the common shapes (`web*`, `*login*`, `*.exe`) and never backtracks exponentially, so a
//! hostile pattern cannot stall a scan of the archive. No regex engine is needed.

use crate::normalize::fold_str;

/// One piece of a segment between stars.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Lit(char),
    AnyOne,
}

/// A fixed-length segment: a literal string (fast `find`) or pieces with `?` in them.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Pieces(Vec<Piece>),
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob {
    /// Segments between `*`s; one segment means no `*` at all.
    segments: Vec<Segment>,
}

impl Glob {
    /// Compiles a pattern in the form of [`crate::Query::Wildcard`] (backslash before literal
    /// `*`, `?`, `\`). With `fold_case`, literal characters are width-folded and lower-cased as
    /// the tokenizer does, for matching tokens of text fields.
    pub fn new(pattern: &str, fold_case: bool) -> Glob {
        let mut segments = Vec::new();
        let mut current: Vec<Piece> = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => current.push(Piece::Lit(chars.next().unwrap_or('\\'))),
                '?' => current.push(Piece::AnyOne),
                '*' => segments.push(std::mem::take(&mut current)),
                c => current.push(Piece::Lit(c)),
            }
        }
        segments.push(current);
        let segments = segments
            .into_iter()
            .map(|pieces| {
                let pieces = if fold_case { fold_pieces(pieces) } else { pieces };
                if pieces.iter().all(|p| matches!(p, Piece::Lit(_))) {
                    Segment::Literal(
                        pieces
                            .iter()
                            .filter_map(|p| match p {
                                Piece::Lit(c) => Some(*c),
                                Piece::AnyOne => None,
                            })
                            .collect(),
                    )
                } else {
                    Segment::Pieces(pieces)
                }
            })
            .collect();
        Glob { segments }
    }

    /// The same pattern as a regular expression matching a whole string, for engines that
    /// match term dictionaries with automata (the hot index). Literal characters are escaped.
    pub fn to_regex(&self) -> String {
        let mut out = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                out.push_str(".*");
            }
            match seg {
                Segment::Literal(s) => s.chars().for_each(|c| push_escaped(&mut out, c)),
                Segment::Pieces(pieces) => {
                    for p in pieces {
                        match p {
                            Piece::Lit(c) => push_escaped(&mut out, *c),
                            Piece::AnyOne => out.push('.'),
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let segs = &self.segments;
        let Some((first, rest_segs)) = segs.split_first() else {
            return text.is_empty();
        };
        let Some(prefix_len) = match_prefix(first, text) else {
            return false;
        };
        let Some((last, middle)) = rest_segs.split_last() else {
            return prefix_len == text.len();
        };
        let mut rest = &text[prefix_len..];
        // The last segment is anchored at the end; find where its characters start.
        let want = seg_chars(last);
        let Some(tail_start) = nth_char_from_end(rest, want) else {
            return false;
        };
        if match_prefix(last, &rest[tail_start..]) != Some(rest.len() - tail_start) {
            return false;
        }
        rest = &rest[..tail_start];
        for seg in middle {
            match find(seg, rest) {
                Some(end) => rest = &rest[end..],
                None => return false,
            }
        }
        true
    }
}

fn push_escaped(out: &mut String, c: char) {
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        out.push('\\');
    }
    out.push(c);
}

/// Folds runs of literal characters like the tokenizer (width, then lower case).
fn fold_pieces(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out = Vec::with_capacity(pieces.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<Piece>| {
        for c in fold_str(run).chars().flat_map(char::to_lowercase) {
            out.push(Piece::Lit(c));
        }
        run.clear();
    };
    for p in pieces {
        match p {
            Piece::Lit(c) => run.push(c),
            Piece::AnyOne => {
                flush(&mut run, &mut out);
                out.push(Piece::AnyOne);
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

fn seg_chars(seg: &Segment) -> usize {
    match seg {
        Segment::Literal(s) => s.chars().count(),
        Segment::Pieces(p) => p.len(),
    }
}

/// Byte index in `s` where its last `n` characters start.
fn nth_char_from_end(s: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(s.len());
    }
    s.char_indices().rev().nth(n - 1).map(|(i, _)| i)
}

/// If `seg` matches at the start of `text`, the byte length it covers.
fn match_prefix(seg: &Segment, text: &str) -> Option<usize> {
    match seg {
        Segment::Literal(lit) => text.starts_with(lit.as_str()).then_some(lit.len()),
        Segment::Pieces(pieces) => {
            let mut chars = text.char_indices();
            for p in pieces {
                let (_, c) = chars.next()?;
                if let Piece::Lit(l) = p
                    && *l != c
                {
                    return None;
                }
            }
            Some(chars.next().map_or(text.len(), |(i, _)| i))
        }
    }
}

/// The end (byte index) of the leftmost match of `seg` in `text`.
fn find(seg: &Segment, text: &str) -> Option<usize> {
    match seg {
        Segment::Literal(lit) => text.find(lit.as_str()).map(|i| i + lit.len()),
        Segment::Pieces(_) => text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .find_map(|i| match_prefix(seg, &text[i..]).map(|n| i + n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p, false).matches(t)
    }

    #[test]
    fn regex_form() {
        assert_eq!(Glob::new("web*", false).to_regex(), "web.*");
        assert_eq!(Glob::new("*.exe", false).to_regex(), ".*\\.exe");
        assert_eq!(Glob::new("a?c\\*", false).to_regex(), "a.c\\*");
        assert_eq!(Glob::new("ＡＢ*", true).to_regex(), "ab.*");
    }

    #[test]
    fn shapes() {
        assert!(m("web*", "web01"));
        assert!(m("web*", "web"));
        assert!(!m("web*", "ewb01"));
        assert!(m("*login*", "https://x/login?a"));
        assert!(!m("*login*", "https://x/logn"));
        assert!(m("*.exe", "a.exe"));
        assert!(!m("*.exe", "a.exe.txt"));
        assert!(m("a?c", "abc"));
        assert!(m("a?c", "aあc"));
        assert!(!m("a?c", "abbc"));
        assert!(m("a*b*c", "abc"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXcYb"));
        assert!(m("*", ""));
        assert!(m("?*", "x"));
        assert!(!m("?*", ""));
        assert!(!m("ab*ba", "aba"));
        assert!(m("ab*ba", "abba"));
        assert!(m(r"a\*b", "a*b"));
        assert!(!m(r"a\*b", "axb"));
        assert!(m(r"\?*", "?x"));
        assert!(m("*?", "ログ"));
        assert!(m("ロ?", "ログ"));
    }

    #[test]
    fn folded() {
        assert!(Glob::new("ADMIN*", true).matches("admin1"));
        assert!(Glob::new("ﾛｸﾞ*", true).matches("ログイン"));
        assert!(!Glob::new("ADMIN*", false).matches("admin1"));
    }
}
