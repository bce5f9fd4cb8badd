//! The isolated archive of original inbound mail: every inbound message, delivered, tagged or
//! quarantined, is also sent as it arrived to the tenant's archive server; outbound mail and
//! refused mail are not.

mod support;

use mamori_core::config::mail::ArchiveTarget;
use mamori_mail::testkit::dns::{DnsServer, Zone};
use mamori_mail::testkit::sink::SmtpSink;
use support::{Client, RelaySetup};

#[tokio::test]
async fn every_inbound_original_reaches_the_archive() {
    let mailbox = SmtpSink::start(false).await.unwrap();
    let archive = SmtpSink::start(false).await.unwrap();
    let dns = DnsServer::start(Zone::default()).await.unwrap();
    let mut setup = RelaySetup::two_tenants(&mailbox.addr.to_string());
    setup.mail.max_message_bytes = 1 << 20;
    setup.deliver_with_dns = Some(dns.addr);
    setup.antivirus = true;
    setup.spam = true;
    setup.mail.tenants.get_mut("a").unwrap().archive =
        Some(ArchiveTarget { address: "journal@archive.a.example.jp".into(), next_hop: archive.addr.to_string() });
    let relay = setup.start().await;

    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.example.com").await;
    let clean = "From: <x@example.com>\r\nSubject: hello\r\nDate: Sun, 22 Nov 2026 10:00:00 +0900\r\nMessage-ID: <c@example.com>\r\n\r\nbody\r\n";
    assert!(c.mail("x@example.com", &["u@a.example.jp", "v@a.example.jp"], clean).await.starts_with("250"));
    let gtube = clean.replace("body", mamori_mail::spam::rules::GTUBE).replace("hello", "offer");
    assert!(c.mail("x@example.com", &["u@a.example.jp"], &gtube).await.starts_with("250"));

    let copies = archive.wait_for(2, 20).await;
    assert!(copies.iter().all(|m| m.from.is_empty() && m.to == vec!["journal@archive.a.example.jp"]));
    let texts: Vec<String> = copies.iter().map(|m| String::from_utf8_lossy(&m.data).into_owned()).collect();
    let first = texts.iter().find(|t| t.contains("Subject: hello")).expect("the clean message's copy");
    assert!(first.starts_with("X-Mamori-Archive-Of: "), "{first}");
    assert!(
        first.contains(
            "X-Mamori-Envelope-From: x@example.com\r\nX-Mamori-Envelope-To: u@a.example.jp, v@a.example.jp\r\n"
        )
    );
    // The quarantined spam is archived as it arrived: no tag, no verdict header.
    let second = texts.iter().find(|t| t.contains("Subject: offer")).expect("the spam's copy");
    assert!(!second.contains("X-Mamori-Verdict") && !second.contains("【要注意】"), "{second}");
    assert_eq!(relay.ctx.quarantine.list().unwrap().len(), 1);
    // The mailbox got the clean message only.
    let delivered = mailbox.wait_for(1, 20).await;
    assert_eq!(delivered.len(), 1);
}
