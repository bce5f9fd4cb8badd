//! Transformations (`t:`), with ModSecurity v2's semantics.

mod decode;
mod php_args_names;
mod text;

use std::borrow::Cow;

macro_rules! transforms {
    ($($v:ident = [$($s:literal),+] => $f:path,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Transform { $($v,)* }
        impl Transform {
            /// `None` for an unknown name; `t:none` is handled by the rule parser.
            pub fn from_name(name: &str) -> Option<Transform> {
                let lower = name.to_ascii_lowercase();
                match lower.as_str() { $($($s)|+ => Some(Transform::$v),)* _ => None }
            }
            /// Applies the transformation; borrowed when nothing changed.
            pub fn apply<'a>(self, input: &'a [u8]) -> Cow<'a, [u8]> {
                match self { $(Transform::$v => $f(input),)* }
            }
        }
    };
}

transforms! {
    Base64Decode = ["base64decode"] => decode::base64_decode,
    Base64DecodeExt = ["base64decodeext"] => decode::base64_decode_ext,
    Base64Encode = ["base64encode"] => decode::base64_encode,
    CmdLine = ["cmdline", "cmd_line"] => text::cmd_line,
    CompressWhitespace = ["compresswhitespace"] => text::compress_whitespace,
    CssDecode = ["cssdecode"] => decode::css_decode,
    EscapeSeqDecode = ["escapeseqdecode"] => decode::escape_seq_decode,
    HexDecode = ["hexdecode"] => decode::hex_decode,
    HexEncode = ["hexencode"] => decode::hex_encode,
    HtmlEntityDecode = ["htmlentitydecode"] => decode::html_entity_decode,
    JsDecode = ["jsdecode"] => decode::js_decode,
    Length = ["length"] => text::length,
    Lowercase = ["lowercase"] => text::lowercase,
    Uppercase = ["uppercase"] => text::uppercase,
    Md5 = ["md5"] => text::md5,
    NormalisePath = ["normalisepath", "normalizepath"] => text::normalise_path,
    NormalisePathWin = ["normalisepathwin", "normalizepathwin"] => text::normalise_path_win,
    PhpArgsNames = ["phpargsnames"] => php_args_names::php_args_names,
    ParityEven7bit = ["parityeven7bit"] => text::parity_even,
    ParityOdd7bit = ["parityodd7bit"] => text::parity_odd,
    ParityZero7bit = ["parityzero7bit"] => text::parity_zero,
    RemoveComments = ["removecomments"] => text::remove_comments,
    RemoveCommentsChar = ["removecommentschar"] => text::remove_comments_char,
    RemoveNulls = ["removenulls"] => text::remove_nulls,
    RemoveWhitespace = ["removewhitespace"] => text::remove_whitespace,
    ReplaceComments = ["replacecomments"] => text::replace_comments,
    ReplaceNulls = ["replacenulls"] => text::replace_nulls,
    Sha1 = ["sha1"] => text::sha1,
    SqlHexDecode = ["sqlhexdecode"] => decode::sql_hex_decode,
    Trim = ["trim"] => text::trim,
    TrimLeft = ["trimleft"] => text::trim_left,
    TrimRight = ["trimright"] => text::trim_right,
    UrlDecode = ["urldecode"] => decode::url_decode,
    UrlDecodeUni = ["urldecodeuni"] => decode::url_decode_uni,
    UrlEncode = ["urlencode"] => decode::url_encode,
    Utf8ToUnicode = ["utf8tounicode"] => decode::utf8_to_unicode,
}

/// Applies a chain of transformations in order.
pub fn apply_all<'a>(chain: &[Transform], input: &'a [u8]) -> Cow<'a, [u8]> {
    let mut cur: Cow<'a, [u8]> = Cow::Borrowed(input);
    for t in chain {
        cur = match cur {
            Cow::Borrowed(b) => t.apply(b),
            Cow::Owned(o) => Cow::Owned(t.apply(&o).into_owned()),
        };
    }
    cur
}
