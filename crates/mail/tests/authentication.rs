//! SPF, DKIM and DMARC of mail from the internet end up in one `Authentication-Results` header and in
//! the transaction's event. Uses the DKIM vector `dkim/001.txt` of mail-auth's test data
//! (Ed25519 and RSA signatures of RFC 8463's example message).

mod support;

use mamori_core::config::mail::DmarcAction;
use mamori_mail::testkit::dns::{Data, DnsServer, Zone};
use support::{Client, RelaySetup};

fn vector() -> (Vec<(String, String)>, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/mail-auth/resources/dkim/001.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("the mail-auth vectors are needed at {} (see ../shared/testdata/README.md): {e}", path.display())
    });
    let (records, message) = text.split_once("\n\n").unwrap();
    let records =
        records.lines().filter_map(|l| l.split_once(' ')).map(|(a, b)| (a.to_string(), b.to_string())).collect();
    (records, message.replace('\n', "\r\n").trim_end().to_string())
}

#[tokio::test]
async fn spf_dkim_and_dmarc_verdicts_are_recorded_in_the_header_and_the_event() {
    let (records, message) = vector();
    let mut zone = Zone::default();
    for (name, value) in &records {
        zone.add(name, Data::Txt(vec![value.as_bytes().to_vec()]));
    }
    zone.add("football.example.com", Data::Txt(vec![b"v=spf1 ip4:127.0.0.1 -all".to_vec()]));
    zone.add("forged.example", Data::Txt(vec![b"v=spf1 ip4:192.0.2.0/24 -all".to_vec()]));
    zone.add("_dmarc.football.example.com", Data::Txt(vec![b"v=DMARC1; p=reject".to_vec()]));
    let dns = DnsServer::start(zone).await.unwrap();
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
    setup.mail.max_message_bytes = 1 << 20;
    setup.authenticate_with_dns = Some(dns.addr);
    // Recorded only: what the relay does with a DMARC failure is the next test's concern.
    setup.mail.tenants.get_mut("a").unwrap().content.dmarc_action = DmarcAction::Ignore;
    let relay = setup.start().await;

    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mail.football.example.com").await;
    assert!(c.mail("joe@football.example.com", &["u@a.example.jp"], &message).await.starts_with("250"));
    let tampered = message.replace("We lost the game.", "We won the game.");
    assert!(c.mail("joe@forged.example", &["u@a.example.jp"], &tampered).await.starts_with("250"));

    let ids = relay.ctx.queue.ids().unwrap();
    let first = String::from_utf8(relay.ctx.queue.text(&ids[0]).unwrap()).unwrap();
    let header = first.split("Received:").next().unwrap();
    assert!(header.starts_with("Authentication-Results: relay.pref.example.jp;"), "{first}");
    assert_eq!(header.matches("dkim=pass").count(), 2, "{header}");
    assert!(header.contains("spf=pass") && header.contains("smtp.mailfrom=joe@football.example.com"), "{header}");
    assert!(header.contains("dmarc=pass header.from=football.example.com policy.dmarc=reject"), "{header}");
    let second = String::from_utf8(relay.ctx.queue.text(&ids[1]).unwrap()).unwrap();
    let header = second.split("Received:").next().unwrap();
    // mail-auth reports a body hash mismatch as neutral (RFC 6376 §6.3 would say fail); either
    // way the signatures do not pass.
    assert_eq!(header.matches("body hash did not verify").count(), 2, "{header}");
    assert!(!header.contains("dkim=pass"), "{header}");
    assert!(header.contains("spf=fail"), "{header}");
    // From: football.example.com, neither aligned SPF (forged.example) nor a passing signature.
    assert!(
        header
            .contains("dmarc=fail (no aligned SPF or DKIM pass) header.from=football.example.com policy.dmarc=reject"),
        "{header}"
    );

    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let accepted: Vec<_> = relay.events.json().into_iter().filter(|e| e["event"]["action"] == "accepted").collect();
    assert_eq!(accepted[0]["mamori"]["mail"]["spf"], "pass");
    assert_eq!(accepted[0]["mamori"]["mail"]["dkim"], serde_json::json!(["pass", "pass"]));
    assert_eq!(accepted[0]["mamori"]["mail"]["dmarc"], serde_json::json!({"result": "pass", "policy": "reject"}));
    assert_eq!(accepted[1]["mamori"]["mail"]["spf"], "fail");
    assert_eq!(accepted[1]["mamori"]["mail"]["dmarc"]["result"], "fail");
}

/// The same forged message (DMARC fails, the author domain publishes `p=reject`) under each
/// tenant setting: `follow` refuses it, `quarantine` holds it, `tag` marks its subject.
#[tokio::test]
async fn a_dmarc_failure_is_acted_on_per_tenant() {
    let (records, message) = vector();
    let mut zone = Zone::default();
    for (name, value) in &records {
        zone.add(name, Data::Txt(vec![value.as_bytes().to_vec()]));
    }
    zone.add("forged.example", Data::Txt(vec![b"v=spf1 ip4:192.0.2.0/24 -all".to_vec()]));
    zone.add("_dmarc.football.example.com", Data::Txt(vec![b"v=DMARC1; p=reject".to_vec()]));
    let dns = DnsServer::start(zone).await.unwrap();
    let tampered = message.replace("We lost the game.", "We won the game.");
    for (action, expect) in
        [(DmarcAction::Follow, "550 5.7.1"), (DmarcAction::Quarantine, "250"), (DmarcAction::Tag, "250")]
    {
        let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
        setup.mail.max_message_bytes = 1 << 20;
        setup.authenticate_with_dns = Some(dns.addr);
        setup.mail.tenants.get_mut("a").unwrap().content.dmarc_action = action;
        let relay = setup.start().await;
        let mut c = Client::connect(relay.addr).await;
        c.cmd("EHLO mail.forged.example").await;
        let reply = c.mail("joe@forged.example", &["u@a.example.jp"], &tampered).await;
        assert!(reply.starts_with(expect), "{action:?}: {reply}");
        let queued = relay.ctx.queue.ids().unwrap();
        let held = relay.ctx.quarantine.list().unwrap();
        match action {
            DmarcAction::Follow => {
                assert!(reply.contains("DMARC"), "{reply}");
                assert!(queued.is_empty() && held.is_empty());
            }
            DmarcAction::Quarantine => {
                assert!(queued.is_empty(), "a DMARC quarantine sends no notice");
                let record = held[0].as_ref().unwrap();
                assert_eq!(record.cause, mamori_mail::quarantine::Cause::Dmarc);
                assert_eq!(record.tenant.as_deref(), Some("a"));
                assert_eq!(record.reasons, vec!["dmarc: fail (p=reject)"]);
            }
            _ => {
                let text = relay.ctx.queue.text(&queued[0]).unwrap();
                let facts = mamori_mail::message::facts(&text);
                assert!(facts.subject.unwrap().starts_with("【要注意】 "));
                assert!(String::from_utf8_lossy(&text).contains("X-Mamori-Verdict: tag; dmarc: fail (p=reject)\r\n"));
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let events = relay.events.json();
        let last = events.iter().rev().find(|e| e["event"]["dataset"] == "mail.smtp").unwrap();
        let verdict = &last["mamori"]["mail"]["verdict"];
        assert_eq!(
            verdict,
            match action {
                DmarcAction::Follow => "reject",
                DmarcAction::Quarantine => "quarantine",
                _ => "tag",
            }
        );
    }
}
