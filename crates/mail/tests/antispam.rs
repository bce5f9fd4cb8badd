//! Anti-spam on mail from the internet: GTUBE, a DNS block list, Japanese advertising in
//! ISO-2022-JP, sender allow and block lists, and each tenant's thresholds; mail from a
//! tenant's own network is not scored.

mod support;

use mamori_mail::quarantine::Cause;
use mamori_mail::spam::rules::GTUBE;
use mamori_mail::testkit::dns::{Data, DnsServer, Zone};
use support::{Client, Relay, RelaySetup};

fn mail(subject: &str, body: &str) -> String {
    format!(
        "From: <news@shop.example>\r\nTo: <u@a.example.jp>\r\nSubject: {subject}\r\nDate: Sun, 22 Nov 2026 10:00:00 +0900\r\nMessage-ID: <x@shop.example>\r\n\r\n{body}\r\n"
    )
}

async fn relay(edit: impl FnOnce(&mut RelaySetup)) -> (Relay, DnsServer) {
    let mut zone = Zone::default();
    // RFC 5782 §5: 127.0.0.2 is listed in every DNSBL; 127.0.0.1 is not.
    zone.add("1.0.0.127.bl.example", Data::A("127.0.0.2".parse().unwrap()));
    zone.add("evil.example.uribl.example", Data::A("127.0.0.2".parse().unwrap()));
    let dns = DnsServer::start(zone).await.unwrap();
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
    setup.mail.max_message_bytes = 1 << 20;
    setup.spam = true;
    // Block lists go through the test DNS server; SPF is not asked.
    setup.spam_dns = Some(dns.addr);
    edit(&mut setup);
    (setup.start().await, dns)
}

async fn send(relay: &Relay, subject: &str, body: &str) -> String {
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.shop.example").await;
    c.mail("news@shop.example", &["u@a.example.jp"], &mail(subject, body)).await
}

async fn last_event(relay: &Relay) -> serde_json::Value {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    relay.events.json().into_iter().rev().find(|e| e["event"]["dataset"] == "mail.smtp").unwrap()
}

#[tokio::test]
async fn gtube_is_quarantined_without_notice() {
    let (relay, _dns) = relay(|_| {}).await;
    assert!(send(&relay, "test", GTUBE).await.starts_with("250"));
    let held = relay.ctx.quarantine.list().unwrap();
    let record = held[0].as_ref().unwrap();
    assert_eq!(record.cause, Cause::Spam);
    assert!(record.reasons[0].contains("GTUBE(1000)"), "{:?}", record.reasons);
    assert!(relay.ctx.queue.ids().unwrap().is_empty(), "spam is held silently");
    let event = last_event(&relay).await;
    assert_eq!(event["event"]["action"], "quarantined");
    assert!(event["mamori"]["mail"]["spam_score"].as_f64().unwrap() >= 1000.0);
}

#[tokio::test]
async fn a_dns_block_list_and_link_list_add_up_to_a_tag_and_a_quarantine() {
    let (relay, _dns) = relay(|s| {
        s.mail.spam.dnsbl = vec!["bl.example".into()];
        s.mail.spam.uribl = vec!["uribl.example".into()];
    })
    .await;
    // Listed client (127.0.0.1 is listed in the test zone): 5 points, a tag.
    assert!(send(&relay, "hello", "plain text").await.starts_with("250"));
    let text = relay.ctx.queue.text(&relay.ctx.queue.ids().unwrap()[0]).unwrap();
    assert_eq!(mamori_mail::message::facts(&text).subject.as_deref(), Some("【要注意】 hello"));
    assert!(String::from_utf8_lossy(&text).contains("DNSBL(bl.example)(5)"));
    // And a link to a listed host: 9 points, still a tag; with phishing words past 10.
    let body = "アカウントが停止されました。本人確認が必要です。 https://evil.example/login";
    assert!(send(&relay, "重要", body).await.starts_with("250"));
    let record = relay.ctx.quarantine.list().unwrap().remove(0).unwrap();
    assert_eq!(record.cause, Cause::Spam);
    let reasons = record.reasons.join(" ");
    assert!(
        reasons.contains("URIBL(uribl.example:evil.example)(4)") && reasons.contains("JP_PHISHING_WORDS"),
        "{reasons}"
    );
}

#[tokio::test]
async fn japanese_advertising_is_its_own_class() {
    let (relay, _dns) = relay(|s| {
        s.mail.tenants.get_mut("a").unwrap().content.advertising_action =
            mamori_core::config::mail::MailAction::Quarantine;
    })
    .await;
    // ISO-2022-JP subject and body, as Japanese bulk mailers still send them.
    let subject = format!("=?ISO-2022-JP?B?{}?=", b64(&encoding_rs::ISO_2022_JP.encode("未承諾広告※セール").0));
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.shop.example").await;
    let text = format!(
        "From: <news@shop.example>\r\nSubject: {subject}\r\nDate: Sun, 22 Nov 2026 10:00:00 +0900\r\nMessage-ID: <y@shop.example>\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\nsale\r\n"
    );
    assert!(c.mail("news@shop.example", &["u@a.example.jp"], &text).await.starts_with("250"));
    let record = relay.ctx.quarantine.list().unwrap().remove(0).unwrap();
    assert_eq!(record.cause, Cause::Advertising);
}

#[tokio::test]
async fn allow_and_block_lists_and_a_refusal_threshold() {
    let (relay, _dns) = relay(|s| {
        s.mail.spam.block_senders = vec!["shop.example".into()];
        let content = &mut s.mail.tenants.get_mut("a").unwrap().content;
        content.allow_senders = vec!["news@shop.example".into()];
    })
    .await;
    // The tenant's allow list beats the common block list, and even GTUBE.
    assert!(send(&relay, "newsletter", GTUBE).await.starts_with("250"));
    assert_eq!(relay.ctx.queue.ids().unwrap().len(), 1);
    assert_eq!(last_event(&relay).await["mamori"]["mail"]["verdict"], "deliver");

    let (relay, _dns) = relay_strict().await;
    let reply = send(&relay, "newsletter", "hi").await;
    assert!(reply.starts_with("550 5.7.1 Message refused as spam"), "{reply}");
}

async fn relay_strict() -> (Relay, DnsServer) {
    relay(|s| {
        s.mail.spam.block_senders = vec!["@shop.example".into()];
        s.mail.tenants.get_mut("a").unwrap().content.spam_reject_score = Some(50.0);
    })
    .await
}

#[tokio::test]
async fn a_tenants_own_mail_is_not_scored() {
    let (relay, _dns) = relay(|s| {
        let b = s.mail.tenants.entry("b".into()).or_default();
        b.sender_networks = Some(vec!["127.0.0.1/32".parse().unwrap()]);
    })
    .await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO pc.b.example.jp").await;
    let reply = c.mail("staff@b.example.jp", &["x@example.net"], &mail("test", GTUBE)).await;
    assert!(reply.starts_with("250"), "{reply}");
    assert_eq!(relay.ctx.queue.ids().unwrap().len(), 1);
    assert!(last_event(&relay).await["mamori"]["mail"].get("spam_score").is_none());
}

fn b64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}
