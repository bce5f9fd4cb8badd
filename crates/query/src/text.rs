//! The full-text tokenizer for `message` and `error.message`.
//!
//! The hot tier (token tables in the `logs` crate) is built with this very function, and the cold-archive
//! scanner ([`crate::eval`]) calls it directly, so a search finds the same events in both.
//!
//! Rules, chosen for Japanese municipal logs:
//!
//! - Input is width-folded first (full-width Latin to ASCII, half-width katakana to full-width,
//!   see `normalize.rs`) and lower-cased.
//! - Text is split on every character that is not alphanumeric (punctuation, spaces, symbols,
//!   emoji). `10.1.2.3` becomes `10` `1` `2` `3`; `user_name` becomes `user` `name`.
//! - A run of Latin (or any non-CJK) alphanumerics is one token.
//! - A run of CJK characters (Han, Hiragana, Katakana including the folded half-width forms,
//!   Hangul) is split into overlapping bigrams: `ログイン失敗` gives `ログ` `グイ` `イン` `ン失`
//!   `失敗`. A CJK run of one character is a single unigram token. Japanese has no spaces, and
//!   bigrams find any word of two or more characters without a dictionary.
//! - Every token takes the next position, so a phrase is a sequence of consecutive positions.
//!
//! Matching (see [`token_matches`]): query text is tokenized the same way; a query term or
//! phrase matches a field value when its tokens occur at consecutive positions. A query of a
//! single CJK character (`失`) cannot be a bigram, so a single-CJK-character query token matches
//! any document token that starts or ends with that character.

use crate::normalize::fold;

/// One token of a text value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Normalized, lower-cased token text.
    pub text: String,
    /// Token position (0, 1, 2, ...); phrases match consecutive positions.
    pub position: u32,
    /// Byte offset in the input where the token starts (for highlighting).
    pub start: usize,
    /// Byte offset in the input just past the token.
    pub end: usize,
}

/// Splits `text` into tokens. See the module documentation for the rules.
pub fn tokenize(text: &str) -> impl Iterator<Item = Token> + use<> {
    let mut tokens = Vec::new();
    let mut position = 0u32;
    for_each_token(text, |t, start, end| {
        tokens.push(Token { text: t.to_owned(), position, start, end });
        position += 1;
    });
    tokens.into_iter()
}

/// The token texts of `text`, in order: what the evaluator needs, without offsets.
pub fn token_texts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_token(text, |t, _, _| out.push(t.to_owned()));
    out
}

/// Whether a query token matches a document token: equal, or the query token is a single CJK
/// character that the document bigram starts or ends with.
pub fn token_matches(query: &str, doc: &str) -> bool {
    if query == doc {
        return true;
    }
    let mut qc = query.chars();
    match (qc.next(), qc.next()) {
        (Some(c), None) if is_cjk(c) => doc.starts_with(c) || doc.ends_with(c),
        _ => false,
    }
}

/// Whether `tokens` occur at consecutive positions in `doc` (an empty query matches nothing).
pub fn phrase_in<Q: AsRef<str>, D: AsRef<str>>(query: &[Q], doc: &[D]) -> bool {
    if query.is_empty() || query.len() > doc.len() {
        return false;
    }
    (0..=doc.len() - query.len())
        .any(|i| query.iter().zip(&doc[i..]).all(|(q, d)| token_matches(q.as_ref(), d.as_ref())))
}

/// Calls `emit(token, start_byte, end_byte)` for each token of `text`, in order.
///
/// This is the single implementation of the rules; everything else is built on it.
pub fn for_each_token(text: &str, emit: impl FnMut(&str, usize, usize)) {
    if text.is_ascii() { for_each_ascii_token(text, emit) } else { for_each_unicode_token(text, emit) }
}

fn for_each_unicode_token(text: &str, mut emit: impl FnMut(&str, usize, usize)) {
    // The current run: its class, and for Latin runs the lower-cased text, for CJK runs the
    // characters with their byte spans (bigrams need them).
    let mut latin = String::new();
    let mut latin_span = (0usize, 0usize);
    let mut cjk: Vec<(char, usize, usize)> = Vec::new();
    let mut scratch = String::new();

    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        // ASCII, most of every log line, folds to itself: the same rules, without the tables.
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                flush_cjk(&mut cjk, &mut scratch, &mut emit);
                if latin.is_empty() {
                    latin_span.0 = start;
                }
                latin_span.1 = start + 1;
                latin.push(c.to_ascii_lowercase());
            } else {
                flush_latin(&mut latin, latin_span, &mut emit);
                flush_cjk(&mut cjk, &mut scratch, &mut emit);
            }
            continue;
        }
        let (folded, consumed) = fold(c, chars.peek().map(|&(_, n)| n));
        if consumed {
            chars.next();
        }
        let end = chars.peek().map_or(text.len(), |&(i, _)| i);
        if !folded.is_alphanumeric() {
            flush_latin(&mut latin, latin_span, &mut emit);
            flush_cjk(&mut cjk, &mut scratch, &mut emit);
        } else if is_cjk(folded) {
            flush_latin(&mut latin, latin_span, &mut emit);
            cjk.push((folded, start, end));
        } else {
            flush_cjk(&mut cjk, &mut scratch, &mut emit);
            if latin.is_empty() {
                latin_span.0 = start;
            }
            latin_span.1 = end;
            latin.extend(folded.to_lowercase());
        }
    }
    flush_latin(&mut latin, latin_span, &mut emit);
    flush_cjk(&mut cjk, &mut scratch, &mut emit);
}

/// The class of each byte for ASCII text: not part of a token, a lower-case letter or digit,
/// or an upper-case letter (which the token must be lower-cased for).
const SEPARATOR: u8 = 0;
const PLAIN: u8 = 1;
const UPPER: u8 = 2;
static ASCII_CLASS: [u8; 256] = {
    let mut t = [SEPARATOR; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_uppercase() {
            t[b] = UPPER;
        } else if c.is_ascii_alphanumeric() {
            t[b] = PLAIN;
        }
        b += 1;
    }
    t
};

/// The same rules for all-ASCII text (most log lines), byte by byte: runs of letters and
/// digits, lower-cased, and borrowed from `text` when they have no capitals. One table lookup
/// per byte both ends the run and notes a capital, so each byte is looked at once.
fn for_each_ascii_token(text: &str, mut emit: impl FnMut(&str, usize, usize)) {
    let bytes = text.as_bytes();
    let mut lower = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if ASCII_CLASS[bytes[i] as usize] == SEPARATOR {
            i += 1;
            continue;
        }
        let start = i;
        let mut classes = SEPARATOR;
        while i < bytes.len() {
            let class = ASCII_CLASS[bytes[i] as usize];
            if class == SEPARATOR {
                break;
            }
            classes |= class;
            i += 1;
        }
        let token = &text[start..i];
        if classes & UPPER != 0 {
            lower.clear();
            lower.push_str(token);
            lower.make_ascii_lowercase();
            emit(&lower, start, i);
        } else {
            emit(token, start, i);
        }
    }
}

fn flush_latin(buf: &mut String, span: (usize, usize), emit: &mut impl FnMut(&str, usize, usize)) {
    if !buf.is_empty() {
        emit(buf, span.0, span.1);
        buf.clear();
    }
}

fn flush_cjk(run: &mut Vec<(char, usize, usize)>, scratch: &mut String, emit: &mut impl FnMut(&str, usize, usize)) {
    match run.len() {
        0 => {}
        1 => {
            let (c, s, e) = run[0];
            scratch.clear();
            scratch.push(c);
            emit(scratch, s, e);
        }
        _ => {
            for pair in run.windows(2) {
                scratch.clear();
                scratch.push(pair[0].0);
                scratch.push(pair[1].0);
                emit(scratch, pair[0].1, pair[1].2);
            }
        }
    }
    run.clear();
}

/// Whether `c` belongs to a script written without spaces that is bigram-tokenized: Han,
/// Hiragana, Katakana (full- and half-width) and Hangul.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF     // Hangul Jamo
        | 0x2E80..=0x2FDF   // CJK and Kangxi radicals
        | 0x3005..=0x3007   // 々 〆 〇
        | 0x3021..=0x3029   // Hangzhou numerals
        | 0x3031..=0x3035   // kana repeat marks
        | 0x3038..=0x303C
        | 0x3040..=0x309F   // Hiragana
        | 0x30A0..=0x30FF   // Katakana (with ー)
        | 0x3130..=0x318F   // Hangul compatibility Jamo
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xA960..=0xA97F   // Hangul Jamo extended A
        | 0xAC00..=0xD7FF   // Hangul syllables and Jamo extended B
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFF66..=0xFF9F   // half-width katakana (normally folded away before)
        | 0xFFA0..=0xFFDC   // half-width Hangul
        | 0x20000..=0x3134F // CJK extensions B..G
    )
}

/// Whether `c` takes two cells in a terminal (CJK, full-width forms, most emoji); used only
/// to place an error caret.
pub(crate) fn is_wide(c: char) -> bool {
    (is_cjk(c) && !matches!(c as u32, 0xFF66..=0xFFDC))
        || matches!(c as u32, 0x3000..=0x303F | 0xFF01..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1FAFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).map(|t| t.text).collect()
    }

    #[test]
    fn the_ascii_path_follows_the_same_rules() {
        let samples = [
            "",
            "a",
            "Failed password for ROOT from 10.1.2.3 port 22 ssh2",
            "<134>Mar  1 squid[2211]: 1709261998.123 TCP_MISS/200 GET https://Example.COM/a_b?x=1",
            "  ...,,,  ",
            "MiXeD123abc_DEF-ghi",
            "tab\there\nnewline\0nul~`!@#$%^&*()",
        ];
        // Every ASCII byte, alone and between letters, so that each one's class is checked.
        let every: Vec<String> = (0u8..128).map(|b| format!("{0}x{0}Y{0}", b as char)).collect();
        for s in samples.iter().copied().chain(every.iter().map(String::as_str)) {
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            for_each_ascii_token(s, |t, a, b| fast.push((t.to_string(), a, b)));
            for_each_unicode_token(s, |t, a, b| general.push((t.to_string(), a, b)));
            assert_eq!(fast, general, "{s:?}");
        }
    }

    #[test]
    fn offsets_cover_the_original_text() {
        let s = "ﾛｸﾞｲﾝ ＯＫ";
        let toks: Vec<Token> = tokenize(s).collect();
        assert_eq!(toks[0].text, "ログ");
        assert_eq!(&s[toks[0].start..toks[0].end], "ﾛｸﾞ");
        let last = toks.last().unwrap();
        assert_eq!(last.text, "ok");
        assert_eq!(&s[last.start..last.end], "ＯＫ");
        assert_eq!(texts("a"), vec!["a"]);
    }
}
