//! Zones a mamori resolver holds a copy of (Unbound's `auth-zone`), on 127.0.0.1 with dig: the
//! copy comes from a mamori primary by AXFR and is saved; clients get the zone's answers from
//! the copy (with AA when the zone is held for them), and other names still go to the
//! forwarder. Minimal responses (the default): a positive answer carries no authority
//! section.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mamori_core::TenantDirectory;
use mamori_core::config::dns::{DnsConfig, DnsZone};
use mamori_dns::catalog::Catalog;
use mamori_dns::metrics::DnsMetrics;
use mamori_dns::resolver::local::LocalZone;
use mamori_dns::resolver::{NetworkUpstream, Resolver, ResolverConfig, SystemClock};
use mamori_dns::zone::held::HeldZone;
use mamori_dns::{DnsService, DnsSettings, DnsState};
use support::{Captured, dig, serve, start};

const HELD: &str =
    "$TTL 300\n@ IN SOA ns h 7 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\nwww IN A 198.51.100.20\n";
const OTHER: &str =
    "$TTL 300\n@ IN SOA ns h 1 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\nwww IN A 198.51.100.30\n";

fn zone(origin: &str, file: &str) -> DnsZone {
    DnsZone {
        tenant: "midori".into(),
        origin: origin.into(),
        file: file.into(),
        transfer_allow: vec!["127.0.0.1/32".parse().unwrap()],
        notify: vec![],
        transfer_keys: vec![],
    }
}

/// A resolver forwarding to `primary` that holds `held.test` from it.
async fn resolver(
    primary: std::net::SocketAddr,
    saved: &Path,
    for_downstream: bool,
    minimal: bool,
) -> (support::Server, Arc<HeldZone>) {
    let name: hickory_proto::rr::Name = "held.test.".parse().unwrap();
    let held = Arc::new(HeldZone::new(&name, vec![primary], Some(saved.to_path_buf()), vec![], 0).unwrap());
    let config = ResolverConfig {
        forwarders: vec![primary],
        upstream_port: 53,
        cache_entries: 1000,
        keep_promiscuous_ns: true,
        local_zones: vec![LocalZone { zone: held.clone(), for_upstream: true, for_downstream, fallback: false }],
        ..Default::default()
    };
    let resolver = Resolver::new(config, Arc::new(NetworkUpstream::default()), Arc::new(SystemClock::default()));
    let state =
        DnsState::new(Catalog::default(), TenantDirectory::new(support::tenants(), &[]), vec![], Default::default());
    let settings = DnsSettings { minimal_responses: minimal, ..Default::default() };
    let service = DnsService::new(state, Some(resolver), None, DnsMetrics::default(), settings);
    (serve(Arc::new(service), Arc::new(Captured::default()), "127.0.0.1").await, held)
}

/// Asks until the answer contains `want` (the first transfer runs in the background).
async fn until(s: &support::Server, args: &[&str], want: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        last = dig(s, args).await;
        if last.contains(want) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never got {want}: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_zone_is_transferred_and_answers_clients_with_authority() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("held.zone"), HELD).unwrap();
    std::fs::write(dir.path().join("other.zone"), OTHER).unwrap();
    let primary_config = DnsConfig {
        recursion: false,
        zones: vec![zone("held.test", "held.zone"), zone("other.test", "other.zone")],
        ..Default::default()
    };
    let primary = start(&primary_config, dir.path(), "127.0.0.1").await;
    let saved = dir.path().join("held.copy");
    let (s, held) = resolver(primary.addr, &saved, true, true).await;
    let out = until(&s, &["www.held.test", "A"], "198.51.100.20").await;
    assert!(out.contains(" aa "), "held for clients: authoritative: {out}");
    assert!(out.contains("AUTHORITY: 0"), "minimal responses: {out}");
    assert_eq!(held.zone().map(|z| z.serial()), Some(7));
    let copy = std::fs::read_to_string(&saved).expect("the transferred copy is saved");
    assert!(copy.contains("198.51.100.20"), "{copy}");
    // A name outside the held zone goes to the forwarder.
    let out = dig(&s, &["www.other.test", "A"]).await;
    assert!(out.contains("198.51.100.30"), "{out}");
    assert!(!out.contains(" aa "), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_held_for_upstream_only_answers_as_the_resolver() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("held.zone"), HELD).unwrap();
    let primary_config =
        DnsConfig { recursion: false, zones: vec![zone("held.test", "held.zone")], ..Default::default() };
    let primary = start(&primary_config, dir.path(), "127.0.0.1").await;
    let (s, _) = resolver(primary.addr, &dir.path().join("held.copy"), false, false).await;
    let out = until(&s, &["www.held.test", "A"], "198.51.100.20").await;
    assert!(!out.contains(" aa "), "a recursive answer: {out}");
    // A name the copy does not have: NXDOMAIN with the zone's SOA, from the copy.
    let out = dig(&s, &["nope.held.test", "A"]).await;
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert!(out.contains("held.test.") && out.contains("SOA"), "{out}");
}

/// The same from `[dns]` as `mamori up` reads it: a zone held from a primary, one held from
/// its file only (for resolution, not for clients), rebinding protection, prefetch and full
/// responses, all built by `build::service` and asked with dig.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_zones_and_resolver_settings_from_the_configuration() {
    use mamori_core::config::dns::HeldZoneConfig;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("held.zone"), HELD).unwrap();
    let other = format!("{OTHER}inner IN A 10.1.2.3\nouter IN A 198.51.100.31\n");
    std::fs::write(dir.path().join("other.zone"), other).unwrap();
    let local = "$TTL 300\n@ IN SOA ns h 3 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\nwww IN A 198.51.100.40\n";
    std::fs::write(dir.path().join("local.zone"), local).unwrap();
    let primary_config = DnsConfig {
        recursion: false,
        zones: vec![zone("held.test", "held.zone"), zone("other.test", "other.zone")],
        ..Default::default()
    };
    let primary = start(&primary_config, dir.path(), "127.0.0.1").await;
    let config = DnsConfig {
        forwarders: vec![primary.addr.into()],
        held_zones: vec![
            HeldZoneConfig {
                primaries: vec![primary.addr.into()],
                allow_notify: vec![],
                file: Some("held.copy".into()),
                ..held("held.test")
            },
            HeldZoneConfig { file: Some("local.zone".into()), for_downstream: false, ..held("local.test") },
        ],
        private_addresses: vec!["10.0.0.0/8".parse().unwrap()],
        prefetch: true,
        minimal_responses: false,
        ..Default::default()
    };
    let s = start(&config, dir.path(), "127.0.0.1").await;
    assert!(s.service.resolver().is_some_and(|r| r.prefetches()));

    let out = until(&s, &["www.held.test", "A"], "198.51.100.20").await;
    assert!(out.contains(" aa "), "held for clients: authoritative: {out}");
    assert!(std::fs::read_to_string(dir.path().join("held.copy")).unwrap().contains("198.51.100.20"));

    let out = dig(&s, &["www.local.test", "A"]).await;
    assert!(out.contains("198.51.100.40"), "from the file: {out}");
    assert!(!out.contains(" aa "), "held for resolution only: {out}");

    let out = dig(&s, &["inner.other.test", "A"]).await;
    assert!(!out.contains("10.1.2.3"), "a private address is taken out: {out}");
    let out = dig(&s, &["outer.other.test", "A"]).await;
    assert!(out.contains("198.51.100.31"), "{out}");
    // Full responses: the name servers' addresses stay in the additional section.
    let out = dig(&s, &["other.test", "NS"]).await;
    assert!(out.contains("ADDITIONAL SECTION") && out.contains("192.0.2.1"), "{out}");
}

/// Primaries and forwarders given by host name: looked up through the forwarders given by
/// address, and then used (the held zone is transferred from the primary's looked-up address,
/// a forward zone's server by name is asked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primaries_and_forwarders_by_host_name_are_looked_up() {
    use mamori_core::config::dns::HeldZoneConfig;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("held.zone"), HELD).unwrap();
    std::fs::write(dir.path().join("other.zone"), OTHER).unwrap();
    let names = "$TTL 300\n@ IN SOA ns h 1 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\n\
                 primary IN A 127.0.0.1\n";
    std::fs::write(dir.path().join("names.zone"), names).unwrap();
    // The forwarder knows only names.test; the primary, named there, holds the others.
    let names_config =
        DnsConfig { recursion: false, zones: vec![zone("names.test", "names.zone")], ..Default::default() };
    let names = start(&names_config, dir.path(), "127.0.0.1").await;
    let primary_config = DnsConfig {
        recursion: false,
        zones: vec![zone("held.test", "held.zone"), zone("other.test", "other.zone")],
        ..Default::default()
    };
    let primary = start(&primary_config, dir.path(), "127.0.0.1").await;
    let by_name = |host: &str| format!("{host}:{}", primary.addr.port()).parse().unwrap();
    let config = DnsConfig {
        forwarders: vec![names.addr.into()],
        forward_zones: [("other.test".to_string(), vec![by_name("primary.names.test")])].into(),
        held_zones: vec![HeldZoneConfig {
            file: Some("held.copy".into()),
            primaries: vec![by_name("primary.names.test")],
            ..held("held.test")
        }],
        ..Default::default()
    };
    let s = start(&config, dir.path(), "127.0.0.1").await;
    let out = until(&s, &["www.held.test", "A"], "198.51.100.20").await;
    assert!(out.contains(" aa "), "transferred from the primary by name: {out}");
    assert!(std::fs::read_to_string(dir.path().join("held.copy")).unwrap().contains("198.51.100.20"));
    let out = dig(&s, &["www.other.test", "A"]).await;
    assert!(out.contains("198.51.100.30"), "the forward zone's server by name: {out}");
}

/// A held zone whose file does not parse stops the build with the file and line.
#[test]
fn a_broken_held_zone_file_is_named() {
    use mamori_core::config::dns::HeldZoneConfig;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.zone"),
        "$TTL 300\n@ IN SOA ns h 1 3600 900 604800 60\nwww IN A not-an-address\n",
    )
    .unwrap();
    let config = DnsConfig {
        held_zones: vec![HeldZoneConfig { file: Some("bad.zone".into()), ..held("bad.test") }],
        ..Default::default()
    };
    let e = mamori_dns::build::service(&config, &support::tenants(), dir.path(), None).err().expect("an error");
    let e = e.to_string();
    assert!(e.contains("dns.held_zones bad.test") && e.contains("bad.zone:3"), "{e}");
}

/// A held zone by name with the configuration's defaults: no file, no primaries, serving both
/// the resolver and clients, no fallback and no ZONEMD check.
fn held(name: &str) -> mamori_core::config::dns::HeldZoneConfig {
    mamori_core::config::dns::HeldZoneConfig {
        name: name.into(),
        file: None,
        primaries: vec![],
        allow_notify: vec![],
        for_upstream: true,
        for_downstream: true,
        fallback: false,
        zonemd_check: false,
        zonemd_reject_absence: false,
        zonemd_permissive: false,
    }
}
