//! Tagging a message: the tenant's tag in front of the subject, so that users see the warning
//! in any mail client. The rest of the message is left byte for byte as it was.

use crate::mime_text::encode_word;

/// `text` with `tag` put in front of its Subject (a new Subject when there is none). The tag
/// is one RFC 2047 word; before an encoded subject it carries its own trailing space, since
/// white space between two encoded words is dropped when they are decoded (RFC 2047 §6.2).
/// A subject already carrying the tag is left alone.
pub fn tag_subject(text: &[u8], tag: &str) -> Vec<u8> {
    let plain_word = encode_word(tag);
    let spaced_word = encode_word(&format!("{tag} "));
    let header_end = text.windows(4).position(|w| w == b"\r\n\r\n").map_or(text.len(), |i| i + 2);
    let mut at = 0;
    while at < header_end {
        let line_end = text[at..header_end].windows(2).position(|w| w == b"\r\n").map_or(header_end, |i| at + i + 2);
        let line = &text[at..line_end];
        if line.len() >= 8 && line[..8].eq_ignore_ascii_case(b"subject:") {
            let value = &line[8..];
            let rest = value.trim_ascii_start();
            if rest.starts_with(plain_word.as_bytes()) || rest.starts_with(spaced_word.as_bytes()) {
                return text.to_vec();
            }
            let mut out = Vec::with_capacity(text.len() + spaced_word.len() + 2);
            out.extend_from_slice(&text[..at + 8]);
            out.push(b' ');
            if rest.starts_with(b"=?") {
                out.extend_from_slice(spaced_word.as_bytes());
                out.push(b' ');
            } else if rest.is_empty() {
                out.extend_from_slice(plain_word.as_bytes());
                out.extend_from_slice(b"\r\n");
            } else {
                out.extend_from_slice(plain_word.as_bytes());
                out.push(b' ');
            }
            out.extend_from_slice(rest);
            out.extend_from_slice(&text[line_end..]);
            return out;
        }
        at = line_end;
    }
    let mut out = format!("Subject: {plain_word}\r\n").into_bytes();
    out.extend_from_slice(text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(text: &[u8]) -> String {
        crate::message::facts(text).subject.unwrap_or_default()
    }

    #[test]
    fn a_plain_subject_gets_the_tag() {
        let out = tag_subject(b"From: a@b.jp\r\nSubject: hello\r\n\r\nbody\r\n", "【要注意】");
        assert_eq!(subject(&out), "【要注意】 hello");
        assert!(out.ends_with(b"\r\n\r\nbody\r\n"));
    }

    #[test]
    fn an_encoded_japanese_subject_keeps_its_words() {
        let text = b"Subject: =?ISO-2022-JP?B?GyRCJCIkJCQmGyhC?=\r\nTo: x@y.jp\r\n\r\nbody";
        let out = tag_subject(text, "【要注意】");
        assert_eq!(subject(&out), "【要注意】 あいう");
        assert!(out.ends_with(b"\r\nTo: x@y.jp\r\n\r\nbody"));
    }

    #[test]
    fn folded_subjects_and_missing_subjects() {
        let out = tag_subject(b"Subject: one\r\n two\r\n\r\nb", "[SPAM]");
        assert_eq!(subject(&out), "[SPAM] one two");
        let out = tag_subject(b"From: a@b.jp\r\n\r\nb", "[SPAM]");
        assert_eq!(subject(&out), "[SPAM]");
        let out = tag_subject(b"Subject:\r\n\r\nb", "[SPAM]");
        assert!(subject(&out).starts_with("[SPAM]"), "{}", subject(&out));
    }

    #[test]
    fn tagging_twice_adds_nothing() {
        let once = tag_subject(b"Subject: hi\r\n\r\nb", "[SPAM]");
        assert_eq!(tag_subject(&once, "[SPAM]"), once);
    }
}
