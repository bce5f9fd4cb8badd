//! The manifest, its hash chain, and `verify` against tampering.

mod support;

use std::fs;
use std::path::Path;

use mamori_archive::manifest::{MANIFEST_FILE, Record, WatermarkRecord};
use mamori_archive::segment::{SegmentMeta, SegmentWriter};
use mamori_archive::{Manifest, VerifyOptions, verify, verify_with};
use support::synth::Synth;

/// Writes a segment of `n` events for `tenant` into the archive and lists it.
fn add_segment(m: &mut Manifest, s: &mut Synth, tenant: &str, day: &str, n: usize) -> u64 {
    let rel = m.new_segment_path(tenant, day).unwrap();
    let path = m.dir().join(&rel);
    let meta = SegmentMeta { tenant: tenant.into(), day: day.into(), level: 3 };
    let mut w = SegmentWriter::create(&path, meta).unwrap();
    for _ in 0..n {
        let g = s.next_event();
        w.push(g.event, g.timestamp_micros).unwrap();
    }
    let info = w.finish().unwrap();
    let lsn = m.entries().len() as u64 * 1000;
    m.add_segment(&info, tenant, day, lsn, lsn + n as u64).unwrap().seq
}

/// An archive with three segments, a watermark between them, one segment expired.
fn archive(dir: &Path) -> (String, u64) {
    let mut m = Manifest::open(dir).unwrap();
    let mut s = Synth::new(9, false);
    add_segment(&mut m, &mut s, "midori", "2026-11-21", 300);
    m.append(Record::Watermark(WatermarkRecord { day: "2026-11-21".into(), lsn: 1300 })).unwrap();
    add_segment(&mut m, &mut s, "aoba", "2026-11-21", 200);
    let gone = add_segment(&mut m, &mut s, "aoba", "2026-11-20", 100);
    m.expire(gone, "retention: older than 5 years").unwrap();
    add_segment(&mut m, &mut s, "midori", "2026-11-22", 50);
    (m.head().to_string(), gone)
}

fn lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap().lines().map(str::to_string).collect()
}

fn write_lines(dir: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(dir.join(MANIFEST_FILE), text).unwrap();
}

fn problems(dir: &Path) -> Vec<String> {
    verify(dir).unwrap().problems
}

#[test]
fn manifest_records_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let (head, gone) = archive(dir.path());
    let m = Manifest::open(dir.path()).unwrap();
    assert_eq!(m.head(), head);
    assert_eq!(m.entries().len(), 6);
    assert_eq!(m.entries()[0].prev, mamori_archive::manifest::GENESIS);
    assert!(m.entries().windows(2).all(|w| w[1].prev == w[0].hash && w[1].seq == w[0].seq + 1));
    assert_eq!(m.live_segments().len(), 3);
    assert_eq!(m.segments_for("aoba", "2026-11-21").len(), 1);
    assert!(m.segments_for("aoba", "2026-11-20").is_empty());
    assert_eq!(m.watermark("2026-11-21"), Some(1300));
    assert_eq!(m.watermark("2026-11-22"), None);
    let Record::Segment(s) = &m.get(gone).unwrap().record else { panic!("not a segment") };
    assert!(!dir.path().join(&s.file).exists(), "expired file deleted");

    let report = verify(dir.path()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.entries, 6);
    assert_eq!(report.segments_checked, 3);
    assert_eq!(report.events, 550);
    assert_eq!(report.head, head);
    let deep = verify_with(dir.path(), VerifyOptions { decode: true }).unwrap();
    assert!(deep.is_ok(), "{:?}", deep.problems);
}

#[test]
fn one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let _m = Manifest::open(dir.path()).unwrap();
    let err = Manifest::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("locked"), "{err}");
}

#[test]
fn a_reader_sees_the_writers_entries_without_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (head, _) = archive(dir.path());
    let mut writer = Manifest::open(dir.path()).unwrap();
    writer.append(Record::Watermark(WatermarkRecord { day: "2026-11-23".into(), lsn: 5 })).unwrap();
    // A half-written last line is ignored, not cut: the writer may be appending it.
    let path = dir.path().join(MANIFEST_FILE);
    let with_partial = [fs::read(&path).unwrap(), br#"{"day":"2026-11-24""#.to_vec()].concat();
    fs::write(&path, &with_partial).unwrap();
    let mut reader = Manifest::read(dir.path()).unwrap();
    assert_eq!(reader.entries().len(), writer.entries().len());
    assert_eq!(reader.watermark("2026-11-23"), Some(5));
    assert_ne!(reader.head(), head);
    assert_eq!(fs::read(&path).unwrap(), with_partial, "reading changes nothing");
    assert!(
        reader
            .append(Record::Watermark(WatermarkRecord { day: "2026-11-25".into(), lsn: 1 }))
            .unwrap_err()
            .to_string()
            .contains("read-only")
    );
}

#[test]
fn bad_records_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, gone) = archive(dir.path());
    let mut m = Manifest::open(dir.path()).unwrap();
    assert!(m.expire(gone, "again").is_err(), "expired twice");
    assert!(m.expire(2, "a watermark").is_err());
    assert!(m.append(Record::Watermark(WatermarkRecord { day: "2026/11/21".into(), lsn: 1 })).is_err());
    assert_eq!(m.entries().len(), 6);
}

#[test]
fn torn_last_line_is_cut_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (head, _) = archive(dir.path());
    let path = dir.path().join(MANIFEST_FILE);
    let before = fs::read(&path).unwrap();
    let mut torn = before.clone();
    torn.extend_from_slice(br#"{"day":"2026-11-22","hash":"ab"#);
    fs::write(&path, &torn).unwrap();

    let report = verify(dir.path()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(report.warnings.iter().any(|w| w.contains("torn")), "{:?}", report.warnings);

    let mut m = Manifest::open(dir.path()).unwrap();
    assert_eq!(m.head(), head);
    assert_eq!(fs::read(&path).unwrap(), before);
    m.append(Record::Watermark(WatermarkRecord { day: "2026-11-22".into(), lsn: 9 })).unwrap();
    drop(m);
    assert!(verify(dir.path()).unwrap().is_ok());
}

#[test]
fn verify_finds_a_modified_segment_byte() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let m = Manifest::open(dir.path()).unwrap();
    let (e, s) = m.live_segments()[1];
    let (seq, file) = (e.seq, s.file.clone());
    drop(m);
    let path = dir.path().join(&file);
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    let p = problems(dir.path());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains(&format!("entry seq {seq}")) && p[0].contains(&file) && p[0].contains("SHA-256"), "{p:?}");
}

#[test]
fn verify_finds_a_modified_manifest_line() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let mut l = lines(dir.path());
    assert!(l[0].contains("\"events\":300"));
    l[0] = l[0].replace("\"events\":300", "\"events\":299");
    write_lines(dir.path(), &l);
    let p = problems(dir.path());
    assert!(p.iter().any(|x| x.contains("line 1") && x.contains("hash mismatch")), "{p:?}");
    let err = Manifest::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("line 1"), "{err}");

    // A changed line whose hash is recomputed still breaks the link to the next line.
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let mut l = lines(dir.path());
    let mut e = mamori_archive::Entry::parse(&l[1]).unwrap();
    if let Record::Watermark(w) = &mut e.record {
        w.lsn = 999_999;
    }
    let forged = mamori_archive::Entry::new(e.seq, &e.prev, e.record.clone());
    l[1] = forged.line();
    write_lines(dir.path(), &l);
    let p = problems(dir.path());
    assert!(p.iter().any(|x| x.contains("line 3") && x.contains("chain")), "{p:?}");
}

#[test]
fn verify_finds_a_deleted_manifest_line() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let mut l = lines(dir.path());
    let removed = l.remove(2);
    assert!(removed.contains("\"type\":\"segment\""));
    write_lines(dir.path(), &l);
    let p = problems(dir.path());
    assert!(p.iter().any(|x| x.contains("line 3") && x.contains("expected 3")), "{p:?}");
    assert!(p.iter().any(|x| x.contains("line 3") && x.contains("chain")), "{p:?}");
    assert!(p.iter().any(|x| x.contains("not listed")), "the removed segment's file is unlisted: {p:?}");
    assert!(Manifest::open(dir.path()).is_err());
}

#[test]
fn verify_finds_reordered_lines() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let mut l = lines(dir.path());
    l.swap(1, 2);
    write_lines(dir.path(), &l);
    assert!(!problems(dir.path()).is_empty());
}

#[test]
fn verify_finds_a_deleted_segment_file() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let m = Manifest::open(dir.path()).unwrap();
    let (e, s) = m.live_segments()[0];
    let (seq, file) = (e.seq, s.file.clone());
    drop(m);
    fs::remove_file(dir.path().join(&file)).unwrap();
    let p = problems(dir.path());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains(&format!("entry seq {seq}")) && p[0].contains("missing"), "{p:?}");
}

#[test]
fn verify_finds_an_extra_file_and_a_restored_expired_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_, gone) = archive(dir.path());
    let m = Manifest::open(dir.path()).unwrap();
    let (_, live) = m.live_segments()[0];
    let live_path = dir.path().join(&live.file);
    let Record::Segment(expired) = &m.get(gone).unwrap().record else { panic!() };
    let expired_path = dir.path().join(&expired.file);
    drop(m);
    fs::create_dir_all(dir.path().join("segments/kaede/2026-11-21")).unwrap();
    fs::copy(&live_path, dir.path().join("segments/kaede/2026-11-21/00000099.seg")).unwrap();
    fs::create_dir_all(expired_path.parent().unwrap()).unwrap();
    fs::copy(&live_path, &expired_path).unwrap();
    fs::write(dir.path().join("segments/x.seg.tmp"), b"partial").unwrap();
    let report = verify(dir.path()).unwrap();
    let p = report.problems;
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p.iter().any(|x| x.contains("00000099.seg") && x.contains("not listed")), "{p:?}");
    assert!(p.iter().any(|x| x.contains(&format!("entry seq {gone}")) && x.contains("still present")), "{p:?}");
    assert!(report.warnings.iter().any(|w| w.contains("x.seg.tmp")), "{:?}", report.warnings);

    // The manifest repairs what it can: the expired file goes again.
    Manifest::open(dir.path()).unwrap().remove_expired_files().unwrap();
    assert!(!expired_path.exists());
}

#[test]
fn verify_finds_a_segment_replaced_by_another_valid_one() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let m = Manifest::open(dir.path()).unwrap();
    let a = dir.path().join(&m.live_segments()[0].1.file);
    let b = dir.path().join(&m.live_segments()[1].1.file);
    drop(m);
    fs::copy(&b, &a).unwrap();
    let p = problems(dir.path());
    assert_eq!(p.len(), 1, "{p:?}");
}
