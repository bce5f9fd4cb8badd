//! Splits a query into tokens: brackets, quoted strings and words.
//!
//! The lexer knows nothing of fields or operators: a word keeps, for each character, whether it
//! was escaped with a backslash, and the parser decides what a word means from its place (a
//! leading `-` is NOT only at the start of a clause, a `:` separates a field only outside a
//! field group, `AND` is an operator only when not escaped). That keeps values such as
//! `url.full:http://x/a-b` and `@timestamp:>2026-11-21T10:00:00+09:00` usable without escapes.
//!
//! A word ends at whitespace or at one of `( ) [ ] { } "`; a backslash makes the next character
//! part of the word whatever it is. Inside quotes, `\"` and `\\` are escapes and any other
//! backslash is kept, so Windows paths can be pasted (`"C:\Windows\System32"`).

use crate::error::ParseError;

/// A token with its character span `[start, end)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tok {
    pub kind: TokKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokKind {
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Quoted(String),
    Word(Word),
}

/// A bare word: each character with whether it was escaped.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Word {
    pub chars: Vec<(char, bool)>,
}

impl Word {
    /// The word is exactly `kw`, unescaped (operators and `TO`).
    pub fn is(&self, kw: &str) -> bool {
        self.chars.len() == kw.chars().count() && self.chars.iter().zip(kw.chars()).all(|(&(c, esc), k)| !esc && c == k)
    }

    /// Index of the first unescaped `c`.
    pub fn find(&self, c: char) -> Option<usize> {
        self.chars.iter().position(|&(x, esc)| !esc && x == c)
    }

    /// Whether the word starts with the unescaped `prefix`.
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.chars.len() >= prefix.chars().count()
            && self.chars.iter().zip(prefix.chars()).all(|(&(c, esc), p)| !esc && c == p)
    }

    /// The characters with escapes removed.
    pub fn text(&self) -> String {
        self.chars.iter().map(|&(c, _)| c).collect()
    }

    /// Whether the word holds an unescaped `*` or `?`.
    pub fn has_wildcard(&self) -> bool {
        self.chars.iter().any(|&(c, esc)| !esc && (c == '*' || c == '?'))
    }

    /// Whether the word is one or more unescaped `*` and nothing else.
    pub fn is_all_stars(&self) -> bool {
        !self.chars.is_empty() && self.chars.iter().all(|&(c, esc)| !esc && c == '*')
    }

    /// The word as a wildcard pattern: unescaped `*` `?` are wildcards, literal `*` `?` `\`
    /// get a backslash, other escapes are dropped (see [`crate::Query::Wildcard`]).
    pub fn pattern(&self) -> String {
        let mut out = String::new();
        for &(c, esc) in &self.chars {
            if esc && matches!(c, '*' | '?' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    /// The part from character `from` on.
    pub fn tail(&self, from: usize) -> Word {
        Word { chars: self.chars[from.min(self.chars.len())..].to_vec() }
    }

    /// The part before character `to`.
    pub fn head(&self, to: usize) -> Word {
        Word { chars: self.chars[..to.min(self.chars.len())].to_vec() }
    }
}

/// Whether `c` ends a bare word.
pub(crate) fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '{' | '}' | '"')
}

/// Splits `input` into tokens.
pub(crate) fn lex(input: &str) -> Result<Vec<Tok>, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let single = match c {
            '(' => Some(TokKind::LParen),
            ')' => Some(TokKind::RParen),
            '[' => Some(TokKind::LBracket),
            ']' => Some(TokKind::RBracket),
            '{' => Some(TokKind::LBrace),
            '}' => Some(TokKind::RBrace),
            _ => None,
        };
        if let Some(kind) = single {
            toks.push(Tok { kind, start, end: i + 1 });
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let (text, end) = lex_quoted(&chars, i)?;
            toks.push(Tok { kind: TokKind::Quoted(text), start, end });
            i = end;
        } else {
            let mut word = Word::default();
            while i < chars.len() && !is_delimiter(chars[i]) {
                if chars[i] == '\\' {
                    let Some(&next) = chars.get(i + 1) else {
                        return Err(ParseError::new(
                            i,
                            "a backslash at the end of the query escapes nothing (write \\\\ for a literal backslash)",
                        ));
                    };
                    word.chars.push((next, true));
                    i += 2;
                } else {
                    word.chars.push((chars[i], false));
                    i += 1;
                }
            }
            toks.push(Tok { kind: TokKind::Word(word), start, end: i });
        }
    }
    Ok(toks)
}

/// Reads a quoted string whose opening quote is at `open`; returns its text and the index
/// after the closing quote.
fn lex_quoted(chars: &[char], open: usize) -> Result<(String, usize), ParseError> {
    let mut text = String::new();
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((text, i + 1)),
            '\\' if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                text.push(chars[i + 1]);
                i += 2;
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err(ParseError::new(chars.len(), format!("unclosed quote starting at column {}", open + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokKind> {
        lex(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn words_quotes_and_brackets() {
        let toks = lex(r#"a:"b c" (x) [1 TO 2}"#).unwrap();
        assert_eq!(toks.len(), 10);
        assert_eq!(toks[1].kind, TokKind::Quoted("b c".into()));
        assert_eq!((toks[1].start, toks[1].end), (2, 7));
        assert_eq!(toks[0].end, toks[1].start, "adjacent");
        assert!(matches!(kinds(r"a\ b")[0], TokKind::Word(ref w) if w.text() == "a b"));
        assert_eq!(kinds(r#""C:\Win\"x\\""#), vec![TokKind::Quoted(r#"C:\Win"x\"#.into())]);
    }

    #[test]
    fn errors() {
        let e = lex(r#"field:"abc"#).unwrap_err();
        assert_eq!(e.message, "unclosed quote starting at column 7");
        assert_eq!(e.position, 10);
        assert_eq!(lex("abc\\").unwrap_err().position, 3);
    }

    #[test]
    fn word_helpers() {
        let TokKind::Word(w) = &kinds(r"\AND")[0] else { panic!() };
        assert!(!w.is("AND"));
        let TokKind::Word(w) = &kinds(r"a\*b*c\\")[0] else { panic!() };
        assert_eq!(w.pattern(), r"a\*b*c\\");
        assert!(w.has_wildcard());
    }
}
