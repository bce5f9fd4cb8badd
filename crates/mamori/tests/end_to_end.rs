//! The quick start as a user does it: init, check, up, send syslog with real clients, search.

mod common;

use std::process::Command;

use common::*;

#[test]
fn syslog_from_real_clients_is_attributed_and_searchable() {
    require_tool("logger", "bsdutils");
    require_tool("openssl", "openssl");
    let dir = tempfile::tempdir().unwrap();
    let mut m = Instance::configure(dir.path(), |t| t);
    assert!(m.cli_ok(&["check-config"]).contains("OK (2 tenants"));
    m.start();
    let port = m.syslog.port().to_string();

    // util-linux logger: TCP with octet counting (RFC 6587) and UDP (RFC 5424).
    let tcp = Command::new("logger")
        .args(["-n", "127.0.0.1", "-P", &port, "--tcp", "--octet-count", "--rfc3164", "-t", "sshd"])
        .arg("Failed password for root from 10.1.2.3 port 5050 ssh2")
        .status()
        .unwrap();
    assert!(tcp.success());
    let udp = Command::new("logger")
        .args(["-n", "127.0.0.1", "-P", &port, "-d", "-t", "業務アプリ"])
        .arg("ログイン失敗 ユーザー=yamada")
        .status()
        .unwrap();
    assert!(udp.success());
    // OpenSSL as a syslog-over-TLS client (RFC 5425 framing).
    let line = "<38>1 2026-11-21T10:00:00+09:00 fw01 kernel - - - DROP SRC=10.1.9.9 DST=8.8.8.8";
    let framed = format!("{} {line}", line.len());
    let mut openssl = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect", &m.syslog_tls.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = openssl.stdin.take().unwrap();
        stdin.write_all(framed.as_bytes()).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let _ = openssl.kill();

    assert_eq!(m.wait_count("\"failed password\"", 1), 1);
    assert_eq!(m.wait_count("ログイン失敗", 1), 1);
    assert_eq!(m.wait_count("host.hostname:fw01 AND DROP", 1), 1, "{}", m.log_text());
    // 127.0.0.1 is a log sender of みどり市 in the demo configuration.
    let top = m.cli_ok(&["logs", "search", "--last", "1h", "--top", "organization.id", "event.dataset:syslog"]);
    assert!(top.contains("midori"), "{top}");
    assert!(!top.contains("aoba"), "{top}");
    let tenant = m.cli_ok(&["logs", "search", "--last", "1h", "--tenant", "aoba", "--count", "failed"]);
    assert!(tenant.starts_with("0 matching"), "{tenant}");

    // A sender in no tenant's networks: kept in `unassigned`, with one alarm.
    let sock = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
    for _ in 0..3 {
        sock.send_to(b"<13>Nov 21 10:00:00 rogue app: hello from nowhere", m.syslog).unwrap();
    }
    assert_eq!(m.wait_count("organization.id:unassigned AND nowhere", 3), 3);
    assert_eq!(m.wait_count("event.dataset:mamori.alarm AND event.action:unassigned_sender", 1), 1);

    // Malformed and oversized input is kept and flagged.
    let garbage: &[u8] = b"\x00\x01 not syslog at all \xff\xfe";
    let long = format!("<13>Nov 21 10:00:00 host app: {}", "x".repeat(70 * 1024));
    send_tcp(m.syslog, &[garbage, long.as_bytes()]);
    assert!(m.wait_count("tags:_parse_failure", 1) >= 1);
    assert_eq!(m.wait_count("tags:_truncated", 1), 1);

    // Metrics count what came in.
    let metrics = http()
        .get(&m.url("/metrics"))
        .header("Authorization", &format!("Bearer {}", m.admin_token()))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(metrics.contains("mamori_events_accepted_total"), "{metrics}");
    m.stop();
}
