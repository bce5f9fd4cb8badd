//! DNS rebinding protection, on 127.0.0.1 with dig: a mamori resolver configured with private
//! networks takes their addresses out of upstream answers (a name on the internet must not
//! point a tenant's browser inside its network), except for names under a private domain.

mod support;

use std::sync::Arc;

use mamori_core::TenantDirectory;
use mamori_core::config::dns::{DnsConfig, DnsZone};
use mamori_dns::catalog::Catalog;
use mamori_dns::metrics::DnsMetrics;
use mamori_dns::resolver::{NetworkUpstream, Resolver, ResolverConfig, SystemClock};
use mamori_dns::{DnsService, DnsSettings, DnsState};
use support::{Captured, dig, serve, start};

const OUTSIDE: &str = "$TTL 300\n@ IN SOA ns h 1 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\nrebind IN A 10.1.2.3\nmixed IN A 10.1.2.4\nmixed IN A 198.51.100.9\npublic IN A 198.51.100.10\n";
const INSIDE: &str =
    "$TTL 300\n@ IN SOA ns h 1 3600 900 604800 60\n IN NS ns\nns IN A 192.0.2.1\nintranet IN A 10.9.9.9\n";

fn zone(origin: &str, file: &str) -> DnsZone {
    DnsZone {
        tenant: "midori".into(),
        origin: origin.into(),
        file: file.into(),
        transfer_allow: vec![],
        notify: vec![],
        transfer_keys: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_taken_out_of_answers_except_under_private_domains() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("outside.zone"), OUTSIDE).unwrap();
    std::fs::write(dir.path().join("inside.zone"), INSIDE).unwrap();
    let upstream_config = DnsConfig {
        recursion: false,
        zones: vec![zone("outside.test", "outside.zone"), zone("city.midori.test", "inside.zone")],
        ..Default::default()
    };
    let upstream = start(&upstream_config, dir.path(), "127.0.0.1").await;
    let config = ResolverConfig {
        forwarders: vec![upstream.addr],
        upstream_port: 53,
        cache_entries: 1000,
        private_networks: vec!["10.0.0.0/8".parse().unwrap()],
        private_domains: vec!["city.midori.test.".parse().unwrap()],
        ..Default::default()
    };
    let resolver = Resolver::new(config, Arc::new(NetworkUpstream::default()), Arc::new(SystemClock::default()));
    let state =
        DnsState::new(Catalog::default(), TenantDirectory::new(support::tenants(), &[]), vec![], Default::default());
    let service = DnsService::new(state, Some(resolver), None, DnsMetrics::default(), DnsSettings::default());
    let s = serve(Arc::new(service), Arc::new(Captured::default()), "127.0.0.1").await;

    let out = dig(&s, &["rebind.outside.test", "A"]).await;
    assert!(out.contains("status: NOERROR") && out.contains("ANSWER: 0"), "{out}");
    assert!(!out.contains("10.1.2.3"), "{out}");
    let out = dig(&s, &["mixed.outside.test", "A"]).await;
    assert!(out.contains("198.51.100.9") && !out.contains("10.1.2.4"), "{out}");
    let out = dig(&s, &["public.outside.test", "A"]).await;
    assert!(out.contains("198.51.100.10"), "{out}");
    let out = dig(&s, &["intranet.city.midori.test", "A"]).await;
    assert!(out.contains("10.9.9.9"), "a private domain keeps its addresses: {out}");
}
