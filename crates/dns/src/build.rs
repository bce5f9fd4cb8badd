//! From `[dns]` to a running service: zones, policy zones and threat lists are read (paths
//! relative to the configuration file), the resolver set up. Every file that fails is named;
//! on a reload the caller keeps the old snapshot.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use hickory_proto::rr::{Name, RecordType};
use mamori_core::config::dns::{DnsConfig, HeldZoneConfig, ServerAddress, ThreatList};
use mamori_core::{Tenant, TenantDirectory};

use crate::catalog::{Catalog, ServedZone};
use crate::resolver::ResolverConfig;
use crate::resolver::local::LocalZone;
use crate::rpz::secondary::{Secondary, ZoneSettings};
use crate::rpz::{Action, Override, PolicyZone};
use crate::state::DnsState;
use crate::zone::Zone;
use crate::zone::held::{HeldZone, ZonemdPolicy};

/// The IANA root servers (a to m), for iteration without forwarders.
const ROOT_SERVERS: &[&str] = &[
    "198.41.0.4",
    "170.247.170.2",
    "192.33.4.12",
    "199.7.91.13",
    "192.203.230.10",
    "192.5.5.241",
    "192.112.36.4",
    "198.97.190.53",
    "192.36.148.17",
    "192.58.128.30",
    "193.0.14.129",
    "199.7.83.42",
    "202.12.27.33",
];

/// Everything a file or setting got wrong, one line each.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct BuildError(pub Vec<String>);

/// `now`: the resolver's clock, which transferred policy zones are refreshed by.
pub fn build_state(config: &DnsConfig, tenants: &[Tenant], base: &Path, now: u64) -> Result<DnsState, BuildError> {
    let mut errors = Vec::new();
    let mut served = Vec::new();
    for z in &config.zones {
        let result =
            name(&z.origin).and_then(|origin| Zone::load(&base.join(&z.file), &origin).map_err(|e| e.to_string()));
        match result {
            Ok(zone) => {
                let mut served_zone = ServedZone::new(z.tenant.clone(), zone, z.transfer_allow.clone());
                served_zone.notify = z.notify.clone();
                served_zone.transfer_keys =
                    z.transfer_keys.iter().map(|k| k.trim_end_matches('.').to_ascii_lowercase()).collect();
                let journal = crate::zone::journal::path_for(&base.join(&z.file));
                served_zone.journal = crate::zone::journal::load(&journal, &served_zone.zone);
                served_zone.journal_file = Some(journal);
                served.push(served_zone)
            }
            Err(e) => errors.push(e),
        }
    }
    let catalog = Catalog::new(served).unwrap_or_else(|e| {
        errors.push(e);
        Catalog::default()
    });
    let mut keys = Vec::new();
    for k in &config.tsig_keys {
        match tsig_key(k) {
            Ok(key) => keys.push(key),
            Err(e) => errors.push(format!("dns.tsig_keys {}: {e}", k.name)),
        }
    }
    let client_tags = crate::state::ClientTags::new(config.client_tags.iter().map(|(n, nets)| (n.as_str(), &nets[..])));
    let mut common = Vec::new();
    let mut per_tenant: HashMap<String, Vec<Arc<PolicyZone>>> = HashMap::new();
    let mut secondaries = Vec::new();
    let mut place = |tenant: &Option<String>, zone: Arc<PolicyZone>| match tenant {
        Some(t) => per_tenant.entry(t.clone()).or_default().push(zone),
        None => common.push(zone),
    };
    for r in &config.rpz {
        let zone = name(&r.name).and_then(|n| {
            let settings = ZoneSettings {
                alert: r.alert,
                override_action: match &r.action_override {
                    Some(a) => Some(Override::parse(a, r.cname_override.as_deref())?),
                    None => None,
                },
                signal_nxdomain_ra: false,
                tags: client_tags.mask_of(&r.tags),
            };
            if r.primaries.is_empty() {
                let file = r.file.as_ref().ok_or("a policy zone needs a file or primaries")?;
                let mut zone = PolicyZone::load(&base.join(file), &n)?;
                settings.apply(&mut zone);
                return Ok(Arc::new(zone));
            }
            let file = r.file.as_ref().map(|f| base.join(f));
            // Without its file yet (never transferred), the zone starts empty.
            let records = match &file {
                Some(f) if f.exists() => {
                    let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
                    crate::zone::master::parse_with_default_ttl(&text, &n, Some(f), Some(3600))?
                        .into_iter()
                        .map(|p| p.record)
                        .collect()
                }
                _ => Vec::new(),
            };
            let key = match &r.transfer_key {
                Some(k) => {
                    let wanted = k.trim_end_matches('.').to_ascii_lowercase();
                    Some(keys.iter().find(|key| key.name == wanted).cloned().ok_or(format!("no TSIG key '{k}'"))?)
                }
                None => None,
            };
            let (addresses, hosts) = split_servers(&r.primaries)?;
            let (mut secondary, zone) = Secondary::new(&n, addresses, key, file, settings, records, now);
            secondary.primary_hosts = hosts;
            let (addresses, hosts) = split_servers(&r.allow_notify)?;
            secondary.notifiers =
                crate::rpz::secondary::Notifiers::new(addresses.iter().map(SocketAddr::ip).collect(), hosts);
            secondaries.push(Arc::new(secondary));
            Ok(zone)
        });
        match zone {
            Ok(z) => place(&r.tenant, z),
            Err(e) => errors.push(format!("dns.rpz {}: {e}", r.name)),
        }
    }
    for l in &config.threat_lists {
        match threat_list(l, base) {
            Ok(mut z) => {
                z.tags = client_tags.mask_of(&l.tags);
                place(&l.tenant, Arc::new(z))
            }
            Err(e) => errors.push(format!("dns.threat_lists {}: {e}", l.name)),
        }
    }
    if !errors.is_empty() {
        return Err(BuildError(errors));
    }
    // Tenants without policy zones of their own use the common set.
    let mut state = DnsState::new(catalog, TenantDirectory::new(tenants.to_vec(), &[]), common, per_tenant);
    state.keys = Arc::new(crate::tsig::Keys::new(keys));
    state.client_tags = Arc::new(client_tags);
    state.secondaries = secondaries;
    Ok(state)
}

/// A configured TSIG key; errors never quote the secret.
fn tsig_key(k: &mamori_core::config::dns::TsigKey) -> Result<crate::tsig::Key, String> {
    use base64::Engine;
    let algorithm = crate::tsig::Algorithm::parse(&k.algorithm)
        .ok_or_else(|| format!("algorithm '{}' is not hmac-sha256 or hmac-sha512", k.algorithm))?;
    let secret = base64::engine::general_purpose::STANDARD
        .decode(k.secret.trim())
        .map_err(|_| "the secret is not valid base64".to_string())?;
    crate::tsig::Key::new(&k.name, algorithm, secret)
}

/// `base`: where held zones' files are relative to; `now`: the resolver's clock, which their
/// first checks with their primaries are timed by.
pub fn resolver_config(config: &DnsConfig, base: &Path, now: u64) -> Result<ResolverConfig, BuildError> {
    let mut errors = Vec::new();
    let mut local_zones = Vec::new();
    for h in &config.held_zones {
        match held_zone(h, base, now) {
            Ok(z) => local_zones.push(z),
            Err(e) => errors.push(format!("dns.held_zones {}: {e}", h.name)),
        }
    }
    let mut private_domains = Vec::new();
    for domain in &config.private_domains {
        match name(domain) {
            Ok(n) => private_domains.push(n),
            Err(e) => errors.push(format!("dns.private_domains: {e}")),
        }
    }
    let mut forward_zones = Vec::new();
    let mut server_hosts = Vec::new();
    for (zone, servers) in &config.forward_zones {
        match name(zone).and_then(|n| split_servers(servers).map(|s| (n, s))) {
            Ok((n, (addresses, hosts))) => {
                if !hosts.is_empty() {
                    server_hosts.push((n.clone(), true, hosts));
                }
                forward_zones.push((n, addresses));
            }
            Err(e) => errors.push(format!("dns.forward_zones: {e}")),
        }
    }
    let forwarders = match split_servers(&config.forwarders) {
        Ok((addresses, hosts)) => {
            if !hosts.is_empty() {
                server_hosts.push((Name::root(), true, hosts));
            }
            addresses
        }
        Err(e) => {
            errors.push(format!("dns.forwarders: {e}"));
            Vec::new()
        }
    };
    let mut uncached_zones = Vec::new();
    for zone in &config.uncached_zones {
        match name(zone) {
            Ok(n) => uncached_zones.push(n),
            Err(e) => errors.push(format!("dns.uncached_zones: {e}")),
        }
    }
    let trust_anchors = if config.dnssec_validation {
        trust_anchors(config).unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        })
    } else {
        Vec::new()
    };
    if !errors.is_empty() {
        return Err(BuildError(errors));
    }
    let root_hints = if config.root_hints.is_empty() {
        ROOT_SERVERS.iter().map(|ip| SocketAddr::new(ip.parse().expect("literal address"), 53)).collect()
    } else {
        config.root_hints.clone()
    };
    Ok(ResolverConfig {
        forwarders,
        forward_zones,
        server_hosts,
        stub_zones: Vec::new(),
        root_hints,
        upstream_port: 53,
        cache_entries: config.cache_entries,
        uncached_zones,
        keep_promiscuous_ns: false,
        first_zones: Vec::new(),
        private_networks: config.private_addresses.clone(),
        private_domains,
        prefetch: config.prefetch,
        qname_minimisation: true,
        local_zones,
        trust_anchors,
        validation_time: None,
        nat64: config.nat64_prefix.map(|prefix| crate::dns64::Dns64::new(prefix, Vec::new(), Vec::new())),
        no_ipv4: !config.upstream_ipv4,
        no_ipv6: !config.upstream_ipv6,
        never_query: config.never_query.clone(),
    })
}

/// The configured trust anchors (DS or DNSKEY records in master format), the IANA root's
/// keys when none are given.
fn trust_anchors(config: &DnsConfig) -> Result<Vec<hickory_proto::rr::Record>, String> {
    if config.trust_anchors.is_empty() {
        return Ok(crate::resolver::validate::root_anchors());
    }
    let mut out = Vec::new();
    for (i, line) in config.trust_anchors.iter().enumerate() {
        let parsed = crate::zone::master::parse_with_default_ttl(line, &Name::root(), None, Some(3600))
            .map_err(|e| format!("dns.trust_anchors[{i}]: {e}"))?;
        for p in parsed {
            if !matches!(p.record.record_type(), RecordType::DS | RecordType::DNSKEY) {
                return Err(format!("dns.trust_anchors[{i}]: a trust anchor is a DS or DNSKEY record"));
            }
            out.push(p.record);
        }
    }
    Ok(out)
}

/// A held zone from its settings: the file read when there is one (with primaries it may not
/// exist yet: the first transfer writes it).
fn held_zone(h: &HeldZoneConfig, base: &Path, now: u64) -> Result<LocalZone, String> {
    let zone_name = if h.name.trim() == "." { Name::root() } else { name(&h.name)? };
    let file = h.file.as_ref().map(|f| base.join(f));
    let records = match &file {
        Some(f) if f.exists() || h.primaries.is_empty() => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
            crate::zone::master::parse_with_default_ttl(&text, &zone_name, Some(f), Some(3600))?
                .into_iter()
                .map(|p| p.record)
                .collect()
        }
        _ => Vec::new(),
    };
    let written = file.filter(|_| !h.primaries.is_empty());
    let (addresses, hosts) = split_servers(&h.primaries)?;
    let zonemd = ZonemdPolicy {
        check: h.zonemd_check,
        reject_absence: h.zonemd_reject_absence,
        permissive: h.zonemd_permissive,
    };
    let mut held = HeldZone::new(&zone_name, addresses, written, records, now)?.with_zonemd(zonemd);
    held.primary_hosts = hosts;
    let (addresses, hosts) = split_servers(&h.allow_notify)?;
    held.notifiers = crate::rpz::secondary::Notifiers::new(addresses.iter().map(SocketAddr::ip).collect(), hosts);
    Ok(LocalZone {
        zone: Arc::new(held),
        for_upstream: h.for_upstream,
        for_downstream: h.for_downstream,
        fallback: h.fallback,
    })
}

/// Servers by address, and those by host name with their ports (looked up by the resolver).
#[allow(clippy::type_complexity)]
fn split_servers(servers: &[ServerAddress]) -> Result<(Vec<SocketAddr>, Vec<(Name, u16)>), String> {
    let mut addresses = Vec::new();
    let mut hosts = Vec::new();
    for s in servers {
        match s {
            ServerAddress::Address(a) => addresses.push(*a),
            ServerAddress::Host { name: host, port } => hosts.push((name(host)?, *port)),
        }
    }
    Ok((addresses, hosts))
}

/// A domain list as a policy zone: each domain and its subdomains get the list's action.
fn threat_list(list: &ThreatList, base: &Path) -> Result<PolicyZone, String> {
    let zone_name = name(&list.name)?;
    let path = base.join(&list.file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let domains = parse_domain_list(&text).map_err(|(line, e)| format!("{}:{line}: {e}", path.display()))?;
    let action = match Override::parse(&list.action, list.cname_override.as_deref())? {
        Override::Action(a) => a,
        Override::Cname(target) => Action::Local(vec![hickory_proto::rr::Record::from_rdata(
            zone_name.clone(),
            300,
            hickory_proto::rr::RData::CNAME(hickory_proto::rr::rdata::CNAME(target)),
        )]),
        Override::Disabled => Action::Passthru,
    };
    let mut zone = PolicyZone::from_domains(&zone_name, domains, action);
    zone.alert = list.alert;
    Ok(zone)
}

/// Domains one a line; `#` starts a comment; hosts-file lines (`0.0.0.0 bad.example`) give
/// their names.
pub fn parse_domain_list(text: &str) -> Result<Vec<Name>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        let names: Vec<&str> = if first.parse::<std::net::IpAddr>().is_ok() { words.collect() } else { vec![first] };
        for n in names {
            let n = n.trim_start_matches("*.");
            out.push(name(n).map_err(|e| (i + 1, e))?);
        }
    }
    Ok(out)
}

fn name(s: &str) -> Result<Name, String> {
    let normalized = mamori_core::domain_map::normalize_domain(s)?;
    let mut n = Name::from_str(&normalized).map_err(|e| format!("'{s}': {e}"))?;
    n.set_fqdn(true);
    Ok(n)
}

/// The service from `[dns]`: zones and policies read, the resolver on the network, events to
/// `events`.
pub fn service(
    config: &DnsConfig,
    tenants: &[Tenant],
    base: &Path,
    events: Option<mamori_core::event_writer::EventWriter>,
) -> Result<crate::DnsService, BuildError> {
    let state = build_state(config, tenants, base, 0)?;
    let resolver = if config.recursion {
        let rc = resolver_config(config, base, 0)?;
        let upstream = Arc::new(crate::resolver::NetworkUpstream::default());
        Some(crate::resolver::Resolver::new(rc, upstream, Arc::new(crate::resolver::SystemClock::default())))
    } else {
        None
    };
    let settings = crate::DnsSettings {
        max_udp_payload: config.max_udp_payload,
        max_tcp_connections: config.max_tcp_connections,
        dns64: config.dns64.as_ref().map(|d| crate::dns64::Dns64::new(d.prefix, d.exclude.clone(), d.clients.clone())),
        rate_limit: config.rate_limit.as_ref().map(|r| crate::server::rate_limit::RateLimitSettings {
            responses_per_second: r.responses_per_second,
            slip: r.slip,
            ipv4_prefix: r.ipv4_prefix,
            ipv6_prefix: r.ipv6_prefix,
            exempt: r.exempt.clone(),
        }),
        rate_limit_exempt_tenants: config.rate_limit.as_ref().is_none_or(|r| r.exempt_tenants),
        minimal_responses: config.minimal_responses,
        max_recursive_queries: config.max_recursive_queries,
        ..Default::default()
    };
    Ok(crate::DnsService::new(state, resolver, events, crate::metrics::DnsMetrics::registered(), settings))
}

/// Re-reads zones and policy zones and puts them in force; on any error the running ones stay
/// and the error says which file failed.
pub fn reload(
    service: &crate::DnsService,
    config: &DnsConfig,
    tenants: &[Tenant],
    base: &Path,
) -> Result<String, BuildError> {
    let now = service.resolver().map_or(0, |r| r.now());
    let mut state = build_state(config, tenants, base, now)?;
    let previous = service.state();
    if let Some(catalog) = Arc::get_mut(&mut state.catalog) {
        catalog.follow(&previous.catalog);
    }
    // Transferred policy zones keep the newest version held (their files may be older).
    for secondary in state.secondaries.clone() {
        let adopted = previous.secondaries.iter().find_map(|p| secondary.adopt(p));
        if let Some((old, new)) = adopted {
            state.replace_policy_zone(&old, &new);
        }
    }
    let summary = format!("{} zones", state.catalog.len());
    let changed = crate::notify::changed_zones(&previous.catalog, &state.catalog, &state.keys);
    service.swap_state(state);
    crate::notify::send_in_background(changed);
    Ok(summary)
}
