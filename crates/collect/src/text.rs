//! Bytes to text: the size limit, then UTF-8, Shift_JIS or lossy UTF-8.
//!
//! Japanese appliances (older UTMs, printers, NAS, 庁内 systems) still send Shift_JIS, so a line
//! that is not UTF-8 is tried as Shift_JIS (the Windows-31J variant, which is what they send)
//! before falling back to replacement characters.

use std::borrow::Cow;

use base64::Engine as _;
use mamori_core::Event;
use mamori_core::event::tags as core_tags;
use serde_json::{Map, Value};

use crate::syslog::Content;
use crate::tags;

/// How the text was obtained from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    ShiftJis,
    /// Neither UTF-8 nor Shift_JIS: invalid sequences became U+FFFD.
    Lossy,
}

/// A line as text, with what had to be done to get it.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// The bytes that were decoded (after any cut).
    pub input: &'a [u8],
    pub encoding: TextEncoding,
    /// Set when the input was longer than the limit: its length in bytes.
    pub truncated_from: Option<usize>,
}

/// Removes what terminates a line on the wire: NUL, CR and LF at the end.
pub fn trim_terminators(raw: &[u8]) -> &[u8] {
    let end = raw.iter().rposition(|&b| !matches!(b, b'\0' | b'\r' | b'\n')).map_or(0, |i| i + 1);
    &raw[..end]
}

/// Decodes `raw` (already without terminators), cut to at most `max` bytes of input on a
/// character boundary. `original_len` is the length the sender sent when `raw` is already a cut
/// (the framing layer cuts oversized frames); pass `raw.len()` otherwise.
pub fn decode(raw: &[u8], max: usize, original_len: usize) -> Decoded<'_> {
    let input = &raw[..raw.len().min(max)];
    let full = original_len.max(raw.len());
    let truncated_from = (full > input.len()).then_some(full);
    let cut = truncated_from.is_some();
    match std::str::from_utf8(input) {
        Ok(text) => {
            return Decoded { text: Cow::Borrowed(text), input, encoding: TextEncoding::Utf8, truncated_from };
        }
        // The cut went through the middle of a character: end before it.
        Err(e) if cut && e.error_len().is_none() => {
            let valid = &input[..e.valid_up_to()];
            if let Ok(text) = std::str::from_utf8(valid) {
                return Decoded {
                    text: Cow::Borrowed(text),
                    input: valid,
                    encoding: TextEncoding::Utf8,
                    truncated_from,
                };
            }
        }
        Err(_) => {}
    }
    if let Some(text) = shift_jis(input, cut) {
        return Decoded { text: Cow::Owned(text), input, encoding: TextEncoding::ShiftJis, truncated_from };
    }
    Decoded {
        text: Cow::Owned(String::from_utf8_lossy(input).into_owned()),
        input,
        encoding: TextEncoding::Lossy,
        truncated_from,
    }
}

/// What decoding marks: an [`Event`] (NDJSON) or a syslog line's content.
pub(crate) trait Flaggable {
    fn tag(&mut self, tag: &'static str);
    fn error(&mut self, message: String);
    /// `mamori.original_base64`.
    fn keep_original_base64(&mut self, encoded: String);
}

impl Flaggable for Event {
    fn tag(&mut self, tag: &'static str) {
        self.add_tag(tag);
    }
    fn error(&mut self, message: String) {
        self.add_error(message);
    }
    fn keep_original_base64(&mut self, encoded: String) {
        let mamori = self.extra.entry("mamori").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = mamori {
            m.insert("original_base64".into(), Value::String(encoded));
        }
    }
}

impl Flaggable for Content<'_> {
    fn tag(&mut self, tag: &'static str) {
        self.add_tag(tag);
    }
    fn error(&mut self, message: String) {
        self.add_error(message);
    }
    fn keep_original_base64(&mut self, encoded: String) {
        self.original_base64 = Some(encoded);
    }
}

impl Decoded<'_> {
    /// Tags `target` with what decoding had to do and says so in `error.message`. For lossy
    /// text the exact input bytes are kept in `mamori.original_base64`, so nothing is lost.
    /// `max` is the limit that applied.
    pub(crate) fn flag(&self, target: &mut impl Flaggable, max: usize) {
        match self.encoding {
            TextEncoding::Utf8 => {}
            TextEncoding::ShiftJis => target.tag(tags::DECODED_SHIFT_JIS),
            TextEncoding::Lossy => {
                target.tag(tags::INVALID_UTF8);
                target.error(
                    "the bytes are neither UTF-8 nor Shift_JIS; invalid sequences were replaced by U+FFFD, the exact \
                     bytes are in mamori.original_base64"
                        .into(),
                );
                target.keep_original_base64(base64::engine::general_purpose::STANDARD.encode(self.input));
            }
        }
        if let Some(full) = self.truncated_from {
            target.tag(core_tags::TRUNCATED);
            target.error(format!("message of {full} bytes truncated to the limit of {max} bytes"));
        }
    }
}

/// Strict Shift_JIS decoding; after a cut, a last lone lead byte is dropped rather than taken
/// as an error.
fn shift_jis(input: &[u8], cut: bool) -> Option<String> {
    let decode = |bytes: &[u8]| {
        encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes).map(Cow::into_owned)
    };
    decode(input).or_else(|| match input.split_last() {
        Some((_, head)) if cut => decode(head),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_terminators_only_at_the_end() {
        assert_eq!(trim_terminators(b"a\0b\r\n\0"), b"a\0b");
        assert_eq!(trim_terminators(b"\r\n"), b"");
        assert_eq!(trim_terminators(b""), b"");
        assert_eq!(trim_terminators(b" x "), b" x ");
    }

    #[test]
    fn utf8_passes_through() {
        let d = decode("ログイン成功".as_bytes(), 1000, 18);
        assert_eq!(d.text, "ログイン成功");
        assert_eq!(d.encoding, TextEncoding::Utf8);
        assert!(d.truncated_from.is_none());
    }

    #[test]
    fn truncation_respects_utf8_boundaries() {
        let text = "あいう"; // 9 bytes
        for max in 0..=9 {
            let d = decode(text.as_bytes(), max, 9);
            assert_eq!(d.encoding, TextEncoding::Utf8, "max {max}");
            assert_eq!(d.text.len(), max / 3 * 3, "max {max}");
            assert_eq!(d.truncated_from, (max < 9).then_some(9));
        }
    }

    #[test]
    fn shift_jis_is_recognised() {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("認証に失敗しました user=山田");
        let d = decode(&bytes, 1000, bytes.len());
        assert_eq!(d.encoding, TextEncoding::ShiftJis);
        assert_eq!(d.text, "認証に失敗しました user=山田");
    }

    #[test]
    fn shift_jis_cut_in_a_character_drops_the_lead_byte() {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("日本語");
        let d = decode(&bytes, 3, bytes.len());
        assert_eq!(d.encoding, TextEncoding::ShiftJis);
        assert_eq!(d.text, "日");
        assert_eq!(d.truncated_from, Some(6));
    }

    #[test]
    fn an_upstream_cut_counts_as_truncation() {
        let d = decode("あい".as_bytes(), 100, 5000);
        assert_eq!(d.truncated_from, Some(5000));
        // The framing cut inside a character: the partial character goes.
        let d = decode(&"あい".as_bytes()[..4], 100, 5000);
        assert_eq!(d.text, "あ");
    }

    #[test]
    fn garbage_is_lossy() {
        let d = decode(&[0x41, 0xff, 0xfe, 0x80, 0x42], 100, 5);
        assert_eq!(d.encoding, TextEncoding::Lossy);
        assert!(d.text.starts_with('A') && d.text.ends_with('B'));
        assert!(d.text.contains('\u{fffd}'));
    }
}
