//! Anti-virus in the running relay: swaks sends a mail with the EICAR file attached; `mamori up`
//! quarantines it, the recipient's mail server gets the notice in Japanese instead, and
//! `mamori mail quarantine` lists and releases (with a reason, audited), the API deletes, and the
//! events are in the log store.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use mamori_mail::testkit::sink::SmtpSink;

fn swaks(args: &[&str]) -> String {
    let out = std::process::Command::new("swaks")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("swaks is needed for this test (apt-get install swaks): {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One mail from billing@example.com to tanaka@ with `file` attached; the relay must say 250.
fn send_with_attachment(server: &str, file: &str, extra: &[&str]) {
    let mut args = vec!["--server", server, "--from", "billing@example.com", "--to", "tanaka@city.midori.example.jp"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--attach", file]);
    let out = swaks(&args);
    assert!(out.contains("<-  250 2.0.0 Ok: queued as"), "{out}");
}

#[test]
fn malware_is_quarantined_notified_and_released_by_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let hop: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut m = Instance::configure(dir.path(), |t| t.replace("10.1.0.25:25", &hop.to_string()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sink = runtime.block_on(SmtpSink::start_at(hop, false)).unwrap();
    m.start();

    let attachment = dir.path().join("invoice.exe");
    let mut eicar = String::from("X5O!P%@AP[4\\PZX54(P^)7CC)7}$");
    eicar.push_str("EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
    std::fs::write(&attachment, eicar).unwrap();
    let server = m.mail.to_string();
    send_with_attachment(&server, attachment.to_str().unwrap(), &["--header", "Subject: invoice"]);

    // The recipient's server gets the notice, not the mail.
    let got = runtime.block_on(sink.wait_for(1, 30));
    assert_eq!(got[0].from, "");
    assert_eq!(got[0].to, vec!["tanaka@city.midori.example.jp"]);
    let notice = mamori_mail::message::facts(&got[0].data);
    assert!(notice.subject.unwrap().contains("隔離しました"));

    let config = m.config.to_str().unwrap().to_string();
    let listing = m.cli_ok(&["mail", "quarantine", "list", "--json", "--config", &config]);
    let record: serde_json::Value =
        serde_json::from_str(listing.lines().next().expect("one quarantined message")).unwrap();
    assert_eq!(record["tenant"], "midori");
    assert_eq!(record["cause"], "virus");
    let id = record["id"].as_str().unwrap().to_string();
    let other = m.cli(&["mail", "quarantine", "release", &id, "--config", &config, "--reason", ""]);
    assert!(!other.status.success(), "a release without a reason is refused");

    m.cli_ok(&["mail", "quarantine", "release", &id, "--config", &config, "--reason", "送信元に確認済み"]);
    let got = runtime.block_on(sink.wait_for(2, 30));
    assert!(String::from_utf8_lossy(&got[1].data).contains("X-Mamori-Verdict: quarantine; virus: "));
    let audit = m.cli_ok(&["mail", "quarantine", "audit", "--config", &config]);
    assert!(audit.contains("released") && audit.contains(&id) && audit.contains("送信元に確認済み"), "{audit}");
    assert!(m.cli_ok(&["mail", "quarantine", "list", "--config", &config]).contains("0 message(s)"));

    // The API: a second one is listed and deleted by the prefecture's administrator.
    send_with_attachment(&server, attachment.to_str().unwrap(), &[]);
    let token = m.admin_token();
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-s", "-H", &format!("Authorization: Bearer {token}")])
            .args(args)
            .output()
            .expect("curl");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let listed = curl(&[&m.url("/api/v1/mail/quarantine")]);
    let id = listed["messages"][0]["id"].as_str().expect("one quarantined message").to_string();
    let deleted = curl(&[
        "-X",
        "DELETE",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"reason": "不要なため削除"}"#,
        &m.url(&format!("/api/v1/mail/quarantine/{id}")),
    ]);
    assert_eq!(deleted["action"], "deleted", "{deleted}");
    assert!(m.wait_count("event.dataset:mail.quarantine AND event.action:deleted", 1) >= 1);

    assert!(m.wait_count("event.dataset:mail.smtp AND event.action:quarantined AND organization.id:midori", 1) >= 1);
    assert!(m.wait_count("event.dataset:scan.detection AND organization.id:midori", 1) >= 1);
    std::thread::sleep(Duration::from_millis(100));
    m.stop();
}
