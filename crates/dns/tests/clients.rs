//! The DNS service with real clients (dig from bind9-dnsutils, kdig from knot-dnsutils) on
//! 127.0.0.1: authoritative answers, zone transfers allowed and refused, recursion for the
//! tenant only (127.0.0.2 is outside every tenant: REFUSED), RPZ, TC, FORMERR, reload, and the
//! query log.

mod support;

use std::path::Path;

use mamori_core::config::dns::{DnsConfig, DnsZone, RpzZone, ThreatList};
use serde_json::Value;
use support::{dig, kdig, settle, start};

const ZONE: &str = r#"$TTL 3600
@       IN SOA ns1 hostmaster ( 2026112201 3600 900 604800 300 )
        IN NS  ns1
        IN MX  10 mail
        IN TXT "v=spf1 mx -all"
        IN CAA 0 issue "letsencrypt.org"
ns1     IN A   192.0.2.53
mail    IN A   192.0.2.25
www     IN CNAME web
web     IN A   192.0.2.80
        IN AAAA 2001:db8::80
*.wild  IN A   192.0.2.99
_sip._tcp IN SRV 10 60 5060 web
sub     IN NS  ns.sub
ns.sub  IN A   192.0.2.54
"#;

const REVERSE: &str = "$TTL 3600\n@ IN SOA ns1.city.midori.example.jp. hostmaster.city.midori.example.jp. 1 3600 900 604800 300\n  IN NS ns1.city.midori.example.jp.\n25 IN PTR mail.city.midori.example.jp.\n";

const UPSTREAM: &str = "$TTL 300\n@ IN SOA ns h 1 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\nok IN A 198.51.100.7\nblocked IN A 198.51.100.66\ncnc IN A 198.51.100.99\nbig IN TXT \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n IN TXT \"1123456789012345678901234567890123456789012345678901234567890123456789\"\n IN TXT \"2123456789012345678901234567890123456789012345678901234567890123456789\"\n IN TXT \"3123456789012345678901234567890123456789012345678901234567890123456789\"\n IN TXT \"4123456789012345678901234567890123456789012345678901234567890123456789\"\n IN TXT \"5123456789012345678901234567890123456789012345678901234567890123456789\"\n IN TXT \"6123456789012345678901234567890123456789012345678901234567890123456789\"\n IN TXT \"7123456789012345678901234567890123456789012345678901234567890123456789\"\n";

const RPZ: &str =
    "$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\nblocked.upstream.test CNAME .\n*.nodata.upstream.test CNAME *.\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The authoritative side only: the tenant zone and its reverse zone.
fn auth_config() -> DnsConfig {
    DnsConfig {
        recursion: false,
        zones: vec![
            DnsZone {
                tenant: "midori".into(),
                origin: "city.midori.example.jp".into(),
                file: "city.zone".into(),
                transfer_allow: vec!["127.0.0.1/32".parse().unwrap()],
                notify: vec![],
                transfer_keys: vec![],
            },
            DnsZone {
                tenant: "midori".into(),
                origin: "2.0.192.in-addr.arpa".into(),
                file: "reverse.zone".into(),
                transfer_allow: vec![],
                notify: vec![],
                transfer_keys: vec![],
            },
        ],
        ..Default::default()
    }
}

fn files(dir: &Path) {
    write(dir, "city.zone", ZONE);
    write(dir, "reverse.zone", REVERSE);
    write(dir, "upstream.zone", UPSTREAM);
    write(dir, "policy.rpz", RPZ);
    write(dir, "cnc.txt", "# C&C domains\ncnc.upstream.test\n0.0.0.0 other-cnc.example\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authoritative_answers_with_dig_and_kdig() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let s = start(&auth_config(), dir.path(), "127.0.0.1").await;
    let out = dig(&s, &["www.city.midori.example.jp", "AAAA"]).await;
    assert!(out.contains("status: NOERROR") && out.contains(" aa "), "{out}");
    assert!(out.contains("web.city.midori.example.jp.") && out.contains("2001:db8::80"), "{out}");
    let out = dig(&s, &["city.midori.example.jp", "MX"]).await;
    assert!(out.contains("10 mail.city.midori.example.jp.") && out.contains("192.0.2.25"), "additional glue: {out}");
    let out = dig(&s, &["+tcp", "city.midori.example.jp", "TXT"]).await;
    assert!(out.contains("v=spf1 mx -all"), "{out}");
    let out = dig(&s, &["nothing.city.midori.example.jp", "A"]).await;
    assert!(out.contains("status: NXDOMAIN") && out.contains("SOA"), "{out}");
    let out = dig(&s, &["x.wild.city.midori.example.jp", "A"]).await;
    assert!(out.contains("x.wild.city.midori.example.jp.") && out.contains("192.0.2.99"), "{out}");
    let out = dig(&s, &["-x", "192.0.2.25"]).await;
    assert!(out.contains("mail.city.midori.example.jp."), "{out}");
    let out = dig(&s, &["www.sub.city.midori.example.jp", "A", "+norec"]).await;
    assert!(
        out.contains("status: NOERROR") && !out.contains(" aa ") && out.contains("ns.sub.city.midori.example.jp."),
        "referral: {out}"
    );
    let out = kdig(&s, &["city.midori.example.jp", "CAA"]).await;
    assert!(out.contains("letsencrypt.org"), "{out}");
    let out = kdig(&s, &["+tcp", "_sip._tcp.city.midori.example.jp", "SRV"]).await;
    assert!(out.contains("5060 web.city.midori.example.jp."), "{out}");
    // Not ours and no recursion offered: refused.
    let out = dig(&s, &["example.org", "A"]).await;
    assert!(out.contains("status: REFUSED"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_transfers_only_to_allowed_addresses() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let s = start(&auth_config(), dir.path(), "127.0.0.1").await;
    let out = dig(&s, &["city.midori.example.jp", "AXFR"]).await;
    assert_eq!(out.matches("\tSOA\t").count(), 2, "SOA first and last: {out}");
    assert!(out.contains("ns.sub.city.midori.example.jp.") && out.contains("_sip._tcp"), "{out}");
    let out = kdig(&s, &["city.midori.example.jp", "AXFR"]).await;
    assert!(out.contains("web.city.midori.example.jp.") && !out.contains("REFUSED"), "{out}");
    let out = kdig(&s, &["city.midori.example.jp", "IXFR=2026112200"]).await;
    assert!(out.contains("web.city.midori.example.jp."), "IXFR answered with the whole zone: {out}");
    // From an address not allowed, and for a zone nobody may transfer.
    let out = dig(&s, &["-b", "127.0.0.2", "city.midori.example.jp", "AXFR"]).await;
    assert!(out.contains("Transfer failed") || out.contains("REFUSED"), "{out}");
    let out = kdig(&s, &["2.0.192.in-addr.arpa", "AXFR"]).await;
    assert!(out.contains("REFUSED"), "{out}");
    settle().await;
    let refused: Vec<_> = s
        .events
        .events()
        .into_iter()
        .filter(|e| e.extra["dns"]["question"]["type"] == "AXFR" && e.extra["dns"]["response_code"] == "REFUSED")
        .collect();
    assert!(refused.len() >= 2, "each refusal is an event");
    assert!(refused.iter().any(|e| e.event.extra["reason"].as_str().unwrap_or("").contains("may not transfer")));
    assert!(s.service.metrics().rejected_count("transfer_refused") >= 2);
}

/// An upstream (a second mamori DNS in authoritative mode) and the resolver forwarding to it.
async fn resolver_pair(dir: &Path) -> (support::Server, support::Server) {
    let upstream_config = DnsConfig {
        recursion: false,
        zones: vec![DnsZone {
            tenant: "midori".into(),
            origin: "upstream.test".into(),
            file: "upstream.zone".into(),
            transfer_allow: vec![],
            notify: vec![],
            transfer_keys: vec![],
        }],
        ..Default::default()
    };
    let upstream = start(&upstream_config, dir, "127.0.0.1").await;
    let config = DnsConfig {
        recursion: true,
        forwarders: vec![upstream.addr.into()],
        rpz: vec![RpzZone {
            name: "rpz.pref.example.jp".into(),
            file: Some("policy.rpz".into()),
            primaries: vec![],
            allow_notify: vec![],
            transfer_key: None,
            tags: vec![],
            tenant: None,
            action_override: None,
            cname_override: None,
            alert: false,
        }],
        threat_lists: vec![ThreatList {
            name: "cnc.intel.example".into(),
            file: "cnc.txt".into(),
            tenant: Some("midori".into()),
            action: "nxdomain".into(),
            cname_override: None,
            alert: true,
            tags: vec![],
        }],
        ..Default::default()
    };
    let resolver = start(&config, dir, "127.0.0.1").await;
    (upstream, resolver)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursion_for_tenants_only_never_an_open_resolver() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let (_upstream, s) = resolver_pair(dir.path()).await;
    let out = dig(&s, &["ok.upstream.test", "A"]).await;
    assert!(out.contains("status: NOERROR") && out.contains("198.51.100.7") && out.contains(" ra"), "{out}");
    // From 127.0.0.2, outside every tenant network: refused, counted and logged.
    let out = dig(&s, &["-b", "127.0.0.2", "ok.upstream.test", "A"]).await;
    assert!(out.contains("status: REFUSED"), "{out}");
    let out = kdig(&s, &["-b", "127.0.0.2", "+tcp", "ok.upstream.test", "A"]).await;
    assert!(out.contains("REFUSED"), "{out}");
    assert!(s.service.metrics().rejected_count("recursion_refused") >= 2);
    // The cache answers the second time, with a TTL counting down from the upstream's.
    let out = dig(&s, &["ok.upstream.test", "A"]).await;
    assert!(out.contains("198.51.100.7"), "{out}");
    settle().await;
    let events = s.events.events();
    let refused = events
        .iter()
        .find(|e| e.source.as_ref().and_then(|s| s.ip).map(|ip| ip.to_string()) == Some("127.0.0.2".into()));
    let refused = refused.expect("the refused query is logged");
    assert_eq!(refused.extra["dns"]["response_code"], "REFUSED");
    assert_eq!(refused.organization.id.as_deref(), Some("unassigned"));
    let answered = events.iter().find(|e| e.extra["dns"]["response_code"] == "NOERROR").expect("an answered query");
    assert_eq!(answered.event.dataset.as_deref(), Some("dns.query"));
    assert_eq!(answered.organization.id.as_deref(), Some("midori"));
    assert_eq!(answered.extra["dns"]["question"]["name"], "ok.upstream.test.");
    assert_eq!(answered.extra["dns"]["answers"][0]["data"], "198.51.100.7");
    let cached = events.iter().find(|e| e.extra["mamori"]["dns"]["cache_hit"] == Value::Bool(true));
    let cached = cached.expect("the second answer came from the cache");
    assert_eq!(cached.extra["dns"]["answers"][0]["data"], "198.51.100.7", "logged like any other answer");
    assert_eq!(cached.extra["dns"]["header_flags"], serde_json::json!(["RD", "RA"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_policy_and_cnc_alerts() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let (_upstream, s) = resolver_pair(dir.path()).await;
    let out = dig(&s, &["blocked.upstream.test", "A"]).await;
    assert!(out.contains("status: NXDOMAIN") && !out.contains("198.51.100.66"), "{out}");
    let out = dig(&s, &["x.nodata.upstream.test", "A"]).await;
    assert!(out.contains("status: NOERROR") && out.contains("ANSWER: 0"), "{out}");
    let out = kdig(&s, &["www.cnc.upstream.test", "A"]).await;
    assert!(out.contains("NXDOMAIN"), "a listed domain's subdomains too: {out}");
    settle().await;
    let events = s.events.events();
    let hit = events.iter().find(|e| e.extra["dns"]["question"]["name"] == "blocked.upstream.test.").unwrap();
    assert_eq!(hit.extra["mamori"]["dns"]["rpz"]["action"], "nxdomain");
    assert_eq!(hit.event.action.as_deref(), Some("blocked"));
    let alert = events.iter().find(|e| e.event.kind.as_deref() == Some("alert")).expect("a C&C alert");
    assert_eq!(alert.event.dataset.as_deref(), Some("dns.alert"));
    assert_eq!(alert.extra["threat"]["list"], "cnc.intel.example.");
    assert_eq!(alert.organization.id.as_deref(), Some("midori"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_udp_answers_are_truncated_and_complete_over_tcp() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let (_upstream, s) = resolver_pair(dir.path()).await;
    let out = dig(&s, &["+noedns", "+ignore", "big.upstream.test", "TXT"]).await;
    assert!(out.contains(" tc"), "512-byte client: {out}");
    let out = dig(&s, &["+tcp", "big.upstream.test", "TXT"]).await;
    assert!(out.contains("ANSWER: 8") && !out.contains(" tc"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_get_formerr_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let s = start(&auth_config(), dir.path(), "127.0.0.1").await;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // A header claiming one question, then garbage.
    let packet = [0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x40, 0xff, 0xff];
    socket.send_to(&packet, s.addr).await.unwrap();
    let mut buf = [0u8; 512];
    let (n, _) =
        tokio::time::timeout(std::time::Duration::from_secs(3), socket.recv_from(&mut buf)).await.unwrap().unwrap();
    assert!(n >= 12);
    assert_eq!(&buf[..2], &[0x12, 0x34]);
    assert_eq!(buf[3] & 0x0f, 1, "FORMERR");
    // Too short for a header: dropped, counted, and the server still answers.
    socket.send_to(&[1, 2, 3], s.addr).await.unwrap();
    let out = dig(&s, &["www.city.midori.example.jp", "A"]).await;
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(s.service.metrics().rejected_count("malformed") >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_the_old_zone_when_the_new_one_is_broken() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let config = auth_config();
    let s = start(&config, dir.path(), "127.0.0.1").await;
    write(dir.path(), "city.zone", &ZONE.replace("192.0.2.80", "192.0.2.81"));
    mamori_dns::build::reload(&s.service, &config, &support::tenants(), dir.path()).unwrap();
    assert!(dig(&s, &["web.city.midori.example.jp", "A"]).await.contains("192.0.2.81"));
    write(dir.path(), "city.zone", &ZONE.replace("192.0.2.80", "192.0.2.999"));
    let e = mamori_dns::build::reload(&s.service, &config, &support::tenants(), dir.path()).unwrap_err();
    assert!(e.to_string().contains("city.zone:"), "the file and line are named: {e}");
    assert!(dig(&s, &["web.city.midori.example.jp", "A"]).await.contains("192.0.2.81"), "the old zone stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_transport() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        panic!("IPv6 loopback is not available on this machine: the IPv6 test cannot run");
    }
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let s = start(&auth_config(), dir.path(), "[::1]").await;
    let out = dig(&s, &["web.city.midori.example.jp", "AAAA"]).await;
    assert!(out.contains("2001:db8::80"), "{out}");
    let out = kdig(&s, &["+tcp", "web.city.midori.example.jp", "A"]).await;
    assert!(out.contains("192.0.2.80"), "{out}");
}

/// Names under `uncached_zones` are asked upstream every time: a change on the upstream shows
/// at once, where a cached zone keeps its answer until the TTL runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncached_zones_always_go_upstream() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    write(
        dir.path(),
        "fresh.zone",
        "$TTL 300\n@ IN SOA ns h 1 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\nwww IN A 198.51.100.10\n",
    );
    let zone = |origin: &str, file: &str| DnsZone {
        tenant: "midori".into(),
        origin: origin.into(),
        file: file.into(),
        transfer_allow: vec![],
        notify: vec![],
        transfer_keys: vec![],
    };
    let upstream_config = DnsConfig {
        recursion: false,
        zones: vec![zone("upstream.test", "upstream.zone"), zone("fresh.test", "fresh.zone")],
        ..Default::default()
    };
    let upstream = start(&upstream_config, dir.path(), "127.0.0.1").await;
    let config = DnsConfig {
        recursion: true,
        forwarders: vec![upstream.addr.into()],
        uncached_zones: vec!["fresh.test".into()],
        ..Default::default()
    };
    let s = start(&config, dir.path(), "127.0.0.1").await;
    assert!(dig(&s, &["www.fresh.test", "A"]).await.contains("198.51.100.10"));
    assert!(dig(&s, &["ok.upstream.test", "A"]).await.contains("198.51.100.7"));
    write(
        dir.path(),
        "fresh.zone",
        "$TTL 300\n@ IN SOA ns h 2 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\nwww IN A 198.51.100.11\n",
    );
    write(dir.path(), "upstream.zone", &UPSTREAM.replace("198.51.100.7", "198.51.100.8").replace(" 1 3600", " 2 3600"));
    mamori_dns::build::reload(&upstream.service, &upstream_config, &support::tenants(), dir.path()).expect("reload");
    let out = dig(&s, &["www.fresh.test", "A"]).await;
    assert!(out.contains("198.51.100.11"), "uncached: the new address at once: {out}");
    let out = dig(&s, &["ok.upstream.test", "A"]).await;
    assert!(out.contains("198.51.100.7"), "cached: the old address until its TTL runs out: {out}");
}
