//! Sigma string values: wildcards `*` and `?` with `\` escapes, compiled into the cheapest
//! matcher that gives the same answer (exact, prefix, suffix, substring, or a regex).
//!
//! Sigma compares case-insensitively unless the `cased` modifier is given. ASCII patterns are
//! compared with ASCII case folding on the bytes (no allocation per event); patterns with other
//! characters go through a case-insensitive regex, which folds Unicode.

use aho_corasick::AhoCorasick;
use memchr::memmem;

use crate::error::CompileError;

/// One piece of a Sigma string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    /// `*`: any run of characters.
    AnyMany,
    /// `?`: exactly one character.
    AnyOne,
}

/// A Sigma string value with its wildcards resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SigmaString {
    pub pieces: Vec<Piece>,
}

impl SigmaString {
    /// Parses a rule value: `*` and `?` are wildcards; `\*`, `\?` and `\\` are the literal
    /// characters; a backslash before anything else is itself (Windows paths stay readable).
    pub fn parse(raw: &str) -> SigmaString {
        let mut s = SigmaString::default();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => s.push_wild(Piece::AnyMany),
                '?' => s.push_wild(Piece::AnyOne),
                '\\' => match chars.peek() {
                    Some(&n @ ('*' | '?' | '\\')) => {
                        chars.next();
                        s.push_char(n);
                    }
                    _ => s.push_char('\\'),
                },
                c => s.push_char(c),
            }
        }
        s
    }

    /// A string without wildcards (encoded values, keywords built in code).
    pub fn literal(text: &str) -> SigmaString {
        let mut s = SigmaString::default();
        if !text.is_empty() {
            s.pieces.push(Piece::Literal(text.to_string()));
        }
        s
    }

    fn push_char(&mut self, c: char) {
        if let Some(Piece::Literal(l)) = self.pieces.last_mut() {
            l.push(c);
        } else {
            self.pieces.push(Piece::Literal(c.to_string()));
        }
    }

    fn push_wild(&mut self, p: Piece) {
        // `**` is the same as `*`.
        if p == Piece::AnyMany && self.pieces.last() == Some(&Piece::AnyMany) {
            return;
        }
        self.pieces.push(p);
    }

    pub fn prepend_any(&mut self) {
        if self.pieces.first() != Some(&Piece::AnyMany) {
            self.pieces.insert(0, Piece::AnyMany);
        }
    }

    pub fn append_any(&mut self) {
        if self.pieces.last() != Some(&Piece::AnyMany) {
            self.pieces.push(Piece::AnyMany);
        }
    }

    pub fn has_wildcards(&self) -> bool {
        self.pieces.iter().any(|p| !matches!(p, Piece::Literal(_)))
    }

    /// The text when there are no wildcards.
    pub fn as_literal(&self) -> Option<String> {
        match self.pieces.as_slice() {
            [] => Some(String::new()),
            [Piece::Literal(l)] => Some(l.clone()),
            _ => None,
        }
    }

    /// Applies `f` to every literal piece (windash, utf16 keep the wildcards in place).
    pub fn map_literals(&self, mut f: impl FnMut(&str) -> String) -> SigmaString {
        let pieces = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(l) => Piece::Literal(f(l)),
                other => other.clone(),
            })
            .collect();
        SigmaString { pieces }
    }

    /// The equivalent regex (anchored), for the general case. `ascii_fold`: ASCII letters fold
    /// only to ASCII (as the byte comparisons do: `k` does not match the Kelvin sign), so the
    /// prefilter's ASCII-folding automaton sees the same matches; `Unicode`: full folding.
    fn to_regex(&self, fold: Fold) -> String {
        let mut re = String::from(if fold == Fold::Unicode { "(?si)^" } else { "(?s)^" });
        for p in &self.pieces {
            match p {
                Piece::Literal(l) if fold == Fold::Ascii => {
                    for c in l.chars() {
                        let mut buf = [0u8; 4];
                        let e = regex::escape(c.encode_utf8(&mut buf));
                        if c.is_ascii_alphabetic() {
                            re.push_str(&format!("(?i-u:{e})"));
                        } else {
                            re.push_str(&e);
                        }
                    }
                }
                Piece::Literal(l) => re.push_str(&regex::escape(l)),
                Piece::AnyMany => re.push_str(".*"),
                Piece::AnyOne => re.push('.'),
            }
        }
        re.push('$');
        re
    }

    /// The longest literal piece: any value this string matches contains it (ASCII letters
    /// folded when not `cased`), so a prefilter can look for it first. `None` without one or
    /// when case folding is Unicode (not ASCII-only).
    pub fn needle(&self, cased: bool) -> Option<&str> {
        if !cased && !self.folds_as_ascii() {
            return None;
        }
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Literal(l) => Some(l.as_str()),
                _ => None,
            })
            .max_by_key(|l| l.len())
            .filter(|l| !l.is_empty())
    }

    /// Characters are ASCII or without case: folding compares bytes.
    fn folds_as_ascii(&self) -> bool {
        self.pieces.iter().all(|p| match p {
            Piece::Literal(l) => l.chars().all(|c| c.is_ascii() || caseless(c)),
            _ => true,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    None,
    Ascii,
    Unicode,
}

/// A compiled string comparison.
#[derive(Debug, Clone)]
pub enum StrMatcher {
    /// `*` alone: any value (the field must still be present).
    Any,
    Exact {
        text: String,
        ci: bool,
    },
    Prefix {
        text: String,
        ci: bool,
    },
    Suffix {
        text: String,
        ci: bool,
    },
    Contains(Contains),
    Regex(Box<regex::Regex>),
}

/// Substring search: memmem when case matters, Aho-Corasick with ASCII folding when not.
#[derive(Debug, Clone)]
pub enum Contains {
    Cased(memmem::Finder<'static>),
    Folded { needle: String, ac: Box<AhoCorasick> },
}

impl StrMatcher {
    pub fn compile(s: &SigmaString, cased: bool) -> Result<StrMatcher, CompileError> {
        // Characters without case (emoji, kana, kanji) compare byte for byte like ASCII.
        let ascii = s.folds_as_ascii();
        let ci = !cased;
        if ci && !ascii {
            return regex_matcher(&s.to_regex(Fold::Unicode));
        }
        use Piece::*;
        Ok(match s.pieces.as_slice() {
            [] => StrMatcher::Exact { text: String::new(), ci },
            [AnyMany] => StrMatcher::Any,
            [Literal(l)] => StrMatcher::Exact { text: l.clone(), ci },
            [Literal(l), AnyMany] => StrMatcher::Prefix { text: l.clone(), ci },
            [AnyMany, Literal(l)] => StrMatcher::Suffix { text: l.clone(), ci },
            [AnyMany, Literal(l), AnyMany] => StrMatcher::Contains(Contains::new(l, ci)?),
            _ => regex_matcher(&s.to_regex(if ci { Fold::Ascii } else { Fold::None }))?,
        })
    }

    pub fn is_match(&self, value: &str) -> bool {
        let v = value.as_bytes();
        match self {
            StrMatcher::Any => true,
            StrMatcher::Exact { text, ci } => eq(v, text.as_bytes(), *ci),
            StrMatcher::Prefix { text, ci } => v.len() >= text.len() && eq(&v[..text.len()], text.as_bytes(), *ci),
            StrMatcher::Suffix { text, ci } => {
                v.len() >= text.len() && eq(&v[v.len() - text.len()..], text.as_bytes(), *ci)
            }
            StrMatcher::Contains(c) => c.is_match(v),
            StrMatcher::Regex(re) => re.is_match(value),
        }
    }

    /// The substring this matcher looks for, case-folded, when it is a plain case-insensitive
    /// `contains`: those of one field are merged into one automaton.
    pub fn folded_needle(&self) -> Option<&str> {
        match self {
            StrMatcher::Contains(Contains::Folded { needle, .. }) => Some(needle),
            _ => None,
        }
    }
}

impl Contains {
    fn new(needle: &str, ci: bool) -> Result<Contains, CompileError> {
        if ci {
            let ac = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build([needle])
                .map_err(|e| CompileError::Pattern(e.to_string()))?;
            Ok(Contains::Folded { needle: needle.to_string(), ac: Box::new(ac) })
        } else {
            Ok(Contains::Cased(memmem::Finder::new(needle.as_bytes()).into_owned()))
        }
    }

    fn is_match(&self, v: &[u8]) -> bool {
        match self {
            Contains::Cased(f) => f.find(v).is_some(),
            Contains::Folded { needle, .. } => folded_find(v, needle.as_bytes()),
        }
    }
}

/// ASCII case-insensitive substring search: candidates by the needle's first byte in either
/// case (memchr2), then a folded comparison. Faster than an automaton for one short needle.
fn folded_find(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else { return true };
    if hay.len() < needle.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut from = 0;
    while from <= last_start {
        let Some(i) = memchr::memchr2(lo, up, &hay[from..=last_start]) else { return false };
        let at = from + i;
        if hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// A character that is its own lower and upper case.
fn caseless(c: char) -> bool {
    let mut lower = c.to_lowercase();
    let mut upper = c.to_uppercase();
    lower.next() == Some(c) && lower.next().is_none() && upper.next() == Some(c) && upper.next().is_none()
}

fn eq(a: &[u8], b: &[u8], ci: bool) -> bool {
    if ci { a.eq_ignore_ascii_case(b) } else { a == b }
}

fn regex_matcher(re: &str) -> Result<StrMatcher, CompileError> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 22)
        .build()
        .map(|r| StrMatcher::Regex(Box::new(r)))
        .map_err(|e| CompileError::Pattern(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, v: &str) -> bool {
        StrMatcher::compile(&SigmaString::parse(p), false).unwrap().is_match(v)
    }

    #[test]
    fn wildcards_and_case_folding() {
        assert!(m("cmd.exe", "CMD.EXE"));
        assert!(!m("cmd.exe", "xcmd.exe"));
        assert!(m("*\\cmd.exe", "C:\\Windows\\System32\\cmd.exe"));
        assert!(m("C:\\Windows\\\\*", "c:\\windows\\x"));
        assert!(m("*whoami*", "run WHOAMI /all"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "abbc"));
        assert!(m("a*b*c", "a--b--c"));
        assert!(m("*", "anything"));
    }

    #[test]
    fn folded_substring_search() {
        assert!(folded_find(b"xxABcd", b"abc"));
        assert!(folded_find(b"abc", b"ABC"));
        assert!(!folded_find(b"ab", b"abc"));
        assert!(!folded_find(b"aabx", b"abc"));
        assert!(folded_find(b"", b""));
    }

    #[test]
    fn escapes_make_wildcards_literal() {
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axxb"));
        assert!(m("a\\?", "a?"));
        assert!(m("C:\\\\Windows", "C:\\Windows"));
        // A backslash before an ordinary character is itself.
        assert!(m("\\Device\\", "\\device\\"));
    }

    #[test]
    fn non_ascii_folds_through_regex() {
        assert!(m("*ÄRGER*", "großer ärger"));
        // Caseless characters take the byte path.
        assert!(matches!(StrMatcher::compile(&SigmaString::parse("*😀*"), false).unwrap(), StrMatcher::Contains(_)));
        assert!(m("*みどり市*", "x みどり市 y"));
    }

    #[test]
    fn cased_matches_exact_case() {
        let c = StrMatcher::compile(&SigmaString::parse("*Abc*"), true).unwrap();
        assert!(c.is_match("xAbcx"));
        assert!(!c.is_match("xabcx"));
    }
}
