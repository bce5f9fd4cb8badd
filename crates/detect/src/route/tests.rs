//! Routing against real sockets on 127.0.0.1: a small HTTP server, UDP and TCP syslog
//! receivers, Postfix's `smtp-sink`, and a small SMTP server with STARTTLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use mamori_core::config::detect::{AlertChannel, ChannelKind};
use mamori_core::config::monitor::AlertLevel;
use serde_json::{Value, json};

use super::Router;

fn channel(name: &str, kind: ChannelKind) -> AlertChannel {
    AlertChannel {
        name: name.into(),
        kind,
        min_level: AlertLevel::Low,
        tenants: Vec::new(),
        url: None,
        token: None,
        server: None,
        from: None,
        to: Vec::new(),
        username: None,
        password: None,
        protocol: None,
        tls: None,
        ca_file: None,
    }
}

fn alert(rule: &str, tenant: &str, level: &str) -> Value {
    json!({"@timestamp": "2026-11-22T10:00:00Z", "event": {"kind": "alert", "dataset": "detect.alert"},
           "organization": {"id": tenant}, "host": {"name": "pc1"},
           "rule": {"id": rule, "name": "不審な PowerShell", "x_level": level}, "message": ".starts with a dot"})
}

/// Waits for `f` to give something (the deadline only bounds a failing test).
fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "nothing arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP server that answers 500 to the first request and 200 after, keeping (headers, body).
/// Each request's head and JSON body.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

fn http_server() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let mut conn = conn.unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                head.push_str(&line);
            }
            let len: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let status = if n == 0 { "500 Internal Server Error" } else { "200 OK" };
            conn.write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes())
                .unwrap();
            if n > 0 {
                seen.lock().unwrap().push((head, serde_json::from_slice(&body).unwrap()));
            }
        }
    });
    (url, got)
}

#[test]
fn webhook_retries_deduplicates_and_filters_by_level_and_tenant() {
    let (url, got) = http_server();
    let mut c = channel("soc", ChannelKind::Webhook);
    c.url = Some(url);
    c.token = Some("s3cret-token".into());
    c.min_level = AlertLevel::Medium;
    c.tenants = vec!["midori".into()];
    let mut router = Router::start(&[c], 300).unwrap();
    let now = Timestamp::now();
    router.route(
        &[
            alert("r1", "midori", "high"),
            alert("r1", "midori", "high"),
            alert("r2", "midori", "low"),
            alert("r3", "aoba", "critical"),
        ],
        now,
    );
    // Out of the window: sent again.
    router.route(&[alert("r1", "midori", "high")], now + jiff::SignedDuration::from_secs(301));
    let received = wait_for(|| {
        let g = got.lock().unwrap();
        (g.len() >= 2).then(|| g.clone())
    });
    assert_eq!(received.len(), 2);
    let (head, body) = &received[0];
    assert!(head.contains("Bearer s3cret-token"), "{head}");
    assert_eq!(body["rule"]["id"], "r1");
    assert_eq!(body["organization"]["id"], "midori");
}

#[test]
fn syslog_over_udp_and_tcp_in_rfc5424() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut u = channel("udp", ChannelKind::Syslog);
    u.server = Some(udp.local_addr().unwrap().to_string());
    let mut t = channel("tcp", ChannelKind::Syslog);
    t.server = Some(tcp.local_addr().unwrap().to_string());
    t.protocol = Some("tcp".into());
    let mut router = Router::start(&[u, t], 300).unwrap();
    router.route(&[alert("r1", "midori", "high")], Timestamp::now());
    let mut buf = vec![0; 65536];
    udp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let n = udp.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]).to_string();
    // local4 (20) * 8 + error (3).
    assert!(msg.starts_with("<163>1 "), "{msg}");
    assert!(msg.contains("mamori - alert [mamori@32473 rule_id=\"r1\""), "{msg}");
    assert!(msg.contains("tenant=\"midori\" level=\"high\""), "{msg}");
    let (conn, _) = tcp.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut reader = BufReader::new(conn);
    let mut len = Vec::new();
    reader.read_until(b' ', &mut len).unwrap();
    let len: usize = String::from_utf8_lossy(&len).trim().parse().unwrap();
    let mut frame = vec![0; len];
    reader.read_exact(&mut frame).unwrap();
    let frame = String::from_utf8(frame).unwrap();
    assert!(frame.starts_with("<163>1 ") && frame.ends_with('}'), "{frame}");
}

#[test]
fn email_through_smtp_sink() {
    assert!(
        std::process::Command::new("smtp-sink").arg("-h").output().is_ok(),
        "smtp-sink (Debian package postfix) is needed; .ci/run installs it"
    );
    let dir = tempfile::tempdir().unwrap();
    // smtp-sink writes as the user it drops to.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut sink = std::process::Command::new("smtp-sink")
        .args(["-u", "nobody", "-d"])
        .arg(dir.path().join("%M."))
        .arg(format!("127.0.0.1:{port}"))
        .arg("10")
        .spawn()
        .unwrap();
    wait_for(|| std::net::TcpStream::connect(("127.0.0.1", port)).ok());
    let mut c = channel("mail", ChannelKind::Email);
    c.server = Some(format!("127.0.0.1:{port}"));
    c.from = Some("mamori@soc.example.jp".into());
    c.to = vec!["soc@example.jp".into(), "duty@example.jp".into()];
    let mut router = Router::start(&[c], 300).unwrap();
    router.route(&[alert("r1", "midori", "critical")], Timestamp::now());
    let text = wait_for(|| {
        let f = std::fs::read_dir(dir.path()).ok()?.next()?.ok()?;
        let t = std::fs::read_to_string(f.path()).ok()?;
        t.contains("\"r1\"").then_some(t)
    });
    let _ = sink.kill();
    let _ = sink.wait();
    assert!(text.contains("soc@example.jp") && text.contains("duty@example.jp"), "{text}");
    assert!(text.contains("Subject: =?UTF-8?B?"), "{text}");
    assert!(text.contains("\"organization\""), "{text}");
}

/// What the STARTTLS test server saw.
#[derive(Default, Debug)]
struct SmtpSeen {
    tls: bool,
    auth: bool,
    message: Option<String>,
}

/// An SMTP server on 127.0.0.1 that offers STARTTLS with a certificate for `localhost` (rustls,
/// one connection); returns its port, the CA file to trust, and what it saw.
fn starttls_server(dir: &std::path::Path) -> (u16, std::path::PathBuf, Arc<Mutex<SmtpSeen>>) {
    let pair = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pair.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(pair.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pair.cert.der().clone()], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(SmtpSeen::default()));
    let record = seen.clone();
    std::thread::spawn(move || {
        let Ok((tcp, _)) = listener.accept() else { return };
        let mut plain = BufReader::new(tcp);
        let _ = plain.get_mut().write_all(b"220 test ESMTP\r\n");
        let mut line = String::new();
        loop {
            line.clear();
            if plain.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let cmd = line.trim_end().to_ascii_uppercase();
            if cmd.starts_with("EHLO") {
                let _ = plain.get_mut().write_all(b"250-test\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n");
            } else if cmd == "STARTTLS" {
                let _ = plain.get_mut().write_all(b"220 go ahead\r\n");
                break;
            } else {
                // The client went on in plain text: only say goodbye.
                let _ = plain.get_mut().write_all(b"530 5.7.0 STARTTLS first\r\n");
                return;
            }
        }
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = BufReader::new(rustls::StreamOwned::new(conn, plain.into_inner()));
        record.lock().unwrap().tls = true;
        let mut data = String::new();
        let mut in_data = false;
        loop {
            line.clear();
            if tls.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    record.lock().unwrap().message = Some(std::mem::take(&mut data));
                    let _ = tls.get_mut().write_all(b"250 queued\r\n");
                } else {
                    data.push_str(&line);
                }
                continue;
            }
            let cmd = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if cmd.starts_with("EHLO") {
                b"250-test\r\n250 AUTH PLAIN\r\n"
            } else if cmd.starts_with("AUTH PLAIN") {
                record.lock().unwrap().auth = true;
                b"235 ok\r\n"
            } else if cmd == "DATA" {
                in_data = true;
                b"354 go\r\n"
            } else if cmd == "QUIT" {
                let _ = tls.get_mut().write_all(b"221 bye\r\n");
                return;
            } else {
                b"250 ok\r\n"
            };
            let _ = tls.get_mut().write_all(reply);
            let _ = tls.get_mut().flush();
        }
    });
    (port, ca, seen)
}

fn mail_channel(port: u16) -> AlertChannel {
    let mut c = channel("mail", ChannelKind::Email);
    c.server = Some(format!("localhost:{port}"));
    c.from = Some("mamori@soc.example.jp".into());
    c.to = vec!["soc@example.jp".into()];
    c.username = Some("soc".into());
    c.password = Some("s3cret".into());
    c
}

#[test]
fn email_over_verified_starttls_with_auth() {
    use super::Deliver as _;
    let dir = tempfile::tempdir().unwrap();
    let (port, ca, seen) = starttls_server(dir.path());
    let mut c = mail_channel(port);
    c.tls = Some("starttls".into());
    c.ca_file = Some(ca);
    super::smtp::Smtp::new(&c).unwrap().deliver(&alert("r1", "midori", "high")).unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.tls && seen.auth, "{seen:?}");
    assert!(seen.message.as_deref().unwrap().contains("\"r1\""), "{seen:?}");
}

#[test]
fn an_unverifiable_certificate_stops_required_starttls() {
    use super::Deliver as _;
    let dir = tempfile::tempdir().unwrap();
    let (port, _, seen) = starttls_server(dir.path());
    let mut c = mail_channel(port);
    c.tls = Some("starttls".into());
    // Public roots only: the test certificate is self-signed.
    let err = super::smtp::Smtp::new(&c).unwrap().deliver(&alert("r1", "midori", "high")).unwrap_err();
    assert!(err.contains("SMTP"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    std::thread::sleep(Duration::from_millis(100));
    let seen = seen.lock().unwrap();
    assert!(!seen.auth && seen.message.is_none(), "{seen:?}");
}

#[test]
fn opportunistic_tls_encrypts_but_keeps_the_password() {
    use super::Deliver as _;
    let dir = tempfile::tempdir().unwrap();
    let (port, _, seen) = starttls_server(dir.path());
    // Unverified TLS: the alert may go, the password may not.
    let mut c = mail_channel(port);
    c.tls = Some("opportunistic".into());
    let err = super::smtp::Smtp::new(&c).unwrap().deliver(&alert("r1", "midori", "high")).unwrap_err();
    assert!(err.contains("verified TLS"), "{err}");
    assert!(seen.lock().unwrap().tls && !seen.lock().unwrap().auth);
    let (port, _, seen) = starttls_server(dir.path());
    let mut c = mail_channel(port);
    (c.username, c.password) = (None, None);
    super::smtp::Smtp::new(&c).unwrap().deliver(&alert("r2", "midori", "high")).unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.tls && seen.message.as_deref().unwrap().contains("\"r2\""), "{seen:?}");
}

#[test]
fn a_channel_that_cannot_be_built_refuses_the_router() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = mail_channel(25);
    c.tls = Some("starttls".into());
    c.ca_file = Some(dir.path().join("missing-ca.pem"));
    let err = Router::start(&[channel("ok", ChannelKind::Syslog), c], 300).err().expect("refused");
    assert!(err.contains("channel mail") && err.contains("ca_file"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn a_new_router_keeps_the_dedup_memory_of_unchanged_channels_only() {
    let (first_url, first) = http_server();
    let (second_url, second) = http_server();
    let mut c = channel("soc", ChannelKind::Webhook);
    c.url = Some(first_url);
    let now = Timestamp::now();
    let later = |s: i64| now + jiff::SignedDuration::from_secs(s);
    let mut old = Router::start(std::slice::from_ref(&c), 300).unwrap();
    old.route(&[alert("r1", "midori", "high")], now);
    wait_for(|| (first.lock().unwrap().len() == 1).then_some(()));
    // The same channel after a reload: the repeat is within the window and not sent again.
    let mut same = Router::start(std::slice::from_ref(&c), 300).unwrap();
    same.take_over(&mut old);
    same.route(&[alert("r1", "midori", "high"), alert("r2", "midori", "high")], later(10));
    wait_for(|| (first.lock().unwrap().len() == 2).then_some(()));
    // Another URL is a new destination: it gets the repeat too.
    c.url = Some(second_url);
    let mut moved = Router::start(std::slice::from_ref(&c), 300).unwrap();
    moved.take_over(&mut same);
    moved.route(&[alert("r1", "midori", "high")], later(20));
    let got = wait_for(|| {
        let g = second.lock().unwrap();
        (!g.is_empty()).then(|| g.clone())
    });
    assert_eq!(got[0].1["rule"]["id"], "r1");
    let first = first.lock().unwrap();
    let ids: Vec<&Value> = first.iter().map(|(_, b)| &b["rule"]["id"]).collect();
    assert_eq!(ids, ["r1", "r2"]);
}
