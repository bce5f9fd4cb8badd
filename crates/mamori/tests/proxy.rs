//! The web proxy inside a real `mamori up`: browsing with curl through it, block pages from
//! the configured lists, UT1 categories, a list change by `mamori reload` applied without a
//! restart, and every request in the log store.

mod common;

use std::process::Command;

use common::*;

/// A local origin that answers every request with 200 and a fixed body.
fn origin() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Write};
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut line = String::new();
                    // Read one request head, answer, repeat (keep-alive).
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let body = "origin says hello\n";
                    let _ = write!(stream, "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                }
            });
        }
    });
    addr
}

fn curl(proxy: std::net::SocketAddr, url: &str) -> (u16, String) {
    require_tool("curl", "curl");
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "-x", &format!("http://{proxy}"), "-w", "\n%{http_code}", url])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[test]
fn browsing_through_mamori_up() {
    let dir = tempfile::tempdir().unwrap();
    let ut1 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/ut1/blacklists");
    assert!(ut1.is_dir(), "the UT1 lists are needed at {} (see ../shared/testdata/README.md)", ut1.display());
    let mut m = Instance::configure(dir.path(), |c| {
        c.replace(
            "# categories_dir = \"/var/lib/mamori/ut1/blacklists\"",
            &format!("categories_dir = \"{}\"", ut1.display()),
        )
        .replace("# block_categories = [\"malware\", \"phishing\", \"gambling\"]", "block_categories = [\"gambling\"]")
    });
    m.start();
    let origin = origin();

    let (code, body) = curl(m.proxy, &format!("http://{origin}/hello"));
    assert_eq!((code, body.as_str()), (200, "origin says hello\n"));

    let (code, body) = curl(m.proxy, "http://www.blocked.example/");
    assert_eq!(code, 403);
    assert!(
        body.contains("アクセスがブロックされました") && body.contains("デモ県 セキュリティクラウド運用窓口"),
        "{body}"
    );

    // A UT1 gambling domain, blocked by category.
    let casino = std::fs::read_to_string(ut1.join("gambling/domains")).unwrap();
    let casino = casino.lines().find(|l| !l.starts_with('#') && l.contains('.')).unwrap().to_string();
    let (code, body) = curl(m.proxy, &format!("http://{casino}/"));
    assert_eq!(code, 403, "{casino}");
    assert!(body.contains("gambling"), "{body}");

    // A list change in the file applies on reload, without a restart.
    let text = std::fs::read_to_string(&m.config).unwrap();
    std::fs::write(
        &m.config,
        text.replace("block = [\"blocked.example\"]", "block = [\"blocked.example\", \"127.0.0.1\"]"),
    )
    .unwrap();
    assert!(m.cli_ok(&["reload"]).contains("revision"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while curl(m.proxy, &format!("http://{origin}/after-reload")).0 != 403 {
        assert!(std::time::Instant::now() < deadline, "the new list never applied");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // Every request is in the log store.
    assert!(m.wait_count("event.dataset:proxy.access AND event.action:allowed AND url.full:*hello*", 1) >= 1);
    assert!(m.wait_count("event.dataset:proxy.access AND event.action:blocked AND rule.name:gambling", 1) >= 1);
    assert!(m.wait_count("event.dataset:proxy.access AND rule.name:\"common:block\"", 2) >= 2);
    m.stop();
}
