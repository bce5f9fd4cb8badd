//! A full disk makes receivers push back (HTTP 507, TCP pause), never drop; once space is back,
//! everything acknowledged or sent is stored.

mod common;

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use common::*;

struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &std::path::Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(
            st.success(),
            "this test mounts a small tmpfs to fill a disk for real: it needs root (CI runs as root)"
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem of `path` until the kernel says it is full, leaving `keep` bytes free.
fn fill(path: &std::path::Path, keep: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 1 << 20];
    while f.write_all(&chunk).is_ok() {}
    f.sync_all().ok();
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(keep)).unwrap();
}

#[test]
fn a_full_disk_pushes_back_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let _mount = Tmpfs::mount(&dir.path().join("data"), "256m");
    let mut m = Instance::configure(dir.path(), |t| t.replace("min_free_disk_mb = 16", "min_free_disk_mb = 0"));
    m.start();
    let token = m.ingest_token("midori");
    let filler = dir.path().join("data/filler");
    fill(&filler, 256 << 10);

    // HTTP: the server answers 507 Insufficient Storage with Retry-After, never 200 with a drop.
    let agent = http();
    let body: String =
        (0..2000).map(|i| format!("{{\"message\":\"disk full test {i} {}\"}}\n", "y".repeat(200))).collect();
    let mut saw_507 = false;
    let mut acked = 0u64;
    for _ in 0..50 {
        let r = agent
            .post(&m.url("/api/v1/ingest"))
            .header("Authorization", &format!("Bearer {token}"))
            .send(body.as_bytes())
            .unwrap();
        match r.status().as_u16() {
            200 => acked += 2000,
            507 => {
                assert!(r.headers().get("retry-after").is_some());
                saw_507 = true;
                break;
            }
            other => panic!("unexpected status {other}: {}", r.into_body().read_to_string().unwrap_or_default()),
        }
    }
    assert!(saw_507, "the disk filled but ingestion never pushed back");

    // TCP syslog: the receiver stops reading, so the sender's writes stall.
    let mut s = std::net::TcpStream::connect(m.syslog).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
    let line = format!("<13>Nov 21 10:00:00 host app: disk full tcp {}", "z".repeat(500));
    let frame = format!("{} {line}", line.len());
    let mut sent = 0u64;
    let stalled = loop {
        match s.write_all(frame.as_bytes()) {
            Ok(()) => sent += 1,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => break true,
            Err(e) => panic!("the receiver dropped the connection instead of pausing: {e}"),
        }
        if sent > 2_000_000 {
            break false;
        }
    };
    assert!(stalled, "the TCP sender was never paused");

    // Space comes back: everything sent over TCP and every acknowledged batch is stored.
    std::fs::remove_file(&filler).unwrap();
    let r = agent
        .post(&m.url("/api/v1/ingest"))
        .header("Authorization", &format!("Bearer {token}"))
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(r.status(), 200);
    acked += 2000;
    drop(s);
    let http_found = m.wait_count("\"disk full test\"", acked);
    assert!(http_found >= acked, "{http_found} of {acked} acknowledged events found\n{}", m.log_text());
    let tcp_found = m.wait_count("\"disk full tcp\"", sent);
    assert!(tcp_found >= sent, "{tcp_found} of {sent} TCP messages found");
    assert!(m.log_text().contains("full"), "the operator is told the disk is full:\n{}", m.log_text());
    m.stop();
}
