//! `mamori logs import` with and without a running server, and `mamori logs verify`.

mod common;

use std::io::Write;

use common::*;

fn write_inputs(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ndjson = dir.join("events.ndjson");
    let mut f = std::fs::File::create(&ndjson).unwrap();
    for i in 0..500 {
        writeln!(f, r#"{{"@timestamp":"2026-11-21T01:00:{:02}Z","message":"imported json {i}","event":{{"dataset":"import.test"}},"organization":{{"id":"aoba"}}}}"#, i % 60).unwrap();
    }
    writeln!(f, "this line is not JSON").unwrap();
    let syslog = dir.join("messages");
    let mut f = std::fs::File::create(&syslog).unwrap();
    for i in 0..300 {
        writeln!(f, "<38>Nov 21 10:00:{:02} ad01 sshd[42]: imported syslog {i}", i % 60).unwrap();
    }
    let gz = dir.join("old.log.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    for i in 0..200 {
        writeln!(enc, "<38>Nov 20 09:00:{:02} fw01 kernel: imported gzip {i}", i % 60).unwrap();
    }
    enc.finish().unwrap();
    (ndjson, syslog, gz)
}

#[test]
fn import_without_a_server_then_through_a_running_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Instance::configure(dir.path(), |t| t);
    let (ndjson, syslog, gz) = write_inputs(dir.path());

    // No server: the CLI opens the store itself.
    let out = m.cli_ok(&["logs", "import", ndjson.to_str().unwrap()]);
    assert!(out.contains("501 events (1 unparsable lines kept raw"), "{out}");
    let out = m.cli_ok(&["logs", "import", "--tenant", "midori", syslog.to_str().unwrap(), gz.to_str().unwrap()]);
    assert!(out.contains("imported 500 events"), "{out}");
    assert_eq!(m.count("event.dataset:import.test AND organization.id:aoba"), 500);
    let raw = m.cli_ok(&["logs", "search", "--last", "30d", "--json", "tags:_parse_failure"]);
    assert_eq!(m.count("tags:_parse_failure AND \"not JSON\""), 1, "{raw}");
    assert_eq!(m.count("imported AND syslog AND organization.id:midori"), 300);
    assert_eq!(m.count("gzip AND host.hostname:fw01"), 200);

    // With a server: the same command goes through the server's ingestion API.
    m.start();
    let out = m.cli_ok(&["logs", "import", "--tenant", "aoba", syslog.to_str().unwrap()]);
    assert!(out.contains("imported 300 events"), "{out}");
    assert_eq!(m.wait_count("imported AND syslog AND organization.id:aoba", 300), 300);
    assert!(m.cli_ok(&["logs", "verify"]).contains("OK"));
    m.stop();
}

#[test]
fn verify_reports_a_tampered_archive() {
    let dir = tempfile::tempdir().unwrap();
    let m = Instance::configure(dir.path(), |t| t);
    let (ndjson, _, _) = write_inputs(dir.path());
    m.cli_ok(&["logs", "import", ndjson.to_str().unwrap()]);
    // The events are from a closed day: archive it now.
    let out = m.cli_ok(&["logs", "maintain"]);
    // The line that is not JSON has no time of its own: it is filed under today, still open.
    assert!(out.contains("archived 2026-11-21: 500 events"), "{out}");
    let ok = m.cli(&["logs", "verify", "--json"]);
    assert!(ok.status.success());
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    let head = report["head"].as_str().unwrap().to_string();
    assert_eq!(report["events"], 500);
    // Still searchable (from the index; the archive has a copy).
    assert_eq!(m.count("event.dataset:import.test"), 500);

    // Flip one byte of a segment: verify fails and names the file.
    let seg = walk(&dir.path().join("data/logs/archive"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let bad = m.cli(&["logs", "verify"]);
    assert!(!bad.status.success());
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(text.contains("PROBLEM") && text.contains(".seg"), "{text}");
    // A wrong expected head is reported too.
    bytes[n] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    assert!(m.cli(&["logs", "verify", "--expect-head", &head]).status.success());
    assert!(!m.cli(&["logs", "verify", "--expect-head", &"0".repeat(64)]).status.success());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
