//! DKIM signing of outbound mail per tenant domain: an RSA key made by openssl and an Ed25519
//! key; the published records (`mamori mail dkim-records`) verify the signatures with
//! mail-auth's verifier; mail from other domains and inbound mail go unsigned.

mod support;

use mail_auth::{AuthenticatedMessage, DkimResult};
use mamori_core::config::mail::DkimKey;
use mamori_mail::dkim_sign::DkimSigners;
use mamori_mail::testkit::dns::{Data, DnsServer, Zone};
use support::{Client, RelaySetup};

fn rsa_key(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("rsa.pem");
    let status = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"])
        .arg(&path)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("openssl is needed for this test (apt-get install openssl): {e}"));
    assert!(status.success());
    path
}

fn ed25519_key(dir: &std::path::Path) -> std::path::PathBuf {
    use base64::Engine as _;
    let der = mail_auth::common::crypto::Ed25519Key::generate_pkcs8().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let path = dir.join("ed25519.pem");
    std::fs::write(&path, format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n")).unwrap();
    path
}

fn message(from: &str) -> String {
    format!(
        "From: Staff <{from}>\r\nTo: <x@example.net>\r\nSubject: 会議のご案内\r\nDate: Sun, 22 Nov 2026 10:00:00 +0900\r\nMessage-ID: <m1@b.example.jp>\r\n\r\n本文です。\r\n"
    )
}

#[tokio::test]
async fn outbound_mail_is_signed_and_verifies_with_the_published_keys() {
    let keys = tempfile::tempdir().unwrap();
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9").client_is_tenant_b();
    setup.mail.max_message_bytes = 1 << 20;
    let b = setup.mail.tenants.get_mut("b").unwrap();
    b.dkim = vec![
        DkimKey { domain: "b.example.jp".into(), selector: "rsa2026".into(), key: rsa_key(keys.path()) },
        DkimKey { domain: "news.b.example.jp".into(), selector: "ed".into(), key: ed25519_key(keys.path()) },
    ];
    setup.tenants[1].domains.push("news.b.example.jp".into());
    let signers = DkimSigners::load(&setup.mail, keys.path()).unwrap();
    let records = signers.dns_records();
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .any(|r| r.name == "rsa2026._domainkey.b.example.jp" && r.value.starts_with("v=DKIM1; k=rsa; p=MIIB"))
    );
    let mut zone = Zone::default();
    for r in &records {
        zone.add(&r.name, Data::Txt(vec![r.value.as_bytes().to_vec()]));
    }
    let dns = DnsServer::start(zone).await.unwrap();
    let relay = setup.start().await;

    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO pc.b.example.jp").await;
    for from in ["staff@b.example.jp", "staff@sales.b.example.jp", "news@news.b.example.jp", "someone@example.org"] {
        let reply = c.mail("staff@b.example.jp", &["x@example.net"], &message(from)).await;
        assert!(reply.starts_with("250"), "{reply}");
    }
    let auth = mamori_mail::auth::authenticator(Some(dns.addr), std::time::Duration::from_secs(2)).unwrap();
    let ids = relay.ctx.queue.ids().unwrap();
    let mut seen = Vec::new();
    for id in &ids {
        let text = relay.ctx.queue.text(id).unwrap();
        let parsed = AuthenticatedMessage::parse(&text).unwrap();
        let outputs = auth.verify_dkim(&parsed).await;
        let header = String::from_utf8_lossy(&text).split("\r\n\r\n").next().unwrap().to_string();
        let d = header.split("d=").nth(1).map(|r| r.split(';').next().unwrap().to_string());
        seen.push((outputs.iter().map(|o| o.result().clone()).collect::<Vec<_>>(), d));
    }
    assert_eq!(seen[0], (vec![DkimResult::Pass], Some("b.example.jp".into())), "RSA, the From: domain");
    assert_eq!(seen[1], (vec![DkimResult::Pass], Some("b.example.jp".into())), "a subdomain, by its parent's key");
    assert_eq!(seen[2], (vec![DkimResult::Pass], Some("news.b.example.jp".into())), "Ed25519");
    assert_eq!(seen[3], (vec![], None), "another domain in From: is not signed");
}

#[tokio::test]
async fn inbound_mail_is_not_signed() {
    let keys = tempfile::tempdir().unwrap();
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
    setup.mail.tenants.get_mut("a").unwrap().dkim =
        vec![DkimKey { domain: "a.example.jp".into(), selector: "s".into(), key: ed25519_key(keys.path()) }];
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.example.com").await;
    let reply = c.mail("x@example.com", &["u@a.example.jp"], &message("u@a.example.jp")).await;
    assert!(reply.starts_with("250"), "{reply}");
    let text = relay.ctx.queue.text(&relay.ctx.queue.ids().unwrap()[0]).unwrap();
    assert!(!String::from_utf8_lossy(&text).contains("DKIM-Signature"));
}

#[test]
fn a_bad_key_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.pem"), "not a key").unwrap();
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
    setup.mail.tenants.get_mut("a").unwrap().dkim =
        vec![DkimKey { domain: "a.example.jp".into(), selector: "s".into(), key: "bad.pem".into() }];
    let err = DkimSigners::load(&setup.mail, dir.path()).err().unwrap();
    assert!(err.starts_with("mail.tenants.a.dkim[0].key: ") && err.contains("bad.pem"), "{err}");
}
