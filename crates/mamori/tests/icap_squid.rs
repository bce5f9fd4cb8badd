//! Squid from Debian uses `mamori up` as its virus scanner over ICAP: an EICAR download
//! through Squid is blocked with mamori's 403 page, a clean one passes, and the detection is
//! an alert in the log store.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Instance, free_port, require_tool};

/// The 68-byte EICAR test file, built here so that no file in the repository is one.
fn eicar() -> String {
    format!("{}{}", r"X5O!P%@AP[4\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
}

/// A tiny HTTP origin: `/eicar.com` is the test file, anything else a clean text.
fn origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut socket in listener.incoming().map_while(Result::ok) {
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && socket.read(&mut byte).is_ok_and(|n| n == 1) {
                request.push(byte[0]);
            }
            let request = String::from_utf8_lossy(&request);
            let body = if request.contains("/eicar.com") { eicar() } else { "hello from a clean file\n".to_string() };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes());
            let _ = socket.write_all(body.as_bytes());
        }
    });
    port
}

struct Squid(Child);

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_squid(dir: &std::path::Path, port: u16, icap: u16) -> Squid {
    let conf = dir.join("squid.conf");
    let d = dir.display();
    std::fs::write(
        &conf,
        format!(
            "http_port 127.0.0.1:{port}\npid_filename {d}/squid.pid\ncache deny all\ncache_mem 8 MB\n\
             access_log {d}/access.log\ncache_log {d}/cache.log\ncache_store_log none\ncoredump_dir {d}\n\
             http_access allow all\nshutdown_lifetime 1 seconds\npinger_enable off\n\
             icap_enable on\nicap_preview_enable on\nicap_preview_size 1024\n\
             icap_service mamori_resp respmod_precache icap://127.0.0.1:{icap}/respmod bypass=off\n\
             adaptation_access mamori_resp allow all\n"
        ),
    )
    .unwrap();
    // Squid drops root privileges to its own user, which must be able to write here.
    let _ = Command::new("chmod").arg("0777").arg(dir).status();
    let child = Command::new("squid")
        .args(["-N", "-f"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("squid starts");
    let squid = Squid(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "squid did not listen: {}",
            std::fs::read_to_string(dir.join("cache.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    squid
}

fn get_through(proxy: u16, url: &str) -> String {
    let mut socket = TcpStream::connect(("127.0.0.1", proxy)).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let host = url.trim_start_matches("http://").split('/').next().unwrap();
    write!(socket, "GET {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    let _ = socket.read_to_string(&mut response);
    response
}

#[test]
fn squid_blocks_eicar_through_mamori_icap() {
    require_tool("squid", "squid");
    let dir = tempfile::tempdir().unwrap();
    let icap = free_port();
    let mut mamori = Instance::configure(dir.path(), |text| {
        text.replace("# icap = \"127.0.0.1:1344\"", &format!("icap = \"127.0.0.1:{icap}\""))
    });
    mamori.start();
    let origin = origin();
    let squid_dir = tempfile::tempdir().unwrap();
    let proxy = free_port();
    let _squid = start_squid(squid_dir.path(), proxy, icap);

    let clean = get_through(proxy, &format!("http://127.0.0.1:{origin}/clean.txt"));
    assert!(clean.starts_with("HTTP/1.1 200"), "clean download: {clean}");
    assert!(clean.contains("hello from a clean file"), "{clean}");

    let blocked = get_through(proxy, &format!("http://127.0.0.1:{origin}/eicar.com"));
    assert!(blocked.starts_with("HTTP/1.1 403"), "EICAR download: {blocked}");
    assert!(blocked.contains("Eicar-Test-Signature"), "{blocked}");
    assert!(!blocked.contains("EICAR-STANDARD-ANTIVIRUS-TEST-FILE"), "{blocked}");

    let found = mamori.wait_count("event.action:malware_detected AND event.module:scan", 1);
    assert!(found >= 1, "no detection event in the log store; mamori said:\n{}", mamori.log_text());
}
