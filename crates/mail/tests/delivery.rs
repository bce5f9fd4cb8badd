//! Delivery from the queue to real SMTP servers: a tenant's next hop (over opportunistic TLS),
//! retries after 4xx, a DSN after 5xx, and MX routing through a DNS server.

mod support;

use std::time::Duration;

use mamori_mail::testkit::dns::{Data, DnsServer, Zone};
use mamori_mail::testkit::sink::{Script, SmtpSink};
use support::{Client, RelaySetup};

const BODY: &str = "From: x@y.example\r\nTo: u@a.example.jp\r\nSubject: =?UTF-8?B?5pel5pys6Kqe?=\r\nMessage-ID: <m1@y.example>\r\n\r\n..leading dot (stuffed on the wire)\r\nbody";

async fn wait_until_empty(relay: &support::Relay) {
    for _ in 0..200 {
        if relay.ctx.queue.ids().unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the queue did not empty: {:?}", relay.ctx.queue.ids());
}

#[tokio::test]
async fn inbound_mail_reaches_the_next_hop_over_tls_with_trace_headers() {
    let sink = SmtpSink::start(true).await.unwrap();
    let dns = DnsServer::start(Zone::default()).await.unwrap();
    let mut setup = RelaySetup::two_tenants(&sink.addr.to_string());
    setup.deliver_with_dns = Some(dns.addr);
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    assert!(c.mail("x@y.example", &["u@a.example.jp", "v@a.example.jp"], BODY).await.starts_with("250"));
    let got = sink.wait_for(1, 10).await;
    assert_eq!(got[0].from, "x@y.example");
    assert_eq!(got[0].to, vec!["u@a.example.jp", "v@a.example.jp"]);
    assert!(got[0].tls, "opportunistic STARTTLS to the next hop");
    let text = String::from_utf8(got[0].data.clone()).unwrap();
    assert!(text.starts_with("Received: from client.example ([127.0.0.1])"), "{text}");
    assert!(text.contains("\r\n.leading dot (stuffed on the wire)\r\n"), "dot-stuffing round trip: {text}");
    wait_until_empty(&relay).await;
    let events = relay.events.json();
    let accepted = events.iter().find(|e| e["event"]["action"] == "accepted").unwrap();
    assert_eq!(accepted["email"]["subject"], "日本語");
    assert_eq!(accepted["email"]["message_id"], "m1@y.example");
    assert_eq!(accepted["organization"]["id"], "a");
    let delivered: Vec<_> = events.iter().filter(|e| e["event"]["dataset"] == "mail.delivery").collect();
    assert_eq!(delivered.len(), 2);
    assert!(delivered.iter().all(|e| e["event"]["outcome"] == "success" && e["mamori"]["mail"]["tls"] == true));
}

#[tokio::test]
async fn a_4xx_is_retried_and_a_5xx_is_returned_to_the_sender_with_a_dsn() {
    let sink = SmtpSink::start(false).await.unwrap();
    let dns = DnsServer::start(Zone::default()).await.unwrap();
    let mut setup = RelaySetup::two_tenants(&sink.addr.to_string()).client_is_tenant_b();
    // b's domain is routed to the sink too, so the DSN to b's sender arrives there.
    setup.mail.tenants.entry("b".into()).or_default().routes.insert("b.example.jp".into(), sink.addr.to_string());
    setup.deliver_with_dns = Some(dns.addr);
    sink.push_script(Script::Rcpt("450 4.2.0 mailbox busy, try later".into()));
    sink.push_script(Script::Data("451 4.3.0 try again".into()));
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    assert!(c.mail("me@b.example.jp", &["u@a.example.jp"], BODY).await.starts_with("250"));
    let got = sink.wait_for(1, 10).await;
    assert_eq!(got[0].to, vec!["u@a.example.jp"]);
    assert!(sink.connections() >= 3, "two deferrals, then delivery");
    wait_until_empty(&relay).await;
    let deferred = relay.events.json().iter().filter(|e| e["event"]["action"] == "deferred").count();
    assert_eq!(deferred, 2);

    sink.push_script(Script::Rcpt("550 5.1.1 no such user".into()));
    assert!(c.mail("me@b.example.jp", &["nobody@a.example.jp"], BODY).await.starts_with("250"));
    let got = sink.wait_for(2, 10).await;
    let dsn = &got[1];
    assert_eq!(dsn.from, "", "a DSN is sent from <>");
    assert_eq!(dsn.to, vec!["me@b.example.jp"]);
    let text = String::from_utf8(dsn.data.clone()).unwrap();
    assert!(text.contains("Content-Type: multipart/report; report-type=delivery-status;"), "{text}");
    assert!(
        text.contains("Final-Recipient: rfc822; nobody@a.example.jp\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
        "{text}"
    );
    assert!(text.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user"), "{text}");
    assert!(text.contains("Content-Type: text/rfc822-headers"), "{text}");
    assert!(text.contains("Message-ID: <m1@y.example>"), "the original header is attached");
    let human =
        text.split("Content-Transfer-Encoding: base64\r\n\r\n").nth(1).unwrap().split("\r\n\r\n").next().unwrap();
    let decoded = decode_b64(&human.replace("\r\n", ""));
    assert!(decoded.contains("配送できませんでした") && decoded.contains("could not be delivered"), "{decoded}");
    wait_until_empty(&relay).await;
}

/// A next hop that keeps answering 4xx: after `delay_warning` the sender is told once, with
/// `Action: delayed` and the time retries end; delivery goes on.
#[tokio::test]
async fn a_long_delay_is_reported_once_to_the_sender() {
    let sink = SmtpSink::start(false).await.unwrap();
    let dns = DnsServer::start(Zone::default()).await.unwrap();
    let mut setup = RelaySetup::two_tenants(&sink.addr.to_string()).client_is_tenant_b();
    setup.mail.tenants.get_mut("b").unwrap().routes.insert("b.example.jp".into(), sink.addr.to_string());
    setup.deliver_with_dns = Some(dns.addr);
    setup.retry = vec![Duration::from_millis(200)];
    setup.delay_warning = Some(Duration::from_millis(500));
    for _ in 0..6 {
        sink.push_script(Script::Rcpt("451 4.2.1 mailbox temporarily unavailable".into()));
    }
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    assert!(c.mail("me@b.example.jp", &["u@a.example.jp"], BODY).await.starts_with("250"));
    // The notice goes to me@b.example.jp (the sink is also b's mail server); then the original.
    let got = sink.wait_for(2, 20).await;
    let notice = got.iter().find(|m| m.from.is_empty()).expect("a delay notice from <>");
    assert_eq!(notice.to, vec!["me@b.example.jp"]);
    let text = String::from_utf8_lossy(&notice.data);
    assert!(text.contains("Final-Recipient: rfc822; u@a.example.jp\r\nAction: delayed\r\nStatus: 4.2.1\r\n"), "{text}");
    assert!(text.contains("Will-Retry-Until: "), "{text}");
    assert!(got.iter().any(|m| m.from == "me@b.example.jp" && m.to == vec!["u@a.example.jp"]));
    wait_until_empty(&relay).await;
    let notices = sink.received().iter().filter(|m| m.from.is_empty()).count();
    assert_eq!(notices, 1, "told once");
}

#[tokio::test]
async fn outbound_mail_goes_to_the_lowest_preference_mx_that_answers() {
    let sink = SmtpSink::start(true).await.unwrap();
    let mut zone = Zone::default();
    zone.add("other.example", Data::Mx(5, "mx-down.other.example".into()));
    zone.add("other.example", Data::Mx(10, "mx.other.example".into()));
    // The preferred MX refuses connections (nothing listens on 127.0.0.2 at the sink's port).
    zone.add("mx-down.other.example", Data::A("127.0.0.2".parse().unwrap()));
    zone.add("mx.other.example", Data::A("127.0.0.1".parse().unwrap()));
    zone.add("implicit.example", Data::A("127.0.0.1".parse().unwrap()));
    zone.add("nullmx.example", Data::Mx(0, ".".into()));
    let dns = DnsServer::start(zone).await.unwrap();
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9").client_is_tenant_b();
    setup.mail.delivery_port = sink.addr.port();
    setup.deliver_with_dns = Some(dns.addr);
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    assert!(
        c.mail("me@b.example.jp", &["friend@other.example", "x@implicit.example", "y@nullmx.example"], BODY)
            .await
            .starts_with("250")
    );
    let got = sink.wait_for(2, 15).await;
    let mut to: Vec<String> = got.iter().flat_map(|r| r.to.clone()).collect();
    to.sort();
    assert_eq!(to, vec!["friend@other.example", "x@implicit.example"]);
    wait_until_empty(&relay).await;
    let failed: Vec<_> = relay.events.json().into_iter().filter(|e| e["event"]["action"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["message"].as_str().unwrap().contains("null MX"), "{}", failed[0]["message"]);
}

fn decode_b64(s: &str) -> String {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let n = chunk.iter().filter(|&&c| c != b'=').fold(0u32, |acc, &c| acc << 6 | val(c) as u32)
            << (6 * chunk.iter().filter(|&&c| c == b'=').count());
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - chunk.iter().filter(|&&c| c == b'=').count()]);
    }
    String::from_utf8_lossy(&out).into_owned()
}
