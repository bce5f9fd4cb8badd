//! The SMTP server over real sockets: extensions, reply codes, limits, pipelining, STARTTLS,
//! CHUNKING, and the smuggling sequences.

mod support;

use support::{Client, RelaySetup, assert_enhanced};

const BODY: &str = "From: x@y.example\r\nTo: u@a.example.jp\r\nSubject: hello\r\nMessage-ID: <m1@y.example>\r\n\r\nhi";

#[tokio::test]
async fn ehlo_offers_the_extensions_and_every_reply_has_an_enhanced_code() {
    let relay = RelaySetup::two_tenants("127.0.0.1:9").start().await;
    let mut c = Client::connect(relay.addr).await;
    let ehlo = c.cmd("EHLO client.example").await;
    for kw in ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "SIZE 10000", "STARTTLS"] {
        assert!(ehlo.lines().any(|l| l[4..] == *kw), "{kw} missing in {ehlo}");
    }
    for (cmd, code) in [
        ("NOOP", "250"),
        ("RCPT TO:<u@a.example.jp>", "503"),
        ("DATA", "503"),
        ("FROB", "500"),
        ("MAIL FROM:<bad@@x>", "501"),
        ("MAIL FROM:<x@y.example> FOO=1", "555"),
        ("MAIL FROM:<x@y.example> SIZE=20000", "552"),
        ("VRFY u", "252"),
        ("EXPN list", "502"),
        ("MAIL FROM:<x@y.example>", "250"),
        ("MAIL FROM:<x@y.example>", "503"),
        ("RCPT TO:<u@a.example.jp>", "250"),
        ("RSET", "250"),
    ] {
        let r = c.cmd(cmd).await;
        assert!(r.starts_with(code), "{cmd}: {r}");
        assert_enhanced(&r);
    }
    let long = format!("NOOP {}", "x".repeat(600));
    let r = c.cmd(&long).await;
    assert!(r.starts_with("500 5.5.2"), "{r}");
    assert!(c.cmd("QUIT").await.starts_with("221 2.0.0"));
}

#[tokio::test]
async fn pipelined_transaction_is_queued_once_and_size_limit_holds() {
    let relay = RelaySetup::two_tenants("127.0.0.1:9").start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    // RFC 2920: the whole group in one write, the replies in order.
    c.send(b"MAIL FROM:<x@y.example>\r\nRCPT TO:<u@a.example.jp>\r\nRCPT TO:<v@other.example>\r\nRCPT TO:<w@a.example.jp>\r\nDATA\r\n").await;
    let replies = [c.reply().await, c.reply().await, c.reply().await, c.reply().await, c.reply().await];
    assert!(replies[0].starts_with("250 2.1.0") && replies[1].starts_with("250 2.1.5"), "{replies:?}");
    assert!(replies[2].starts_with("550 5.7.1"), "{replies:?}");
    assert!(replies[3].starts_with("250 2.1.5") && replies[4].starts_with("354"), "{replies:?}");
    c.send(format!("{BODY}\r\n.\r\n").as_bytes()).await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 Ok: queued as "), "{r}");
    let ids = relay.ctx.queue.ids().unwrap();
    assert_eq!(ids.len(), 1);
    let env = relay.ctx.queue.load(&ids[0]).unwrap();
    assert_eq!(env.recipients.len(), 2);
    assert_eq!(env.subject.as_deref(), Some("hello"));
    let text = String::from_utf8(relay.ctx.queue.text(&ids[0]).unwrap()).unwrap();
    assert!(text.starts_with("Received: from client.example ([127.0.0.1])"), "{text}");

    let big = format!("Subject: big\r\n\r\n{}", "0123456789\r\n".repeat(1000));
    let r = c.mail("x@y.example", &["u@a.example.jp"], &big).await;
    assert!(r.starts_with("552 5.3.4"), "{r}");
    for i in 0..5 {
        assert!(c.cmd(if i == 0 { "MAIL FROM:<x@y.example>" } else { "NOOP" }).await.starts_with("250"));
    }
    for i in 0..5 {
        assert!(c.cmd(&format!("RCPT TO:<u{i}@a.example.jp>")).await.starts_with("250"));
    }
    assert!(c.cmd("RCPT TO:<u9@a.example.jp>").await.starts_with("452 4.5.3"));
    assert_eq!(relay.ctx.queue.ids().unwrap().len(), 1);
}

/// The sequences of SEC Consult's SMTP smuggling research (2023): each hides a second message
/// behind a terminator some servers accept. The relay refuses the whole message and sees no
/// second transaction.
#[tokio::test]
async fn smuggled_messages_are_refused_whole() {
    let relay = RelaySetup::two_tenants("127.0.0.1:9").start().await;
    for end in ["\n.\n", "\n.\r\n", "\r.\r", "\r.\r\n", "\r\n.\r", "\r\n.\n"] {
        let mut c = Client::connect(relay.addr).await;
        c.cmd("EHLO client.example").await;
        assert!(c.cmd("MAIL FROM:<x@y.example>").await.starts_with("250"));
        assert!(c.cmd("RCPT TO:<u@a.example.jp>").await.starts_with("250"));
        assert!(c.cmd("DATA").await.starts_with("354"));
        let smuggled = format!(
            "Subject: one\r\n\r\nfirst{end}MAIL FROM:<admin@a.example.jp>\r\nRCPT TO:<victim@a.example.jp>\r\nDATA\r\nSubject: smuggled\r\n\r\nsecond\r\n.\r\n"
        );
        c.send(smuggled.as_bytes()).await;
        let r = c.reply().await;
        assert!(r.starts_with("550 5.6.0"), "{end:?}: {r}");
        assert!(c.cmd("NOOP").await.starts_with("250"), "{end:?}: the session is in step");
    }
    assert!(relay.ctx.queue.ids().unwrap().is_empty());
    let refused = relay.events.json().iter().filter(|e| e["event"]["action"] == "message_refused").count();
    assert_eq!(refused, 6);
}

#[tokio::test]
async fn chunking_normalises_line_ends() {
    let relay = RelaySetup::two_tenants("127.0.0.1:9").start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    c.cmd("MAIL FROM:<x@y.example> BODY=BINARYMIME").await;
    c.cmd("RCPT TO:<u@a.example.jp>").await;
    c.send(b"BDAT 14\r\nSubject: x\n\nab").await;
    assert!(c.reply().await.starts_with("250 2.0.0 14 octets"));
    c.send(b"BDAT 4 LAST\r\nc\rd\n").await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 Ok: queued"), "{r}");
    let id = &relay.ctx.queue.ids().unwrap()[0];
    let text = relay.ctx.queue.text(id).unwrap();
    assert!(text.ends_with(b"Subject: x\r\n\r\nabc\r\nd\r\n"), "{:?}", String::from_utf8_lossy(&text));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(relay.ctx.queue.msg_path(id)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "queued mail is private");

    // A chunk larger than the limit is read past (the session stays in step) and refused.
    c.cmd("MAIL FROM:<x@y.example>").await;
    c.cmd("RCPT TO:<u@a.example.jp>").await;
    c.send(format!("BDAT 20000 LAST\r\n{}", "x".repeat(20000)).as_bytes()).await;
    assert!(c.reply().await.starts_with("552 5.3.4"));
    assert!(c.cmd("NOOP").await.starts_with("250"));
}

#[tokio::test]
async fn starttls_upgrades_and_refuses_injected_commands() {
    let relay = RelaySetup::two_tenants("127.0.0.1:9").start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    assert!(c.cmd("STARTTLS").await.starts_with("220 2.0.0"));
    let connector = tokio_rustls::TlsConnector::from(mamori_mail::tls::opportunistic_client());
    let name = rustls::pki_types::ServerName::try_from("relay.pref.example.jp").unwrap();
    let tls = connector.connect(name, c.io.into_inner()).await.unwrap();
    let mut c = Client { io: tokio::io::BufReader::new(tls) };
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    let r = c.mail("x@y.example", &["u@a.example.jp"], BODY).await;
    assert!(r.starts_with("250 2.0.0"), "{r}");
    let id = &relay.ctx.queue.ids().unwrap()[0];
    assert!(String::from_utf8(relay.ctx.queue.text(id).unwrap()).unwrap().contains("with ESMTPS id"));

    // CVE-2011-0411: a command in the same packet as STARTTLS must not survive the handshake.
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    c.send(b"STARTTLS\r\nRSET\r\n").await;
    let r = c.reply().await;
    assert!(r.starts_with("554 5.5.0"), "{r}");
}

/// One address may hold only `max_connections_per_ip` sessions; the next is told 421 and
/// closed, and a freed place can be taken again. A tenant's own sender is not limited per address.
#[tokio::test]
async fn connections_per_address_are_limited() {
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
    setup.mail.max_connections_per_ip = 2;
    let relay = setup.start().await;
    let first = Client::connect(relay.addr).await;
    let _second = Client::connect(relay.addr).await;
    let mut third = Client { io: tokio::io::BufReader::new(tokio::net::TcpStream::connect(relay.addr).await.unwrap()) };
    assert_eq!(third.reply().await, "421 4.7.0 Too many connections, try again later");
    drop(first);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let _again = Client::connect(relay.addr).await;

    let mut setup = RelaySetup::two_tenants("127.0.0.1:9").client_is_tenant_b();
    setup.mail.max_connections_per_ip = 1;
    let relay = setup.start().await;
    let _a = Client::connect(relay.addr).await;
    let _b = Client::connect(relay.addr).await;
}

/// RFC 5321 §4.5.1: `<postmaster>` without a domain is accepted when a mailbox is configured,
/// and goes there.
#[tokio::test]
async fn bare_postmaster_goes_to_the_configured_mailbox() {
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
    setup.mail.postmaster = Some("soc@a.example.jp".into());
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    let reply = c.mail("x@example.com", &["Postmaster"], "Subject: hi\r\n\r\nbody").await;
    assert!(reply.starts_with("250"), "{reply}");
    let env = relay.ctx.queue.load(&relay.ctx.queue.ids().unwrap()[0]).unwrap();
    assert_eq!(env.recipients[0].address, "soc@a.example.jp");

    let relay = RelaySetup::two_tenants("127.0.0.1:9").start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    assert!(c.cmd("MAIL FROM:<x@example.com>").await.starts_with("250"));
    assert!(c.cmd("RCPT TO:<postmaster>").await.starts_with("550 5.7.1"));
}

#[tokio::test]
async fn inbound_mail_for_two_municipalities_takes_two_transactions() {
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
    setup.mail.tenants.entry("b".into()).or_default().routes.insert("b.example.jp".into(), "127.0.0.1:9".into());
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.example.com").await;
    assert!(c.cmd("MAIL FROM:<sender@example.com>").await.starts_with("250"));
    assert!(c.cmd("RCPT TO:<u@a.example.jp>").await.starts_with("250"));
    let other = c.cmd("RCPT TO:<u@b.example.jp>").await;
    assert!(other.starts_with("452 4.5.3 "), "{other}");
    assert!(c.cmd("RCPT TO:<v@a.example.jp>").await.starts_with("250"), "the same tenant's recipients still go in");
    assert!(c.cmd("DATA").await.starts_with("354"));
    c.send(b"Subject: hi\r\n\r\nhello\r\n.\r\n").await;
    assert!(c.reply().await.starts_with("250"));
    // The client sends the other municipality's copy on its own, as RFC 5321 asks after 452.
    assert!(c.mail("sender@example.com", &["u@b.example.jp"], "Subject: hi\r\n\r\nhello").await.starts_with("250"));
    let mut tenants: Vec<(Option<String>, usize)> = relay
        .ctx
        .queue
        .ids()
        .unwrap()
        .iter()
        .map(|id| relay.ctx.queue.load(id).unwrap())
        .map(|env| (env.tenant.clone(), env.recipients.len()))
        .collect();
    tenants.sort();
    assert_eq!(tenants, vec![(Some("a".to_string()), 2), (Some("b".to_string()), 1)]);
}
