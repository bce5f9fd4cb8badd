//! The tokenizer shared by the hot index and the cold scanner.

use mamori_query::text::{Token, is_cjk, phrase_in, token_matches, token_texts, tokenize};

fn toks(s: &str) -> Vec<String> {
    token_texts(s)
}

#[test]
fn latin_words_are_lower_cased_and_split_on_punctuation() {
    assert_eq!(toks("Access DENIED for user=Taro"), ["access", "denied", "for", "user", "taro"]);
    assert_eq!(
        toks("GET /cgi-bin/login.php?id=1 HTTP/1.1"),
        ["get", "cgi", "bin", "login", "php", "id", "1", "http", "1", "1"]
    );
    assert_eq!(toks("10.1.2.3:5050"), ["10", "1", "2", "3", "5050"]);
    assert_eq!(toks("user_name"), ["user", "name"]);
    assert_eq!(toks("Größe ÉCOLE"), ["größe", "école"]);
    assert_eq!(toks("İstanbul"), ["i\u{307}stanbul"]);
    assert!(toks("").is_empty());
    assert!(toks("  ,.;:!?-- ").is_empty());
}

#[test]
fn japanese_is_split_into_bigrams() {
    assert_eq!(toks("ログイン失敗"), ["ログ", "グイ", "イン", "ン失", "失敗"]);
    assert_eq!(toks("失敗"), ["失敗"]);
    assert_eq!(toks("失"), ["失"], "a lone CJK character is a unigram");
    assert_eq!(toks("認証に失敗しました"), ["認証", "証に", "に失", "失敗", "敗し", "しま", "まし", "した"]);
    assert_eq!(toks("東京都　千代田区"), ["東京", "京都", "千代", "代田", "田区"], "ideographic space splits");
    assert_eq!(toks("「警告」ウイルス検出。"), ["警告", "ウイ", "イル", "ルス", "ス検", "検出"]);
    assert_eq!(toks("々"), ["々"]);
    assert_eq!(toks("안녕하세요"), ["안녕", "녕하", "하세", "세요"], "Hangul too");
    assert_eq!(toks("𠮷野家"), ["𠮷野", "野家"], "characters outside the BMP");
}

#[test]
fn mixed_scripts_split_at_the_boundary() {
    assert_eq!(toks("VPN接続エラー(code=403)"), ["vpn", "接続", "続エ", "エラ", "ラー", "code", "403"]);
    assert_eq!(toks("第3回"), ["第", "3", "回"]);
    assert_eq!(toks("ユーザーtaroがログイン"), ["ユー", "ーザ", "ザー", "taro", "がロ", "ログ", "グイ", "イン"]);
}

#[test]
fn widths_are_folded() {
    assert_eq!(toks("ﾛｸﾞｲﾝ失敗"), toks("ログイン失敗"), "half-width katakana with voiced marks");
    assert_eq!(toks("ﾊﾟｽﾜｰﾄﾞ"), toks("パスワード"));
    assert_eq!(toks("ＡＤＭＩＮ　１２３"), ["admin", "123"], "full-width Latin and digits");
    assert_eq!(toks("ｰ"), ["ー"]);
}

#[test]
fn emoji_and_symbols_are_separators() {
    assert_eq!(toks("ok👍done"), ["ok", "done"]);
    assert_eq!(toks("🔥🔥"), Vec::<String>::new());
    assert_eq!(toks("警告⚠️検出"), ["警告", "検出"]);
    assert_eq!(toks("a\u{200b}b"), ["a", "b"], "zero-width space");
    assert_eq!(toks("tab\there\nnewline"), ["tab", "here", "newline"]);
}

#[test]
fn positions_and_offsets() {
    let t: Vec<Token> = tokenize("Login ログイン失敗 OK").collect();
    let positions: Vec<u32> = t.iter().map(|t| t.position).collect();
    assert_eq!(positions, [0, 1, 2, 3, 4, 5, 6]);
    let s = "Login ログイン失敗 OK";
    assert_eq!(&s[t[0].start..t[0].end], "Login");
    assert_eq!(&s[t[1].start..t[1].end], "ログ");
    assert_eq!(&s[t[4].start..t[4].end], "ン失");
    assert_eq!(&s[t[6].start..t[6].end], "OK");
}

#[test]
fn matching_rules() {
    let doc = toks("ユーザーのログイン失敗を検出");
    assert!(phrase_in(&toks("ログイン失敗"), &doc));
    assert!(phrase_in(&toks("失敗"), &doc));
    assert!(phrase_in(&toks("失"), &doc), "single character inside a bigram");
    assert!(phrase_in(&toks("出"), &doc), "last character of a run");
    assert!(!phrase_in(&toks("成功"), &doc));
    assert!(!phrase_in(&toks("ログアウト"), &doc));
    assert!(phrase_in(&toks("Access denied"), &toks("ACCESS DENIED: policy")));
    assert!(!phrase_in(&toks("denied access"), &toks("ACCESS DENIED: policy")));
    assert!(!phrase_in::<String, String>(&[], &toks("x")), "nothing to find matches nothing");
    assert!(token_matches("失", "失敗") && token_matches("敗", "失敗") && !token_matches("a", "ab"));
    assert!(is_cjk('ア') && is_cjk('漢') && is_cjk('ｱ') && !is_cjk('a') && !is_cjk('1'));
}
