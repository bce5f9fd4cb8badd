//! Anti-virus on the relay: every message and attachment goes through the scanning engine; mail
//! with malware is quarantined and the people it was for are told in Japanese and English, or
//! refused when the tenant says so; the quarantine releases, scopes by tenant and expires.

mod support;

use base64::Engine as _;
use mamori_core::config::mail::MailAction;
use mamori_core::tenant::Contact;
use mamori_mail::policy::Route;
use mamori_mail::quarantine::{Actor, Cause, QuarantineError, release};
use support::{Client, RelaySetup};

/// The standard anti-virus test file, built here rather than stored anywhere.
fn eicar() -> Vec<u8> {
    let mut s = String::from("X5O!P%@AP[4\\PZX54(P^)7CC)7}$");
    s.push_str("EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
    s.into_bytes()
}

fn with_attachment(subject: &str, name: &str, data: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    format!(
        "From: <sender@example.com>\r\nTo: <u@a.example.jp>\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n\
         請求書を送ります。\r\n--b1\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b1--"
    )
}

fn setup() -> RelaySetup {
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
    setup.mail.max_message_bytes = 1 << 20;
    setup.antivirus = true;
    setup.tenants[0].contacts = vec![Contact {
        name: "みどり市 情報政策課".into(),
        role: Some("helpdesk".into()),
        email: Some("helpdesk@a.example.jp".into()),
        phone: Some("0120-000-000".into()),
    }];
    setup
}

fn decoded_body(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    let body = text.split("\r\n\r\n").nth(1).unwrap().replace("\r\n", "");
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(body).unwrap()).unwrap()
}

#[tokio::test]
async fn inbound_malware_is_quarantined_and_the_recipient_told() {
    let relay = setup().start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.example.com").await;
    let reply =
        c.mail("sender@example.com", &["u@a.example.jp"], &with_attachment("請求書", "invoice.com", &eicar())).await;
    assert!(reply.starts_with("250 2.0.0"), "{reply}");

    let held = relay.ctx.quarantine.list().unwrap();
    assert_eq!(held.len(), 1);
    let record = held[0].as_ref().unwrap();
    assert_eq!(record.cause, Cause::Virus);
    assert_eq!(record.tenant.as_deref(), Some("a"));
    assert!(
        record.reasons[0].starts_with("virus: ") && record.reasons[0].contains("invoice.com"),
        "{:?}",
        record.reasons
    );
    let kept = record.expires_at.duration_since(record.quarantined_at);
    assert_eq!(kept.as_hours(), 30 * 24, "default retention");
    let stored = String::from_utf8(relay.ctx.quarantine.text(&record.id).unwrap()).unwrap();
    assert!(stored.contains("X-Mamori-Verdict: quarantine; virus: "), "{stored}");

    // Nothing went to the recipient but the notice.
    let queued = relay.ctx.queue.ids().unwrap();
    assert_eq!(queued.len(), 1);
    let notice = relay.ctx.queue.load(&queued[0]).unwrap();
    assert_eq!(notice.sender, "", "notices come from <>");
    assert_eq!(notice.recipients[0].address, "u@a.example.jp");
    assert!(matches!(notice.recipients[0].route, Route::Relay { .. }));
    let text = relay.ctx.queue.text(&queued[0]).unwrap();
    assert!(mamori_mail::message::facts(&text).subject.unwrap().contains("隔離"));
    let body = decoded_body(&text);
    assert!(body.contains(&format!("隔離ID:     {}", record.id)), "{body}");
    assert!(body.contains("件名:       請求書"), "{body}");
    assert!(body.contains("helpdesk@a.example.jp") && body.contains("Quarantine ID"), "{body}");

    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let events = relay.events.json();
    let quarantined = events.iter().find(|e| e["event"]["action"] == "quarantined").expect("a quarantine event");
    assert_eq!(quarantined["organization"]["id"], "a");
    assert_eq!(quarantined["mamori"]["mail"]["verdict"], "quarantine");
    assert!(quarantined["threat"]["software"]["name"][0].as_str().unwrap().contains("Eicar"), "{quarantined}");
    let alert = events.iter().find(|e| e["event"]["dataset"] == "scan.detection").expect("a detection alert");
    assert_eq!(alert["event"]["kind"], "alert");
    assert_eq!(alert["organization"]["id"], "a");
}

#[tokio::test]
async fn a_tenant_can_refuse_malware_instead() {
    let mut setup = setup();
    setup.mail.tenants.get_mut("a").unwrap().content.virus_action = MailAction::Reject;
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.example.com").await;
    let reply = c.mail("sender@example.com", &["u@a.example.jp"], &with_attachment("x", "a.bin", &eicar())).await;
    assert!(reply.starts_with("554 5.7.1 Message refused: malware found"), "{reply}");
    assert!(relay.ctx.queue.ids().unwrap().is_empty());
    assert!(relay.ctx.quarantine.list().unwrap().is_empty());
    // The session goes on: a clean message next is accepted and scanned as clean.
    let reply = c.mail("sender@example.com", &["u@a.example.jp"], &with_attachment("y", "a.txt", b"hello")).await;
    assert!(reply.starts_with("250"), "{reply}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let events = relay.events.json();
    let accepted = events.iter().find(|e| e["event"]["action"] == "accepted").unwrap();
    assert_eq!(accepted["mamori"]["mail"]["verdict"], "deliver");
}

#[tokio::test]
async fn outbound_malware_is_held_and_the_sender_told() {
    let mut setup = setup().client_is_tenant_b();
    setup.mail.tenants.get_mut("b").unwrap().routes.insert("b.example.jp".into(), "127.0.0.1:9".into());
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO pc.b.example.jp").await;
    let reply = c.mail("staff@b.example.jp", &["someone@example.net"], &with_attachment("x", "a.zip", &eicar())).await;
    assert!(reply.starts_with("250"), "{reply}");
    let record = relay.ctx.quarantine.list().unwrap().remove(0).unwrap();
    assert_eq!(record.tenant.as_deref(), Some("b"));
    let notice = relay.ctx.queue.load(&relay.ctx.queue.ids().unwrap()[0]).unwrap();
    assert_eq!(notice.recipients[0].address, "staff@b.example.jp");
}

#[tokio::test]
async fn release_scoping_and_expiry() {
    let mut setup = setup();
    setup.mail.tenants.get_mut("a").unwrap().content.notify = false;
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.example.com").await;
    for _ in 0..2 {
        let reply = c.mail("sender@example.com", &["u@a.example.jp"], &with_attachment("x", "a.bin", &eicar())).await;
        assert!(reply.starts_with("250"), "{reply}");
    }
    assert!(relay.ctx.queue.ids().unwrap().is_empty(), "notify = false sends no notice");
    let records: Vec<_> = relay.ctx.quarantine.list().unwrap().into_iter().map(Result::unwrap).collect();

    // Another tenant's administrator can neither see nor release it.
    let actor =
        |tenant: &str| Actor { name: "admin-x".into(), tenant: Some(tenant.into()), reason: "業務上必要".into() };
    let err = release(&relay.ctx.quarantine, &relay.ctx.queue, &records[0].id, &actor("b")).unwrap_err();
    assert!(matches!(err, mamori_mail::quarantine::ReleaseError::Quarantine(QuarantineError::OtherTenant { .. })));
    let released = release(&relay.ctx.quarantine, &relay.ctx.queue, &records[0].id, &actor("a")).unwrap();
    assert_eq!(relay.ctx.queue.ids().unwrap(), vec![released.id.clone()]);
    let queued = relay.ctx.queue.load(&released.id).unwrap();
    assert_eq!(queued.recipients[0].address, "u@a.example.jp");
    assert_eq!(relay.ctx.quarantine.list().unwrap().len(), 1);

    let trail = relay.ctx.quarantine.audit_trail().unwrap();
    assert_eq!(trail.len(), 1, "only the release is recorded: the refused attempt changed nothing");
    assert_eq!((trail[0].action.as_str(), trail[0].actor.as_str()), ("released", "admin-x"));
    assert_eq!(trail[0].reason, "業務上必要");

    // Expiry deletes only what is past its time.
    assert_eq!(mamori_mail::quarantine::expiry::expire_once(&relay.ctx).await, 0);
    let later = records[1].expires_at + jiff::SignedDuration::from_secs(1);
    let gone = relay.ctx.quarantine.expire(later).unwrap();
    assert_eq!(gone.len(), 1);
    assert!(relay.ctx.quarantine.list().unwrap().is_empty());
    assert!(relay.ctx.quarantine.load(&records[1].id).unwrap_err().is_not_found());
}

#[tokio::test]
async fn an_encrypted_archive_is_tagged_not_held() {
    // A zip whose only member has the encryption flag set: the engine cannot look inside.
    let mut zip = Vec::new();
    zip.extend_from_slice(b"PK\x03\x04\x14\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x05\x00\x00\x00\x05\x00\x00\x00a.txthello");
    zip.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x05\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00a.txt");
    zip.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x33\x00\x00\x00\x2a\x00\x00\x00\x00\x00");
    let relay = setup().start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.example.com").await;
    let reply = c.mail("sender@example.com", &["u@a.example.jp"], &with_attachment("資料", "docs.zip", &zip)).await;
    assert!(reply.starts_with("250"), "{reply}");
    assert!(relay.ctx.quarantine.list().unwrap().is_empty());
    let ids = relay.ctx.queue.ids().unwrap();
    let text = relay.ctx.queue.text(&ids[0]).unwrap();
    assert_eq!(mamori_mail::message::facts(&text).subject.as_deref(), Some("【要注意】 資料"));
    let header = String::from_utf8_lossy(&text);
    assert!(header.contains("X-Mamori-Verdict: tag; suspicious: "), "{header}");
}
