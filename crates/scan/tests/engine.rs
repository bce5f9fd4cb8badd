//! The engine end to end: EICAR in every wrapping the issue names, disguised names, bombs and
//! broken containers.

use mamori_scan::clamav::EICAR;
use mamori_scan::{FindingKind, Limits, ScanReport, SignatureSet, Verdict, scan_with};
use std::io::Write;

fn scan(name: &str, data: &[u8]) -> ScanReport {
    scan_limited(name, data, &Limits::default())
}

fn scan_limited(name: &str, data: &[u8], limits: &Limits) -> ScanReport {
    thread_local! { static SET: SignatureSet = SignatureSet::builtin(); }
    SET.with(|set| scan_with(set, limits, name, data, ""))
}

fn infected_with(report: &ScanReport, name: &str) -> bool {
    matches!(&report.verdict, Verdict::Infected { names } if names.iter().any(|n| n == name))
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn eicar_plain() {
    let report = scan("eicar.com", EICAR.as_bytes());
    assert!(infected_with(&report, "Eicar-Test-Signature"), "{report:?}");
    assert_eq!(report.findings[0].path, vec!["eicar.com"]);
}

#[test]
fn eicar_in_zip_and_zip_in_zip() {
    let inner = zip_of(&[("readme.txt", b"hello"), ("eicar.com", EICAR.as_bytes())]);
    let report = scan("inner.zip", &inner);
    assert!(infected_with(&report, "Eicar-Test-Signature"), "{report:?}");
    let outer = zip_of(&[("inner.zip", &inner)]);
    let report = scan("outer.zip", &outer);
    assert!(infected_with(&report, "Eicar-Test-Signature"), "{report:?}");
    let finding = report.findings.iter().find(|f| matches!(f.kind, FindingKind::Infected { .. })).unwrap();
    assert_eq!(finding.path, vec!["outer.zip", "inner.zip", "eicar.com"]);
}

#[test]
fn eicar_gzipped_and_in_tar_gz() {
    let report = scan("eicar.com.gz", &gzip(EICAR.as_bytes()));
    assert!(infected_with(&report, "Eicar-Test-Signature"), "{report:?}");
    assert_eq!(report.findings[0].path, vec!["eicar.com.gz", "eicar.com"]);
    let mut tar = Vec::new();
    let mut header = [0u8; 512];
    header[..9].copy_from_slice(b"eicar.com");
    header[100..108].copy_from_slice(b"0000644\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", EICAR.len()).as_bytes());
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[148..156].fill(b' ');
    let sum: u32 = header.iter().map(|&b| b as u32).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    tar.extend_from_slice(&header);
    tar.extend_from_slice(EICAR.as_bytes());
    tar.resize(512 * 4, 0);
    let report = scan("files.tar.gz", &gzip(&tar));
    assert!(infected_with(&report, "Eicar-Test-Signature"), "{report:?}");
}

#[test]
fn eicar_bzip2_and_xz() {
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(EICAR.as_bytes()).unwrap();
    assert!(infected_with(&scan("e.bz2", &bz.finish().unwrap()), "Eicar-Test-Signature"));
    let mut xz = Vec::new();
    lzma_rs::xz_compress(&mut std::io::Cursor::new(EICAR.as_bytes()), &mut xz).unwrap();
    assert!(infected_with(&scan("e.xz", &xz), "Eicar-Test-Signature"));
}

#[test]
fn eicar_base64_in_mime_mail() {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(EICAR);
    let mail = format!(
        "From: a@example.jp\r\nTo: b@example.jp\r\nSubject: =?UTF-8?B?6KuL5rGC5pu4?=\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
         --XX\r\nContent-Type: application/octet-stream; name=\"=?UTF-8?B?6KuL5rGC5pu4LmNvbQ==?=\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--XX--\r\n"
    );
    let report = scan("mail.eml", mail.as_bytes());
    assert!(infected_with(&report, "Eicar-Test-Signature"), "{report:?}");
    let finding = report.findings.iter().find(|f| matches!(f.kind, FindingKind::Infected { .. })).unwrap();
    assert_eq!(finding.path[1], "part 2: 請求書.com");
}

#[test]
fn rlo_and_double_extension_names() {
    let mut pe = vec![0u8; 512];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3c] = 0x80;
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    let report = scan("invoice.pdf.exe", &pe);
    assert!(matches!(&report.verdict, Verdict::Suspicious { reasons } if reasons[0].contains("double extension")));
    let archive = zip_of(&[("report\u{202E}fdp.exe", &pe)]);
    let report = scan("mail.zip", &archive);
    let Verdict::Suspicious { reasons } = &report.verdict else { panic!("{report:?}") };
    assert!(reasons.iter().any(|r| r.contains("U+202E")), "{reasons:?}");
    let report = scan("photo.jpg", &pe);
    assert!(matches!(&report.verdict, Verdict::Suspicious { reasons } if reasons[0].contains(".jpg does not match")));
}

#[test]
fn shift_jis_names_in_zip() {
    // Japanese Windows writes names in Shift_JIS without the UTF-8 flag.
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("見積書.pdf.exe");
    assert_eq!(sjis.len(), 14);
    let mut archive = zip_of(&[("ABCDEFGHIJ.exe", EICAR.as_bytes())]);
    let mut at = 0;
    while let Some(found) = archive[at..].windows(14).position(|w| w == b"ABCDEFGHIJ.exe") {
        archive[at + found..at + found + 14].copy_from_slice(&sjis);
        at += found + 14;
    }
    let report = scan("sjis.zip", &archive);
    let infected = report.findings.iter().find(|f| matches!(f.kind, FindingKind::Infected { .. })).unwrap();
    assert_eq!(infected.path[1], "見積書.pdf.exe");
    assert!(
        report
            .findings
            .iter()
            .any(|f| matches!(&f.kind, FindingKind::Suspicious { reason } if reason.contains("double")))
    );
}

#[test]
fn encrypted_zip_member_is_flagged() {
    let mut archive = zip_of(&[("secret.doc", b"cannot see me")]);
    // Set the "encrypted" bit in the local and the central header.
    archive[6] |= 1;
    let central = archive.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    archive[central + 8] |= 1;
    let report = scan("locked.zip", &archive);
    let Verdict::Suspicious { reasons } = &report.verdict else { panic!("{report:?}") };
    assert!(reasons[0].contains("encrypted"), "{reasons:?}");
}

#[test]
fn zip_bomb_ends_suspicious_within_limits() {
    let limits = Limits { max_object_size: 4 << 20, max_expanded_size: 16 << 20, ..Limits::default() };
    let zeros = vec![0u8; 8 << 20];
    let report = scan_limited("bomb.zip", &zip_of(&[("zeros.bin", &zeros)]), &limits);
    let Verdict::Suspicious { reasons } = &report.verdict else { panic!("{report:?}") };
    assert!(reasons[0].starts_with("limit exceeded"), "{reasons:?}");

    // 42.zip in miniature: many layers of many members, each small but the total huge.
    let layer1 = zip_of(&[("a", &vec![0u8; 3 << 20]), ("b", &vec![0u8; 3 << 20])]);
    let layer2 = zip_of(&[("1.zip", &layer1), ("2.zip", &layer1), ("3.zip", &layer1)]);
    let layer3 = zip_of(&[("1.zip", &layer2), ("2.zip", &layer2), ("3.zip", &layer2)]);
    let report = scan_limited("42.zip", &layer3, &limits);
    let Verdict::Suspicious { reasons } = &report.verdict else { panic!("{report:?}") };
    assert!(reasons.iter().any(|r| r.starts_with("limit exceeded")), "{reasons:?}");
    assert!(report.bytes_scanned <= (limits.max_expanded_size + (1 << 20)), "{}", report.bytes_scanned);
}

#[test]
fn nesting_depth_is_limited() {
    let limits = Limits { max_depth: 3, ..Limits::default() };
    let mut data = EICAR.as_bytes().to_vec();
    for level in 0..6 {
        data = zip_of(&[(&format!("level{level}.zip"), &data)]);
    }
    let report = scan_limited("deep.zip", &data, &limits);
    let Verdict::Suspicious { reasons } = &report.verdict else { panic!("{report:?}") };
    assert!(reasons[0].contains("nested deeper"), "{reasons:?}");
}

#[test]
fn malformed_containers_name_the_problem() {
    let mut archive = zip_of(&[("a.txt", &vec![b'x'; 10_000])]);
    let cut = archive.len() / 2;
    archive[30..cut].fill(0x55);
    let report = scan("broken.zip", &archive);
    assert!(matches!(report.verdict, Verdict::Error { .. } | Verdict::Suspicious { .. }), "{report:?}");
    let report = scan("broken.gz", &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
    let Verdict::Error { messages } = &report.verdict else { panic!("{report:?}") };
    assert!(messages[0].contains("decompress"), "{messages:?}");
    let report = scan("broken.doc", &[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]);
    assert!(matches!(&report.verdict, Verdict::Error { messages } if messages[0].contains("OLE2")), "{report:?}");
}

#[test]
fn clean_files_are_clean() {
    let report = scan("notes.txt", b"just some text\n");
    assert_eq!(report.verdict, Verdict::Clean);
    let report = scan("docs.zip", &zip_of(&[("a.txt", b"hello"), ("b.txt", b"world")]));
    assert_eq!(report.verdict, Verdict::Clean, "{report:?}");
    assert_eq!(report.objects_scanned, 3);
}

#[test]
fn pdf_flate_streams_are_scanned() {
    let mut deflated = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflated.write_all(EICAR.as_bytes()).unwrap();
    let stream = deflated.finish().unwrap();
    let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /EmbeddedFile /Filter /FlateDecode /Length ".to_vec();
    pdf.extend_from_slice(format!("{} >>\nstream\n", stream.len()).as_bytes());
    pdf.extend_from_slice(&stream);
    pdf.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
    let report = scan("doc.pdf", &pdf);
    assert!(infected_with(&report, "Eicar-Test-Signature"), "{report:?}");
}

#[test]
fn eicar_in_7z_plain_and_solid() {
    use sevenz_rust2::{ArchiveEntry, ArchiveWriter, SourceReader};
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = ArchiveWriter::new(&mut out).unwrap();
    writer.push_archive_entry(ArchiveEntry::new_file("readme.txt"), Some(&b"hello"[..])).unwrap();
    let entries = vec![ArchiveEntry::new_file("a.txt"), ArchiveEntry::new_file("dir/eicar.com")];
    let readers = vec![SourceReader::new(&b"some text"[..]), SourceReader::new(EICAR.as_bytes())];
    writer.push_archive_entries(entries, readers).unwrap();
    writer.finish().unwrap();
    let report = scan("files.7z", out.get_ref());
    assert!(infected_with(&report, "Eicar-Test-Signature"), "{report:?}");
    assert_eq!(report.file_type, "7z");
    assert_eq!(report.findings[0].path, vec!["files.7z", "dir/eicar.com"]);
    assert_eq!(report.objects_scanned, 4);
}

/// Debian's clamav-testfiles: ClamAV's test program packed by UPX, stored inside an
/// FSG-packed program, in a 7z archive and in a Symbian package; found through its SHA-256 as in `scripts/conformance clamav-testfiles`.
#[test]
fn clamav_test_program_in_upx_embedded_7z_and_sis() {
    let dir = std::path::Path::new("/usr/share/clamav-testfiles");
    assert!(dir.is_dir(), "{} is missing: install the Debian package clamav-testfiles", dir.display());
    let db = tempfile::tempdir().unwrap();
    let hdb = "71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495:544:ClamAV-Test-File\n";
    std::fs::write(db.path().join("test.hdb"), hdb).unwrap();
    let config = mamori_scan::SignatureConfig { clamav: vec![db.path().to_path_buf()], yara: vec![] };
    let set = SignatureSet::load(&config, 1);
    for (file, path) in [
        ("clam-upx.exe", vec!["clam-upx.exe", "upx-unpacked", "embedded-pe@6112"]),
        ("clam-fsg.exe", vec!["clam-fsg.exe", "embedded-pe@6112"]),
        ("clam.7z", vec!["clam.7z", "clam.exe"]),
        ("clam.sis", vec!["clam.sis", "clam.exe"]),
    ] {
        let data = std::fs::read(dir.join(file)).unwrap();
        let report = scan_with(&set, &Limits::default(), file, &data, "");
        assert!(infected_with(&report, "ClamAV-Test-File"), "{file}: {report:?}");
        let finding = report.findings.iter().find(|f| matches!(f.kind, FindingKind::Infected { .. })).unwrap();
        assert_eq!(finding.path, path, "{file}");
    }
}

/// The AutoIt samples of clamav-testfiles are UPX-packed with NRV2E (the test program sits in
/// their compiled script): the walk must reach the rebuilt program and the script's files.
#[test]
fn upx_nrv2e_samples_unpack() {
    let dir = std::path::Path::new("/usr/share/clamav-testfiles");
    assert!(dir.is_dir(), "{} is missing: install the Debian package clamav-testfiles", dir.display());
    for file in ["clam.ea05.exe", "clam.ea06.exe"] {
        let data = std::fs::read(dir.join(file)).unwrap();
        let report = scan(file, &data);
        // The program, its UPX original, the script and the installed file.
        assert!(report.objects_scanned >= 4, "{file}: {report:?}");
        assert!(report.bytes_scanned > 2 * data.len() as u64, "{file}: {report:?}");
    }
}
