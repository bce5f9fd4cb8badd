//! `mamori-scanner` is `mamori scan` as a program of its own: the same arguments give the same
//! output and exit code.

use std::path::Path;
use std::process::{Command, Output};

const MAMORI: &str = env!("CARGO_BIN_EXE_mamori");
const SCANNER: &str = env!("CARGO_BIN_EXE_mamori-scanner");

/// The EICAR test file, spelt in two halves so that this source file is not itself flagged.
fn eicar() -> String {
    ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"].concat()
}

fn run(program: &str, args: &[&str], paths: &[&Path]) -> Output {
    let output = Command::new(program).args(args).args(paths).env("MAMORI_LOG", "warn").output();
    output.unwrap_or_else(|e| panic!("{program} did not start: {e}"))
}

#[test]
fn scanner_reports_as_mamori_scan_does() {
    let dir = tempfile::tempdir().unwrap();
    let infected = dir.path().join("eicar.com");
    let clean = dir.path().join("notes.txt");
    std::fs::write(&infected, eicar()).unwrap();
    std::fs::write(&clean, "nothing to see here\n").unwrap();
    // A hash signature for the clean file, so that the database given is used.
    let db = dir.path().join("db");
    std::fs::create_dir(&db).unwrap();
    let md5 = "c0b5e9b3a3b0b0d5b0e2b1a8f0f3c0b1"; // matches nothing: the clean file stays clean
    std::fs::write(db.join("local.hdb"), format!("{md5}:20:Local.Test\n")).unwrap();
    let db = db.to_str().unwrap();

    for args in [&["--jobs", "1", "-i", "--clamav-db", db][..], &["--jobs", "1", "--clamav-db", db]] {
        let mut mamori_args = vec!["scan"];
        mamori_args.extend_from_slice(args);
        let expected = run(MAMORI, &mamori_args, &[&infected, &clean]);
        let got = run(SCANNER, args, &[&infected, &clean]);
        assert_eq!(expected.status.code(), Some(1), "mamori scan: {}", String::from_utf8_lossy(&expected.stderr));
        assert_eq!(got.status.code(), Some(1), "mamori-scanner: {}", String::from_utf8_lossy(&got.stderr));
        let (expected, got) = (String::from_utf8_lossy(&expected.stdout), String::from_utf8_lossy(&got.stdout));
        assert!(got.contains("eicar.com"), "the EICAR file is reported: {got}");
        // Only the summary's timing differs.
        let without_time = |text: &str| text.lines().filter(|l| !l.starts_with("Time:")).collect::<Vec<_>>().join("\n");
        assert_eq!(without_time(&got), without_time(&expected));
    }

    let clean_only = run(SCANNER, &["--json", "--clamav-db", db], &[&clean]);
    assert_eq!(clean_only.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean_only.stderr));
    let summary = String::from_utf8_lossy(&clean_only.stdout);
    assert!(summary.contains(r#""files":1"#) && summary.contains(r#""infected":0"#), "{summary}");

    let missing = run(SCANNER, &["--clamav-db", db], &[&dir.path().join("missing")]);
    assert_eq!(missing.status.code(), Some(2), "a missing file is an error, as in clamscan");
}
