//! Checks on file names: extension against content, double extensions, bidi control
//! characters, and decoding of names stored as raw bytes (Shift_JIS or UTF-8).

use crate::filetype::{self, FileType};

/// Unicode controls that reorder text: `invoice\u{202E}fdp.exe` displays as `invoiceexe.pdf`.
const BIDI_CONTROLS: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
    '\u{200E}', '\u{200F}', '\u{061C}',
];

/// The last path component of `path` (`/` and `\` both separate).
pub fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Lowercase extension of a name, without the dot.
pub fn extension(name: &str) -> Option<String> {
    let base = base_name(name);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() || ext.len() > 10 {
        return None;
    }
    Some(ext.trim().to_lowercase())
}

/// Reasons a name (with its content type) is suspicious; empty when it is not.
pub fn check_name(name: &str, content: FileType) -> Vec<String> {
    let mut reasons = Vec::new();
    let base = base_name(name);
    if let Some(control) = base.chars().find(|c| BIDI_CONTROLS.contains(c)) {
        reasons.push(format!(
            "name contains bidi control character U+{:04X}, which disguises its real extension",
            control as u32
        ));
    }
    if let Some((decoy, real)) = double_extension(base) {
        reasons.push(format!("double extension: .{decoy} hides executable .{real}"));
    }
    if let Some(ext) = extension(base)
        && let Some(expected) = filetype::expected_by_extension(&ext)
        && content != FileType::Unknown
        && !expected.contains(&content)
        && !text_like_pair(expected, content)
    {
        reasons.push(format!("extension .{ext} does not match content ({})", content.name()));
    } else if content.is_executable() && content != FileType::Script {
        // An executable whose name hides it (no extension, or an unknown one like `.dat`).
        let ext = extension(base).unwrap_or_default();
        if !filetype::is_executable_extension(&ext) && !matches!(ext.as_str(), "bin" | "so" | "o" | "elf" | "") {
            reasons.push(format!("extension .{ext} hides an executable ({})", content.name()));
        }
    }
    reasons
}

/// Text content is often labelled loosely (a `.txt` holding HTML); only flag binaries.
fn text_like_pair(expected: &[FileType], content: FileType) -> bool {
    let textual = |t: FileType| matches!(t, FileType::Text | FileType::Html | FileType::Mail | FileType::Mbox);
    expected.iter().any(|&t| textual(t)) && textual(content)
}

/// `invoice.pdf.exe` → `("pdf", "exe")`; also catches `invoice.pdf      .exe`.
fn double_extension(base: &str) -> Option<(String, String)> {
    let mut parts = base.rsplitn(3, '.');
    let real = parts.next()?.trim().to_lowercase();
    let decoy = parts.next()?.trim().to_lowercase();
    let stem = parts.next()?;
    if stem.is_empty() || !filetype::is_executable_extension(&real) {
        return None;
    }
    let known_decoy = filetype::expected_by_extension(&decoy).is_some()
        || matches!(decoy.as_str(), "mp3" | "mp4" | "avi" | "wav" | "mov" | "odt" | "ods" | "jtd" | "hwp");
    (known_decoy && !filetype::is_executable_extension(&decoy)).then_some((decoy, real))
}

/// A name stored as raw bytes (zip without the UTF-8 flag, tar, old mail): UTF-8 when it is
/// valid UTF-8, else Shift_JIS (Japanese Windows), else Latin-1 so nothing is lost.
pub fn decode_raw_name(raw: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(raw) {
        return text.to_string();
    }
    let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(raw);
    if !had_errors {
        return text.into_owned();
    }
    raw.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_double_extension() {
        let reasons = check_name("invoice.pdf.exe", FileType::Pe);
        assert!(reasons.iter().any(|r| r.contains("double extension")), "{reasons:?}");
        assert!(check_name("archive.tar.gz", FileType::Gzip).is_empty());
        assert!(check_name("setup.exe", FileType::Pe).is_empty());
    }

    #[test]
    fn flags_rlo() {
        let reasons = check_name("report\u{202E}fdp.exe", FileType::Pe);
        assert!(reasons.iter().any(|r| r.contains("U+202E")), "{reasons:?}");
    }

    #[test]
    fn flags_extension_mismatch() {
        let reasons = check_name("photo.jpg", FileType::Pe);
        assert!(reasons.iter().any(|r| r.contains(".jpg does not match")), "{reasons:?}");
        assert!(check_name("notes.txt", FileType::Html).is_empty());
        assert!(!check_name("data.dat", FileType::Pe).is_empty());
    }

    #[test]
    fn decodes_shift_jis_names() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("請求書.pdf");
        assert_eq!(decode_raw_name(&sjis), "請求書.pdf");
        assert_eq!(decode_raw_name("請求書.pdf".as_bytes()), "請求書.pdf");
    }
}
