//! Signature sets: loading from a directory, atomic reload while a snapshot is in use,
//! freshness, unsupported signatures counted, YARA externals.

use mamori_scan::{Limits, SignatureConfig, SignatureStore, Verdict, scan_with};
use std::time::Duration;

#[test]
fn reload_swaps_snapshots_while_old_ones_stay_usable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.ndb"), "Test.First:0:*:6669727374206d61726b6572\n").unwrap();
    let store = SignatureStore::open(SignatureConfig { clamav: vec![dir.path().to_path_buf()], yara: vec![] });
    let old = store.snapshot();
    assert_eq!(old.version, 1);
    let report = scan_with(&old, &Limits::default(), "x", b"a first marker here", "");
    assert!(matches!(report.verdict, Verdict::Infected { .. }), "{report:?}");

    std::fs::write(dir.path().join("b.ndb"), "Test.Second:0:*:7365636f6e64\nBroken:0:*:zz\n").unwrap();
    let fingerprint = store.fingerprint();
    let new = store.reload();
    assert_eq!(new.version, 2);
    assert_ne!(fingerprint, 0);
    assert_eq!(new.report.clamav.unsupported_total(), 1, "{:?}", new.report.clamav.unsupported);
    // The old snapshot still answers with the old signatures.
    let with_old = scan_with(&old, &Limits::default(), "x", b"second", "");
    assert_eq!(with_old.verdict, Verdict::Clean);
    let with_new = scan_with(&store.snapshot(), &Limits::default(), "x", b"second", "");
    assert!(matches!(with_new.verdict, Verdict::Infected { .. }), "{with_new:?}");
    assert!(new.sources.iter().any(|s| s.name == "b.ndb" && s.engine == "clamav"));
}

#[test]
fn stale_sources_raise_an_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.hsb");
    std::fs::write(&file, format!("{}:*:Test.Hash\n", "00".repeat(32))).unwrap();
    let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(48 * 3600);
    std::fs::File::options().write(true).open(&file).unwrap().set_modified(two_days_ago).unwrap();
    let store = SignatureStore::open(SignatureConfig { clamav: vec![dir.path().to_path_buf()], yara: vec![] });
    let set = store.snapshot();
    let now = jiff::Timestamp::now();
    let stale = set.stale_sources(now, Duration::from_secs(24 * 3600));
    assert_eq!(stale.len(), 1);
    let alarm = mamori_scan::events::stale_signature_alarm(stale[0], Duration::from_secs(24 * 3600), now);
    assert_eq!(alarm.event.kind.as_deref(), Some("alert"));
    assert_eq!(alarm.event.action.as_deref(), Some("signatures_stale"));
    assert!(set.stale_sources(now, Duration::from_secs(72 * 3600)).is_empty());
}

#[test]
fn detections_become_ecs_alerts() {
    let set = mamori_scan::SignatureSet::builtin();
    let eicar = mamori_scan::clamav::EICAR.as_bytes();
    let report = scan_with(&set, &Limits::default(), "eicar.com", eicar, "");
    let events = mamori_scan::events::detection_events(&report, "test", Some("midori"), jiff::Timestamp::now());
    assert_eq!(events.len(), 1);
    let json: serde_json::Value = serde_json::from_str(&events[0].to_json()).unwrap();
    assert_eq!(json["event"]["kind"], "alert");
    assert_eq!(json["threat"]["software"]["name"], "Eicar-Test-Signature");
    assert_eq!(json["file"]["name"], "eicar.com");
    assert_eq!(json["organization"]["id"], "midori");
}

#[test]
fn yara_rules_see_the_externals() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("test.yar"),
        r#"rule by_name { condition: filename == "invoice.pdf.exe" and extension == "exe" and filetype == "text" }
           rule by_content { strings: $a = "marker" condition: $a and owner == "" }"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.yar"), "rule { oops").unwrap();
    let store = SignatureStore::open(SignatureConfig { clamav: vec![], yara: vec![dir.path().to_path_buf()] });
    let set = store.snapshot();
    assert_eq!(set.report.yara_files, 1);
    assert_eq!(set.report.yara_failures.len(), 1, "{:?}", set.report.yara_failures);
    let report = scan_with(&set, &Limits::default(), "invoice.pdf.exe", b"a marker inside", "");
    let Verdict::Infected { names } = &report.verdict else { panic!("{report:?}") };
    assert!(names.contains(&"test.by_name".to_string()) && names.contains(&"test.by_content".to_string()), "{names:?}");
}

#[test]
fn cvd_containers_load_like_clamav_ships_them() {
    // A CVD: 512-byte header, then a gzip'd tar of signature files.
    let ndb = b"Test.InCvd:0:*:696e2d6376642d6d61726b6572\n";
    let mut tar = vec![0u8; 512];
    tar[..8].copy_from_slice(b"test.ndb");
    tar[100..108].copy_from_slice(b"0000644\0");
    tar[124..136].copy_from_slice(format!("{:011o}\0", ndb.len()).as_bytes());
    tar[156] = b'0';
    tar[148..156].fill(b' ');
    let sum: u32 = tar.iter().map(|&b| b as u32).sum();
    tar[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    tar.extend_from_slice(ndb);
    tar.resize(512 * 4, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let mut cvd = b"ClamAV-VDB:22 Nov 2026 03-00 +0000:27123:1:90:x:y:builder:1795000000".to_vec();
    cvd.resize(512, b' ');
    cvd.extend(gz.finish().unwrap());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("daily.cvd"), cvd).unwrap();
    let store = SignatureStore::open(SignatureConfig { clamav: vec![dir.path().to_path_buf()], yara: vec![] });
    let set = store.snapshot();
    let source = set.sources.iter().find(|s| s.name == "daily.cvd").unwrap();
    assert_eq!(source.version, "27123");
    assert_eq!(source.released.unwrap().as_second(), 1795000000);
    let report = scan_with(&set, &Limits::default(), "x", b"the in-cvd-marker", "");
    assert!(matches!(&report.verdict, Verdict::Infected { names } if names[0] == "Test.InCvd"), "{report:?}");
}

#[test]
fn the_watcher_reloads_when_a_file_arrives() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(SignatureStore::open(SignatureConfig { clamav: vec![dir.path().to_path_buf()], yara: vec![] }));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || store.watch(Duration::from_millis(50), stop))
    };
    std::fs::write(dir.path().join("new.ndb"), "Test.Arrived:0:*:61727269766564\n").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.snapshot().version < 2 {
        assert!(std::time::Instant::now() < deadline, "no reload after a new signature file");
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = scan_with(&store.snapshot(), &Limits::default(), "x", b"it arrived", "");
    assert!(matches!(report.verdict, Verdict::Infected { .. }), "{report:?}");
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
}

/// A ustar archive of regular files, as `tar` writes one.
fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, content) in files {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..108].copy_from_slice(b"0000644\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", content.len()).as_bytes());
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[148..156].fill(b' ');
        let sum: u32 = header.iter().map(|&b| b as u32).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(content);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn yara_rules_reach_a_tar_gz_through_its_members() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("test.yar"),
        r#"rule in_member { strings: $a = "member marker" condition: $a at 2 }
           rule tar_header { strings: $u = "ustar" condition: $u }"#,
    )
    .unwrap();
    let store = SignatureStore::open(SignatureConfig { clamav: vec![], yara: vec![dir.path().to_path_buf()] });
    let set = store.snapshot();
    let names = |data: &[u8]| match scan_with(&set, &Limits::default(), "files.tar.gz", data, "").verdict {
        Verdict::Infected { names } => names,
        _ => Vec::new(),
    };
    // The member is scanned as a file of its own; the tar in between is only its members.
    let archive = tar(&[("a.txt", b"a member marker"), ("b.txt", b"more")]);
    assert_eq!(names(&gzip(&archive)), ["test.in_member"]);
    // Data the members do not hold (here after the end of the archive) has the rules run on
    // the whole tar; so does a tar whose members cannot all be read.
    let mut trailing = archive.clone();
    trailing.extend_from_slice(b"hidden after the end");
    assert!(names(&gzip(&trailing)).contains(&"test.tar_header".to_string()));
    let truncated = &archive[..512 + 4];
    assert_eq!(names(&gzip(truncated)), ["test.tar_header"]);
}
