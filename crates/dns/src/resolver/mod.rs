//! The recursive resolver for tenant networks: a cache in front of forwarders or iteration.

pub mod cache;
mod delegations;
mod dnames;
mod dsa;
mod hosts;
mod iterate;
pub mod local;
pub mod private;
mod rsa_short;
pub mod rtt;
pub mod sections;
#[cfg(test)]
mod tests;
pub mod upstream;
pub mod validate;

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::rr::{Name, RData, RecordType};

pub use cache::{Answer, Cache, Clock, ManualClock, SystemClock};
pub use upstream::{NetworkUpstream, Upstream, UpstreamError};

use crate::rpz::{Hit, PolicySet};

/// A configured zone (the root for the forwarders), true for a forward zone, and its servers
/// given by host name with their ports.
pub type ServerHosts = (Name, bool, Vec<(Name, u16)>);

#[derive(Debug, Clone, Default)]
pub struct ResolverConfig {
    /// Everything not under a forward or stub zone goes to these, with RD set.
    pub forwarders: Vec<SocketAddr>,
    /// Names under these zones go to their servers, with RD set.
    pub forward_zones: Vec<(Name, Vec<SocketAddr>)>,
    /// Names under these zones are iterated from their servers.
    pub stub_zones: Vec<(Name, Vec<SocketAddr>)>,
    /// Servers given by host name (Unbound's `forward-host`, `stub-host`): the zone (the root
    /// for `forwarders`), true for a forward zone, and the hosts with their ports. They are
    /// looked up through the resolver itself and asked after the zone's servers by address.
    pub server_hosts: Vec<ServerHosts>,
    /// Without forwarders, iteration starts here.
    pub root_hints: Vec<SocketAddr>,
    /// The port name servers found by iteration are asked on (53).
    pub upstream_port: u16,
    pub cache_entries: usize,
    /// Answers for names under these zones are never cached (Unbound's `forward-no-cache` and
    /// `stub-no-cache`): every question goes upstream.
    pub uncached_zones: Vec<Name>,
    /// Keep the NS set (and its glue) that a server sends beside a positive answer (Unbound's
    /// `iter-scrub-promiscuous: no`); by default it is dropped, as it may be poison for the
    /// rest of the zone.
    pub keep_promiscuous_ns: bool,
    /// Forward and stub zones whose servers, when they fail, are passed over for iteration
    /// (Unbound's `forward-first` and `stub-first`).
    pub first_zones: Vec<Name>,
    /// Addresses upstream answers may not carry (DNS rebinding protection, Unbound's
    /// `private-address`), except for names under `private_domains`.
    pub private_networks: Vec<ipnet::IpNet>,
    pub private_domains: Vec<Name>,
    /// Zones held here (Unbound's `auth-zone`).
    pub local_zones: Vec<local::LocalZone>,
    /// An answer asked for in the last tenth of its TTL is refreshed in the background
    /// (Unbound's `prefetch`), so that popular names do not expire from the cache.
    pub prefetch: bool,
    /// Iteration asks each zone's servers only for the next label of the name (RFC 9156), so
    /// that the root and TLD servers do not learn the full names tenants look up.
    pub qname_minimisation: bool,
    /// DNSSEC trust anchors (DS or DNSKEY records; `validate::root_anchors` for the root):
    /// answers under them are validated. No validation when empty.
    pub trust_anchors: Vec<hickory_proto::rr::Record>,
    /// IPv4 name servers are reached through this NAT64 translator (RFC 6052 addresses under
    /// its prefix), for a resolver on an IPv6-only network (Unbound's `do-nat64`).
    pub nat64: Option<crate::dns64::Dns64>,
    /// Name server addresses of a family this host cannot reach are not used (Unbound's
    /// `do-ip4: no`, `do-ip6: no`); the servers' other addresses are looked up instead.
    pub no_ipv4: bool,
    pub no_ipv6: bool,
    /// Name server addresses never asked, whatever a delegation says (Unbound's
    /// `do-not-query-address`); an address under the NAT64 prefix is judged by the IPv4
    /// address it carries. Configured forwarders, stub servers and root hints are exempt.
    pub never_query: Vec<ipnet::IpNet>,
    /// The time signatures are checked at (seconds since the epoch), instead of the system
    /// clock: for replays of recorded data (Unbound's `val-override-date`).
    pub validation_time: Option<u32>,
}

/// After a failed prefetch the answer is not prefetched again for this long (seconds).
const PREFETCH_RETRY: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{0}")]
    Upstream(String),
}

/// What one resolution found.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub answer: Answer,
    /// A policy trigger met on the way (a CNAME target, a name server) and the name it
    /// applies to; `answer` then holds the chain up to that name.
    pub hit: Option<(Hit, Name)>,
    pub from_cache: bool,
    /// A cached answer being refreshed in the background (prefetch): not to be kept
    /// elsewhere, the refreshed one follows.
    pub refreshing: bool,
    /// Queries sent upstream for this resolution.
    pub upstream_queries: usize,
}

/// The state of one resolution that its steps share.
pub(crate) struct Trace<'p> {
    pub policy: Option<&'p PolicySet>,
    pub hit: Option<(Hit, Name)>,
    pub queries: usize,
}

/// Cheap to clone: the clones share the cache and what was learnt (a prefetch runs on one).
#[derive(Clone)]
pub struct Resolver {
    config: Arc<ResolverConfig>,
    upstream: Arc<dyn Upstream>,
    cache: Arc<Cache>,
    delegations: Arc<delegations::Delegations>,
    clock: Arc<dyn Clock>,
    /// Answers being prefetched now (one refresh each at a time).
    prefetching: Arc<std::sync::Mutex<std::collections::HashSet<(Name, RecordType)>>>,
    /// Answers whose prefetch failed, and when it may be tried again: a failing authority is
    /// not asked again by every client question that finds the answer due.
    prefetch_failed: Arc<std::sync::Mutex<std::collections::HashMap<(Name, RecordType), u64>>>,
    /// Zones' trusted DNSSEC keys.
    keys: Arc<validate::KeyCache>,
    /// Secure DNAMEs, for synthesizing the CNAMEs of names below them.
    dnames: Arc<dnames::Dnames>,
    /// Addresses of servers configured by host name.
    hosts: Arc<hosts::HostAddresses>,
    /// How fast each server answered, for the order they are asked in.
    round_trips: Arc<rtt::RoundTrips>,
}

impl Resolver {
    pub fn new(config: ResolverConfig, upstream: Arc<dyn Upstream>, clock: Arc<dyn Clock>) -> Resolver {
        let cache = Arc::new(Cache::new(config.cache_entries.max(16)));
        Resolver {
            config: Arc::new(config),
            upstream,
            cache,
            delegations: Default::default(),
            clock,
            prefetching: Default::default(),
            prefetch_failed: Default::default(),
            keys: Default::default(),
            dnames: Default::default(),
            hosts: Default::default(),
            round_trips: Default::default(),
        }
    }

    /// The resolver's clock (seconds), which its cache's TTLs count down on.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// What is known of how fast the servers answer (Unbound's infra cache).
    pub fn round_trips(&self) -> &rtt::RoundTrips {
        &self.round_trips
    }

    /// The same clock in milliseconds.
    pub fn now_millis(&self) -> u64 {
        self.clock.now_millis()
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// False for names under an uncached zone (their answers are never kept).
    pub fn caches(&self, name: &Name) -> bool {
        !self.config.uncached_zones.iter().any(|z| z.zone_of(name))
    }

    /// The authoritative answer from a zone held for clients (`for_downstream`), if `name` is
    /// in one; a signed zone's signatures and denials come with it (the service gives them
    /// only to clients that set DO).
    pub fn local_answer(&self, name: &Name, qtype: RecordType) -> Option<crate::zone::lookup::AuthAnswer> {
        let z = local::deepest(&self.config.local_zones, name, |z| z.for_downstream)?;
        Some(match z.zone.zone() {
            Some(zone) => {
                let mut a = crate::zone::lookup::answer(&zone, name, qtype);
                crate::zone::denial::add_dnssec(&zone, name, qtype, &mut a);
                a
            }
            // No copy held yet: nothing to say, with authority.
            None => crate::zone::lookup::AuthAnswer {
                rcode: hickory_proto::op::ResponseCode::ServFail,
                authoritative: true,
                answers: vec![],
                authority: vec![],
                additional: vec![],
            },
        })
    }

    /// Checks the held zones with primaries whose refresh time has come; returns how many
    /// changed.
    pub async fn refresh_held_zones(&self, force: bool) -> usize {
        let mut changed = 0;
        for z in &self.config.local_zones {
            let now = self.clock.now();
            if (!force || !z.zone.has_primaries()) && !z.zone.due(now) {
                continue;
            }
            if !z.zone.primary_hosts.is_empty() {
                z.zone.set_looked_up(self.servers_of_hosts(&z.zone.primary_hosts).await);
            }
            if !z.zone.notifiers.hosts.is_empty() {
                z.zone.notifiers.set_looked_up(self.servers_of_hosts(&z.zone.notifiers.hosts).await);
            }
            match z.zone.refresh(self.upstream.as_ref(), now).await {
                Ok(true) => {
                    tracing::info!(zone = %z.zone.name, "held zone transferred");
                    changed += 1;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(zone = %z.zone.name, error = %e, "held zone refresh failed"),
            }
        }
        changed
    }

    /// When the first held zone with primaries is to be checked.
    pub fn next_held_check(&self) -> Option<u64> {
        self.config.local_zones.iter().filter_map(|z| z.zone.next_check()).min()
    }

    /// The held zone a NOTIFY from `ip` names, if `ip` is one of its primaries.
    pub fn held_zone_notified(&self, zone: &Name, ip: std::net::IpAddr) -> bool {
        let zone = crate::zone::fqdn_lower(zone);
        match self.config.local_zones.iter().find(|z| z.zone.name == zone && z.zone.is_primary(ip)) {
            Some(z) => {
                z.zone.check_now();
                true
            }
            None => false,
        }
    }

    /// Where the resolver's queries go (zone transfers of policy zones go there too).
    pub fn upstream(&self) -> &dyn Upstream {
        self.upstream.as_ref()
    }

    /// Resolves a question; `policy` is consulted for triggers met during resolution (CNAME
    /// targets, name servers); it is `None` once the query name itself passed through.
    pub async fn resolve(
        &self,
        qname: &Name,
        qtype: RecordType,
        policy: Option<&PolicySet>,
    ) -> Result<Resolution, ResolveError> {
        let now = self.clock.now();
        let cached = self.caches(qname);
        if let Some((answer, due)) = self.cache.get_aged(qname, qtype, now).filter(|_| cached) {
            let refreshing = due && self.config.prefetch;
            if refreshing {
                self.prefetch(qname, qtype);
            }
            // The chain of a cached answer meets the CNAME-target triggers again.
            let hit = policy.and_then(|p| chain_hit(p, &answer));
            if let Some((hit, name)) = hit {
                let answers = chain_until(&answer, &name);
                let answer = Answer {
                    rcode: answer.rcode,
                    answers,
                    authority: vec![],
                    additional: vec![],
                    security: answer.security,
                };
                return Ok(Resolution {
                    answer,
                    hit: Some((hit, name)),
                    from_cache: true,
                    refreshing,
                    upstream_queries: 0,
                });
            }
            return Ok(Resolution { answer, hit: None, from_cache: true, refreshing, upstream_queries: 0 });
        }
        let mut trace = Trace { policy, hit: None, queries: 0 };
        let mut answer = self.iterate_chain(qname, qtype, &mut trace, 0).await?;
        if trace.hit.is_none() {
            answer.security = self.validate(qname, qtype, &answer, policy, 0).await;
            if answer.security == validate::Security::Secure {
                self.dnames.keep(&answer.answers, now);
            }
        }
        if trace.hit.is_none() && cached {
            self.cache.insert(qname, qtype, &answer, now);
        }
        Ok(Resolution { answer, hit: trace.hit, from_cache: false, refreshing: false, upstream_queries: trace.queries })
    }
}

impl Resolver {
    /// True when answers are refreshed before they expire: whoever keeps them elsewhere must
    /// let them go at 90% of their TTL, for the question to reach the resolver again.
    pub fn prefetches(&self) -> bool {
        self.config.prefetch
    }

    /// Refreshes a cached answer in the background.
    fn prefetch(&self, qname: &Name, qtype: RecordType) {
        let key = (crate::zone::fqdn_lower(qname), qtype);
        let now = self.clock.now();
        {
            let mut failed = self.prefetch_failed.lock().unwrap_or_else(|p| p.into_inner());
            failed.retain(|_, until| *until > now);
            if failed.contains_key(&key) {
                return;
            }
        }
        if !self.prefetching.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone()) {
            return;
        }
        let resolver = self.clone();
        tokio::spawn(async move {
            let mut trace = Trace { policy: None, hit: None, queries: 0 };
            match resolver.iterate_chain(&key.0, key.1, &mut trace, 0).await {
                Ok(mut answer) => {
                    answer.security = resolver.validate(&key.0, key.1, &answer, None, 0).await;
                    resolver.cache.insert(&key.0, key.1, &answer, resolver.clock.now())
                }
                Err(e) => {
                    tracing::debug!(name = %key.0, error = %e, "prefetch failed");
                    let retry = resolver.clock.now() + PREFETCH_RETRY;
                    resolver.prefetch_failed.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), retry);
                }
            }
            resolver.prefetching.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
        });
    }
}

/// The first CNAME target in a cached chain that a policy matches.
fn chain_hit(policy: &PolicySet, answer: &Answer) -> Option<(Hit, Name)> {
    answer.answers.iter().find_map(|r| match &r.data {
        RData::CNAME(t) => {
            let target = crate::zone::fqdn_lower(&t.0);
            policy.check_name(&target).map(|h| (h, target))
        }
        _ => None,
    })
}

/// The CNAMEs of a chain up to (and including the one pointing at) `name`.
fn chain_until(answer: &Answer, name: &Name) -> Vec<hickory_proto::rr::Record> {
    let mut out = Vec::new();
    for r in &answer.answers {
        out.push(r.clone());
        if matches!(&r.data, RData::CNAME(t) if crate::zone::fqdn_lower(&t.0) == *name) {
            break;
        }
    }
    out
}
