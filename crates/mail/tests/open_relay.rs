//! No open relay: the classic tricks, from the internet and from a tenant's network, over a
//! real socket; and swaks as a real client.

mod support;

use support::{Client, RelaySetup};

/// (sender, recipient, expected reply class and enhanced code) from the internet.
const FROM_INTERNET: &[(&str, &str, &str)] = &[
    ("x@y.example", "u@a.example.jp", "250 2.1.5"),
    ("x@y.example", "U@A.EXAMPLE.JP", "250 2.1.5"),
    ("x@y.example", "u@mail.a.example.jp", "250 2.1.5"),
    ("", "u@a.example.jp", "250 2.1.5"),
    ("x@y.example", "victim@other.example", "550 5.7.1"),
    ("x@y.example", "victim%other.example@a.example.jp", "550 5.7.1"),
    ("x@y.example", "other.example!victim@a.example.jp", "550 5.7.1"),
    ("x@y.example", "\"victim@other.example\"@a.example.jp", "550 5.7.1"),
    ("x@y.example", "\"victim%other.example\"@a.example.jp", "550 5.7.1"),
    ("x@y.example", "@a.example.jp:victim@other.example", "550 5.7.1"),
    ("x@y.example", "@a.example.jp,@b.example.jp:victim@other.example", "550 5.7.1"),
    ("x@y.example", "victim@other.example@a.example.jp", "501 5.1.3"),
    ("x@y.example", "victim@a.example.jp.", "501 5.1.3"),
    ("x@y.example", "victim@other.example.", "501 5.1.3"),
    ("x@y.example", "victim@[127.0.0.1]", "550 5.7.1"),
    ("x@y.example", "victim@[IPv6:::1]", "550 5.7.1"),
    ("x@y.example", "victim@b.example.jp", "550 5.7.1"),
    ("x@y.example", "postmaster", "550 5.7.1"),
    ("x@y.example", "victim@a.example.jp.other.example", "550 5.7.1"),
    ("x@y.example", "victim@xa.example.jp", "550 5.7.1"),
    ("a@a.example.jp", "victim@other.example", "550 5.7.1"),
];

#[tokio::test]
async fn relay_tricks_from_the_internet_are_refused() {
    let relay = RelaySetup::two_tenants("127.0.0.1:9").start().await;
    let mut failures = Vec::new();
    for (from, to, want) in FROM_INTERNET {
        let mut c = Client::connect(relay.addr).await;
        c.cmd("EHLO client.example").await;
        let m = c.cmd(&format!("MAIL FROM:<{from}>")).await;
        assert!(m.starts_with("250"), "{from}: {m}");
        let r = c.cmd(&format!("RCPT TO:<{to}>")).await;
        if !r.starts_with(want) {
            failures.push(format!("{from} -> {to}: want {want}, got {r}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let refused: Vec<_> =
        relay.events.json().into_iter().filter(|e| e["event"]["action"] == "recipient_refused").collect();
    assert!(refused.len() >= 14, "every refusal is an event: {}", refused.len());
    assert_eq!(refused[0]["event"]["dataset"], "mail.smtp");
    assert_eq!(refused[0]["source"]["ip"], "127.0.0.1");
    let malformed = relay.events.json().into_iter().filter(|e| e["event"]["action"] == "command_refused").count();
    assert_eq!(malformed, 3, "the 501 address tricks are events too");
}

#[tokio::test]
async fn a_tenant_sends_out_only_as_itself() {
    let relay = RelaySetup::two_tenants("127.0.0.1:9").client_is_tenant_b().start().await;
    for (from, want) in [
        ("me@b.example.jp", "250 2.1.0"),
        ("me@sub.b.example.jp", "250 2.1.0"),
        ("ME@B.EXAMPLE.JP", "250 2.1.0"),
        ("", "250 2.1.0"),
        ("me@a.example.jp", "553 5.7.1"),
        ("me@other.example", "553 5.7.1"),
        ("me@[127.0.0.1]", "553 5.7.1"),
        ("me@b.example.jp.", "501 5.1.3"),
    ] {
        let mut c = Client::connect(relay.addr).await;
        c.cmd("EHLO client.example").await;
        let r = c.cmd(&format!("MAIL FROM:<{from}>")).await;
        assert!(r.starts_with(want), "{from}: {r}");
    }
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO client.example").await;
    c.cmd("MAIL FROM:<me@b.example.jp>").await;
    assert!(c.cmd("RCPT TO:<friend@other.example>").await.starts_with("250 2.1.5"));
    assert!(c.cmd("RCPT TO:<friend%x@other.example>").await.starts_with("550 5.7.1"));
    assert!(c.cmd("RCPT TO:<friend@[192.0.2.1]>").await.starts_with("550 5.7.1"));
}

#[tokio::test]
async fn swaks_relays_inbound_over_starttls_and_is_refused_as_an_open_relay() {
    let relay = RelaySetup::two_tenants("127.0.0.1:9").start().await;
    let server = relay.addr.to_string();
    let swaks = async |args: Vec<String>| {
        let out = tokio::process::Command::new("swaks").args(args).output().await;
        match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => panic!("swaks is needed for this test (apt-get install swaks): {e}"),
        }
    };
    let base = |to: &str| -> Vec<String> {
        ["--server", &server, "--from", "x@y.example", "--to", to, "--helo", "client.example", "--timeout", "10"]
            .map(String::from)
            .to_vec()
    };
    let mut args = base("u@a.example.jp");
    args.push("--tls".into());
    let out = swaks(args).await;
    assert!(out.contains("<~  250 2.0.0 Ok: queued as"), "{out}");
    let out = swaks(base("victim@other.example")).await;
    assert!(out.contains("<** 550 5.7.1 Relay access denied"), "{out}");
    assert_eq!(relay.ctx.queue.ids().unwrap().len(), 1);
}
