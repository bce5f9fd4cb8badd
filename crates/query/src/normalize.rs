//! Width folding applied before tokenizing, a small hand-written subset of Unicode NFKC.
//!
//! Japanese logs mix full-width Latin (`ＡＤＭＩＮ`, `１２３`) and half-width katakana
//! (`ﾛｸﾞｲﾝ`, common in old mainframe and Windows systems) with their ordinary forms. Analysts
//! type whichever their input method gives them, so both sides are folded to ASCII and to
//! full-width katakana (composing the separate half-width voiced marks `ﾞ` `ﾟ`) before
//! splitting. Only these two blocks are folded: a full NFKC table would be a dependency for
//! little gain in logs.

/// Full-width katakana for U+FF66 ..= U+FF9D, in order.
const HALF_KATAKANA: [char; 56] = [
    'ヲ', 'ァ', 'ィ', 'ゥ', 'ェ', 'ォ', 'ャ', 'ュ', 'ョ', 'ッ', 'ー', 'ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク',
    'ケ', 'コ', 'サ', 'シ', 'ス', 'セ', 'ソ', 'タ', 'チ', 'ツ', 'テ', 'ト', 'ナ', 'ニ', 'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ',
    'フ', 'ヘ', 'ホ', 'マ', 'ミ', 'ム', 'メ', 'モ', 'ヤ', 'ユ', 'ヨ', 'ラ', 'リ', 'ル', 'レ', 'ロ', 'ワ', 'ン',
];

const VOICED_MARK: char = '\u{FF9E}';
const SEMI_VOICED_MARK: char = '\u{FF9F}';

/// Folds one character; `next` is the following input character, consulted to compose a
/// half-width voiced mark. Returns the folded character and whether `next` was consumed.
pub(crate) fn fold(c: char, next: Option<char>) -> (char, bool) {
    let code = c as u32;
    match code {
        // Full-width ASCII variants map to ASCII by a fixed offset.
        0xFF01..=0xFF5E => (char::from_u32(code - 0xFEE0).unwrap_or(c), false),
        0x3000 => (' ', false),
        0xFF61 => ('。', false),
        0xFF62 => ('「', false),
        0xFF63 => ('」', false),
        0xFF64 => ('、', false),
        0xFF65 => ('・', false),
        0xFF66..=0xFF9D => {
            let full = HALF_KATAKANA[(code - 0xFF66) as usize];
            match next {
                Some(VOICED_MARK) => match voiced(full) {
                    Some(v) => (v, true),
                    None => (full, false),
                },
                Some(SEMI_VOICED_MARK) => match semi_voiced(full) {
                    Some(v) => (v, true),
                    None => (full, false),
                },
                _ => (full, false),
            }
        }
        0xFF9E => ('゛', false),
        0xFF9F => ('゜', false),
        _ => (c, false),
    }
}

/// The voiced (dakuten) form of a full-width katakana, if it has one.
fn voiced(c: char) -> Option<char> {
    let code = c as u32;
    match c {
        'ウ' => Some('ヴ'),
        // カ..ト and ハ..ホ: the voiced form is the next code point, but only for the
        // unvoiced base letters, which sit at the listed code points.
        'カ' | 'キ' | 'ク' | 'ケ' | 'コ' | 'サ' | 'シ' | 'ス' | 'セ' | 'ソ' | 'タ' | 'チ' | 'ツ' | 'テ' | 'ト'
        | 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ' => char::from_u32(code + 1),
        _ => None,
    }
}

/// The semi-voiced (handakuten) form of a full-width katakana, if it has one.
fn semi_voiced(c: char) -> Option<char> {
    match c {
        'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ' => char::from_u32(c as u32 + 2),
        _ => None,
    }
}

/// Folds a whole string (used for wildcard patterns, which are not tokenized).
pub(crate) fn fold_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let (f, consumed) = fold(c, chars.peek().copied());
        if consumed {
            chars.next();
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_widths() {
        assert_eq!(fold_str("ＡＤＭＩＮ１２３"), "ADMIN123");
        assert_eq!(fold_str("ﾛｸﾞｲﾝ"), "ログイン");
        assert_eq!(fold_str("ﾊﾟｽﾜｰﾄﾞ"), "パスワード");
        assert_eq!(fold_str("ｳﾞｧ"), "ヴァ");
        assert_eq!(fold_str("ｱﾞ"), "ア゛");
        assert_eq!(fold_str("ﾟ"), "゜");
        assert_eq!(fold_str("ログイン"), "ログイン");
    }
}
