//! Policy zones fed by a primary, client tags and DNS64, on 127.0.0.1 with dig and kdig: a
//! mamori resolver takes its policy zone from a second mamori (authoritative) by a TSIG-signed
//! AXFR, follows the primary's signed NOTIFY with an IXFR, refuses an unsigned NOTIFY, and
//! starts again from the version it saved; a tagged policy zone applies to its tagged client
//! only; AAAA answers are synthesized under the DNS64 prefix.

mod support;

use std::path::Path;
use std::time::Duration;

use mamori_core::config::dns::{Dns64Config, DnsConfig, DnsZone, RpzZone, TsigKey};
use mamori_core::{NetworkModel, Tenant};
use support::{dig, kdig, settle, start, start_for};

const SECRET: &str = "c2VjcmV0LWZvci10aGUtcG9saWN5LWZlZWQtdGVzdHM=";

const UPSTREAM: &str = "$TTL 300\n@ IN SOA ns h 1 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\nok IN A 198.51.100.7\nblocked IN A 198.51.100.66\nlate IN A 198.51.100.68\nipblocked IN A 198.51.100.67\nv6 IN AAAA 2001:db8::6\nmapped IN AAAA ::ffff:198.51.100.8\nmapped IN A 198.51.100.8\n";

const REVERSE: &str = "$TTL 300\n@ IN SOA ns.upstream.test. h.upstream.test. 1 3600 900 604800 60\n IN NS ns.upstream.test.\n7 IN PTR ok.upstream.test.\n";

fn feed(serial: u32, body: &str) -> String {
    format!("$TTL 60\n@ IN SOA ns hostmaster {serial} 3600 900 604800 60\n IN NS ns\n{body}")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn zone(origin: &str, file: &str, keys: Vec<String>, notify: Vec<std::net::SocketAddr>) -> DnsZone {
    DnsZone {
        tenant: "midori".into(),
        origin: origin.into(),
        file: file.into(),
        transfer_allow: vec![],
        notify,
        transfer_keys: keys,
    }
}

fn key() -> TsigKey {
    TsigKey { name: "feed-key".into(), algorithm: "hmac-sha256".into(), secret: SECRET.into() }
}

/// The primary: the upstream zone the resolver forwards to and the policy feed, which only
/// requests signed with feed-key may transfer.
fn primary_config(notify: Vec<std::net::SocketAddr>) -> DnsConfig {
    DnsConfig {
        recursion: false,
        zones: vec![
            zone("upstream.test", "upstream.zone", vec![], vec![]),
            zone("100.51.198.in-addr.arpa", "reverse.zone", vec![], vec![]),
            zone("rpz.feed.example", "feed.zone", vec!["feed-key".into()], notify),
        ],
        tsig_keys: vec![key()],
        ..Default::default()
    }
}

fn resolver_config(primary: std::net::SocketAddr) -> DnsConfig {
    DnsConfig {
        recursion: true,
        forwarders: vec![primary.into()],
        rpz: vec![RpzZone {
            name: "rpz.feed.example".into(),
            file: Some("held.rpz".into()),
            primaries: vec![primary.into()],
            allow_notify: vec![],
            transfer_key: Some("feed-key".into()),
            tags: vec![],
            tenant: None,
            action_override: None,
            cname_override: None,
            alert: false,
        }],
        tsig_keys: vec![key()],
        ..Default::default()
    }
}

/// Asks until the answer contains `want` (the refresh runs in the background); the answer
/// seen last when it never does.
async fn until(s: &support::Server, args: &[&str], want: &str) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..100 {
        last = dig(s, args).await;
        if last.contains(want) {
            return Ok(last);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_zone_is_transferred_signed_and_follows_notify_with_ixfr() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "upstream.zone", UPSTREAM);
    write(dir.path(), "reverse.zone", REVERSE);
    write(dir.path(), "feed.zone", &feed(1, "blocked.upstream.test CNAME .\n"));
    let primary = start(&primary_config(vec![]), dir.path(), "127.0.0.1").await;
    // The resolver has no copy yet: it transfers the whole zone at start.
    let config = resolver_config(primary.addr);
    let s = start(&config, dir.path(), "127.0.0.1").await;
    let out = until(&s, &["blocked.upstream.test", "A"], "status: NXDOMAIN").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.contains("198.51.100.66"), "{out}");
    let out = dig(&s, &["late.upstream.test", "A"]).await;
    assert!(out.contains("198.51.100.68"), "not in the feed yet: {out}");
    let held = std::fs::read_to_string(dir.path().join("held.rpz")).expect("the transferred zone is saved");
    assert!(held.contains("blocked.upstream.test.rpz.feed.example."), "{held}");

    // A new serial on the primary: its NOTIFY (signed with the zone's key) brings an IXFR.
    write(dir.path(), "feed.zone", &feed(2, "late.upstream.test CNAME .\n"));
    let notifying = primary_config(vec![s.addr]);
    mamori_dns::build::reload(&primary.service, &notifying, &support::tenants(), dir.path()).expect("reload");
    until(&s, &["late.upstream.test", "A"], "status: NXDOMAIN").await.unwrap_or_else(|e| panic!("{e}"));
    let out = dig(&s, &["blocked.upstream.test", "A"]).await;
    assert!(out.contains("198.51.100.66"), "removed by the IXFR: {out}");
    settle().await;
    let pulled: Vec<_> = primary
        .events
        .events()
        .into_iter()
        .filter(|e| e.extra["dns"]["question"]["name"] == "rpz.feed.example.")
        .map(|e| e.extra["dns"]["question"]["type"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(pulled.contains(&"AXFR".to_string()) && pulled.contains(&"IXFR".to_string()), "{pulled:?}");
    assert!(s.service.metrics().policy_transfer_count("IXFR") >= 1);

    // An unsigned NOTIFY (the zone has a key) is refused, and counted.
    let notify = notify_packet("rpz.feed.example.");
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&notify, s.addr).await.unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf)).await.unwrap().unwrap();
    assert_eq!(buf[3] & 0x0f, 5, "REFUSED: {:?}", &buf[..n]);
    assert!(s.service.metrics().rejected_count("notify_refused") >= 1);

    // Started again, the resolver answers from the version it saved, before any transfer.
    drop(s);
    let again = start(&config, dir.path(), "127.0.0.1").await;
    let out = kdig(&again, &["late.upstream.test", "A"]).await;
    assert!(out.contains("NXDOMAIN"), "{out}");
}

/// A NOTIFY for `zone`, unsigned.
fn notify_packet(zone: &str) -> Vec<u8> {
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};
    let mut m = Message::new(4242, MessageType::Query, OpCode::Notify);
    m.metadata.authoritative = true;
    m.add_query(Query::query(Name::from_ascii(zone).unwrap(), RecordType::SOA));
    m.to_vec().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagged_policy_zones_and_dns64() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "upstream.zone", UPSTREAM);
    write(dir.path(), "reverse.zone", REVERSE);
    write(dir.path(), "feed.zone", &feed(1, ""));
    write(dir.path(), "lab.rpz", &feed(1, "blocked.upstream.test CNAME .\n"));
    write(dir.path(), "common.rpz", &feed(1, "32.67.100.51.198.rpz-ip CNAME .\n"));
    let primary = start(&primary_config(vec![]), dir.path(), "127.0.0.1").await;
    let rpz = |name: &str, file: &str, tags: Vec<String>| RpzZone {
        name: name.into(),
        file: Some(file.into()),
        primaries: vec![],
        allow_notify: vec![],
        transfer_key: None,
        tags,
        tenant: None,
        action_override: None,
        cname_override: None,
        alert: false,
    };
    let config = DnsConfig {
        recursion: true,
        forwarders: vec![primary.addr.into()],
        rpz: vec![
            rpz("rpz.lab.example", "lab.rpz", vec!["lab".into()]),
            rpz("rpz.common.example", "common.rpz", vec![]),
        ],
        client_tags: [("lab".to_string(), vec!["127.0.0.3/32".parse().unwrap()])].into_iter().collect(),
        dns64: Some(Dns64Config::default()),
        ..Default::default()
    };
    // The tenant owns 127.0.0.0/29; only 127.0.0.3 carries the tag.
    let tenant = Tenant {
        id: "midori".into(),
        name_ja: "みどり市".into(),
        name_en: "Midori City".into(),
        network_model: NetworkModel::Beta,
        networks: vec!["127.0.0.0/29".parse().unwrap()],
        domains: vec![],
        contacts: vec![],
        retention: Default::default(),
    };
    let s = start_for(&config, dir.path(), "127.0.0.1", &[tenant]).await;
    let out = dig(&s, &["blocked.upstream.test", "A"]).await;
    assert!(out.contains("198.51.100.66"), "no tag, no policy: {out}");
    let out = dig(&s, &["-b", "127.0.0.3", "blocked.upstream.test", "A"]).await;
    assert!(out.contains("status: NXDOMAIN"), "tagged client: {out}");
    // The untagged client's answer came from the cache the second time; still its own.
    let out = dig(&s, &["blocked.upstream.test", "A"]).await;
    assert!(out.contains("198.51.100.66"), "{out}");
    let out = dig(&s, &["-b", "127.0.0.3", "blocked.upstream.test", "A"]).await;
    assert!(out.contains("status: NXDOMAIN"), "{out}");

    // DNS64: synthesized from A (198.51.100.7 = c633:6407) under 64:ff9b::/96.
    let out = dig(&s, &["ok.upstream.test", "AAAA"]).await;
    assert!(out.contains("status: NOERROR") && out.contains("64:ff9b::c633:6407"), "{out}");
    let out = kdig(&s, &["v6.upstream.test", "AAAA"]).await;
    assert!(out.contains("2001:db8::6") && !out.contains("64:ff9b"), "real AAAA records stay: {out}");
    let out = dig(&s, &["mapped.upstream.test", "AAAA"]).await;
    assert!(out.contains("64:ff9b::c633:6408") && !out.contains("::ffff:"), "excluded AAAA: {out}");
    let out = dig(&s, &["nothing.upstream.test", "AAAA"]).await;
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    // An A record the response-IP policy blocks is not synthesized from.
    let out = dig(&s, &["ipblocked.upstream.test", "A"]).await;
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    let out = dig(&s, &["ipblocked.upstream.test", "AAAA"]).await;
    assert!(out.contains("status: NOERROR") && out.contains("ANSWER: 0"), "{out}");
    // The reverse name of a synthesized address leads to the IPv4 one's.
    let out = dig(&s, &["-x", "64:ff9b::c633:6407"]).await;
    assert!(out.contains("7.100.51.198.in-addr.arpa.") && out.contains("ok.upstream.test."), "{out}");
    assert!(s.service.metrics().dns64_synthesized.get() >= 2);
}
