//! File-type truth: what a file is by its content (magic numbers and a few structure checks),
//! never by its name.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Pe,
    Elf,
    MachO,
    JavaClass,
    Zip,
    Ooxml,
    Jar,
    Gzip,
    Bzip2,
    Xz,
    Lzma,
    Zstd,
    SevenZip,
    Rar,
    Cab,
    Arj,
    Chm,
    Sis,
    Tar,
    Cpio,
    Tnef,
    Szdd,
    BinHex,
    Ole2,
    Pdf,
    Rtf,
    Html,
    Mail,
    Mbox,
    Png,
    Jpeg,
    Gif,
    Bmp,
    Tiff,
    Swf,
    Lnk,
    Script,
    Text,
    Unknown,
}

impl FileType {
    /// Short lowercase name used in reports, ECS `file.type`-like fields and the YARA
    /// external `filetype`.
    pub fn name(self) -> &'static str {
        match self {
            FileType::Pe => "pe",
            FileType::Elf => "elf",
            FileType::MachO => "macho",
            FileType::JavaClass => "java-class",
            FileType::Zip => "zip",
            FileType::Ooxml => "ooxml",
            FileType::Jar => "jar",
            FileType::Gzip => "gzip",
            FileType::Bzip2 => "bzip2",
            FileType::Xz => "xz",
            FileType::Lzma => "lzma",
            FileType::Zstd => "zstd",
            FileType::SevenZip => "7z",
            FileType::Rar => "rar",
            FileType::Cab => "cab",
            FileType::Arj => "arj",
            FileType::Chm => "chm",
            FileType::Sis => "sis",
            FileType::Tar => "tar",
            FileType::Cpio => "cpio",
            FileType::Tnef => "tnef",
            FileType::Szdd => "szdd",
            FileType::BinHex => "binhex",
            FileType::Ole2 => "ole2",
            FileType::Pdf => "pdf",
            FileType::Rtf => "rtf",
            FileType::Html => "html",
            FileType::Mail => "mail",
            FileType::Mbox => "mbox",
            FileType::Png => "png",
            FileType::Jpeg => "jpeg",
            FileType::Gif => "gif",
            FileType::Bmp => "bmp",
            FileType::Tiff => "tiff",
            FileType::Swf => "swf",
            FileType::Lnk => "lnk",
            FileType::Script => "script",
            FileType::Text => "text",
            FileType::Unknown => "unknown",
        }
    }

    /// Programs a user can start by opening the file.
    pub fn is_executable(self) -> bool {
        matches!(self, FileType::Pe | FileType::Elf | FileType::MachO | FileType::Lnk | FileType::Script)
    }
}

/// Identifies `data` by content.
pub fn detect(data: &[u8]) -> FileType {
    let starts = |magic: &[u8]| data.starts_with(magic);
    if starts(b"MZ") && is_pe(data) {
        return FileType::Pe;
    }
    if starts(b"\x7fELF") {
        return FileType::Elf;
    }
    if starts(&[0xfe, 0xed, 0xfa, 0xce]) || starts(&[0xfe, 0xed, 0xfa, 0xcf]) {
        return FileType::MachO;
    }
    if starts(&[0xce, 0xfa, 0xed, 0xfe]) || starts(&[0xcf, 0xfa, 0xed, 0xfe]) {
        return FileType::MachO;
    }
    if starts(&[0xca, 0xfe, 0xba, 0xbe]) {
        // Shared by Java classes and universal Mach-O; a fat binary holds few architectures.
        let count = data.get(4..8).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
        return if count > 0 && count < 30 { FileType::MachO } else { FileType::JavaClass };
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return zip_flavour(data);
    }
    if starts(&[0x1f, 0x8b]) {
        return FileType::Gzip;
    }
    if starts(b"BZh") && data.get(3).is_some_and(|d| (b'1'..=b'9').contains(d)) {
        return FileType::Bzip2;
    }
    if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return FileType::Xz;
    }
    if starts(&[0x5d, 0, 0]) && data.len() > 13 {
        return FileType::Lzma;
    }
    if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return FileType::Zstd;
    }
    if starts(&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c]) {
        return FileType::SevenZip;
    }
    if starts(b"Rar!\x1a\x07") {
        return FileType::Rar;
    }
    if starts(b"MSCF\0\0\0\0") {
        return FileType::Cab;
    }
    if crate::containers::is_chm(data) {
        return FileType::Chm;
    }
    if crate::containers::is_arj(data) {
        return FileType::Arj;
    }
    if crate::containers::is_sis(data) {
        return FileType::Sis;
    }
    if starts(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) {
        return FileType::Ole2;
    }
    if data.len() >= 263 && (&data[257..262] == b"ustar") {
        return FileType::Tar;
    }
    if crate::containers::is_cpio(data) {
        return FileType::Cpio;
    }
    if starts(crate::containers::TNEF_MAGIC) {
        return FileType::Tnef;
    }
    if starts(crate::containers::SZDD_MAGIC) {
        return FileType::Szdd;
    }
    if memchr::memmem::find(&data[..data.len().min(1024)], crate::containers::BINHEX_MARKER).is_some() {
        return FileType::BinHex;
    }
    if memchr::memmem::find(&data[..data.len().min(1024)], b"%PDF-").is_some() {
        return FileType::Pdf;
    }
    if starts(b"{\\rt") {
        return FileType::Rtf;
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return FileType::Png;
    }
    if starts(&[0xff, 0xd8, 0xff]) {
        return FileType::Jpeg;
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return FileType::Gif;
    }
    if starts(b"BM") && data.len() > 26 && data[6..10] == [0, 0, 0, 0] {
        return FileType::Bmp;
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return FileType::Tiff;
    }
    if (starts(b"FWS") || starts(b"CWS") || starts(b"ZWS")) && data.len() > 8 {
        return FileType::Swf;
    }
    if starts(&[0x4c, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46]) {
        return FileType::Lnk;
    }
    detect_text(data)
}

/// Text formats: script, HTML, mail, mbox or plain text.
fn detect_text(data: &[u8]) -> FileType {
    let head = &data[..data.len().min(4096)];
    if head.is_empty() || head.contains(&0) {
        return FileType::Unknown;
    }
    let trimmed = trim_start(head);
    if trimmed.starts_with(b"#!") {
        return FileType::Script;
    }
    if trimmed.starts_with(b"From ") && looks_like_mail(after_first_line(trimmed)) {
        return FileType::Mbox;
    }
    if looks_like_mail(trimmed) {
        return FileType::Mail;
    }
    let lower: Vec<u8> = trimmed.iter().take(512).map(u8::to_ascii_lowercase).collect();
    let html_markers: [&[u8]; 5] = [b"<!doctype html", b"<html", b"<head", b"<body", b"<script"];
    if html_markers.iter().any(|m| memchr::memmem::find(&lower, m).is_some()) {
        return FileType::Html;
    }
    let printable = head.iter().filter(|&&b| b >= 0x20 || b"\t\r\n\x0c\x1b".contains(&b)).count();
    if printable * 100 >= head.len() * 95 { FileType::Text } else { FileType::Unknown }
}

fn trim_start(data: &[u8]) -> &[u8] {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let skip = data.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &data[skip..]
}

fn after_first_line(data: &[u8]) -> &[u8] {
    match memchr::memchr(b'\n', data) {
        Some(end) => &data[end + 1..],
        None => &[],
    }
}

/// A message starts with header fields, at least two of which are typical of mail.
fn looks_like_mail(data: &[u8]) -> bool {
    const FIELDS: [&str; 10] = [
        "received:",
        "return-path:",
        "from:",
        "to:",
        "subject:",
        "date:",
        "message-id:",
        "mime-version:",
        "content-type:",
        "delivered-to:",
    ];
    let mut known = 0;
    for line in data.split(|&b| b == b'\n').take(40) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else { return false };
        if line[..colon].iter().any(|b| b.is_ascii_whitespace()) {
            return false;
        }
        let field = String::from_utf8_lossy(&line[..=colon]).to_ascii_lowercase();
        if FIELDS.contains(&field.as_str()) {
            known += 1;
        }
    }
    known >= 2
}

/// A PE file has `PE\0\0` at the offset the DOS header points to.
pub fn is_pe(data: &[u8]) -> bool {
    pe_header_offset(data).is_some()
}

pub(crate) fn pe_header_offset(data: &[u8]) -> Option<usize> {
    let raw = data.get(0x3c..0x40)?;
    let offset = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
    (data.get(offset..offset.checked_add(4)?)? == b"PE\0\0").then_some(offset)
}

/// Office Open XML and Java archives are zips with a telltale member near the start.
fn zip_flavour(data: &[u8]) -> FileType {
    let head = &data[..data.len().min(64 * 1024)];
    if memchr::memmem::find(head, b"[Content_Types].xml").is_some() {
        FileType::Ooxml
    } else if memchr::memmem::find(head, b"META-INF/MANIFEST.MF").is_some() {
        FileType::Jar
    } else {
        FileType::Zip
    }
}

/// The type a file name's extension promises, for the extensions worth checking.
pub fn expected_by_extension(extension: &str) -> Option<&'static [FileType]> {
    use FileType::*;
    let types: &'static [FileType] = match extension {
        "exe" | "dll" | "scr" | "sys" | "cpl" | "ocx" | "efi" => &[Pe],
        "pdf" => &[Pdf],
        "zip" => &[Zip, Ooxml, Jar],
        "docx" | "xlsx" | "pptx" | "docm" | "xlsm" | "pptm" => &[Ooxml, Zip],
        "jar" | "apk" => &[Jar, Zip],
        "doc" | "xls" | "ppt" | "msg" | "msi" => &[Ole2, Rtf],
        "gz" | "tgz" => &[Gzip],
        "bz2" | "tbz2" => &[Bzip2],
        "xz" | "txz" => &[Xz],
        "7z" => &[SevenZip],
        "sis" => &[Sis],
        "rar" => &[Rar],
        "cab" => &[Cab],
        "arj" => &[Arj],
        "chm" => &[Chm],
        "tar" => &[Tar],
        "cpio" => &[Cpio],
        "dat" => &[Tnef, Text, Unknown],
        "hqx" => &[BinHex, Text],
        "rtf" => &[Rtf],
        "png" => &[Png],
        "jpg" | "jpeg" | "jpe" => &[Jpeg],
        "gif" => &[Gif],
        "bmp" => &[Bmp],
        "tif" | "tiff" => &[Tiff],
        "lnk" => &[Lnk],
        "eml" => &[Mail, Mbox, Text],
        "htm" | "html" => &[Html, Text],
        "txt" | "csv" | "log" => &[Text, Html, Mail, Mbox, Script],
        _ => return None,
    };
    Some(types)
}

/// Extensions Windows runs when the file is opened: the dangerous end of a double extension.
pub fn is_executable_extension(extension: &str) -> bool {
    const EXECUTABLE: [&str; 24] = [
        "exe", "scr", "com", "pif", "bat", "cmd", "js", "jse", "vbs", "vbe", "wsf", "wsh", "hta", "lnk", "msi", "ps1",
        "jar", "cpl", "dll", "reg", "iso", "img", "chm", "url",
    ];
    EXECUTABLE.contains(&extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_magics() {
        assert_eq!(detect(b"%PDF-1.7\n"), FileType::Pdf);
        assert_eq!(detect(b"PK\x03\x04rest"), FileType::Zip);
        assert_eq!(detect(&[0x1f, 0x8b, 8, 0]), FileType::Gzip);
        assert_eq!(detect(b"BZh91AY&SY"), FileType::Bzip2);
        assert_eq!(detect(b"hello world\n"), FileType::Text);
        assert_eq!(detect(b"From: a@b\r\nTo: c@d\r\nSubject: x\r\n\r\nbody"), FileType::Mail);
        assert_eq!(detect(b"<!DOCTYPE html><html>"), FileType::Html);
        assert_eq!(detect(b""), FileType::Unknown);
    }

    #[test]
    fn pe_needs_its_header() {
        let mut pe = vec![0u8; 0x100];
        pe[0..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        assert_eq!(detect(&pe), FileType::Pe);
        assert_ne!(detect(b"MZ is just text here"), FileType::Pe);
    }
}
