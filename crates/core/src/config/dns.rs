//! `[dns]`: the DNS service's listeners, the tenants' authoritative zones, the recursive
//! resolver (tenant networks only) and the response policy zones.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::diagnostic::{FieldPath, Problem};
use crate::domain_map::normalize_domain;

/// Not started when `listen` is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// UDP and TCP on this address (53 in production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// More addresses, UDP and TCP each (an IPv6 one, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_listen: Vec<SocketAddr>,
    /// Largest UDP answer; larger ones are truncated (TC) and retried over TCP.
    #[serde(default = "default_max_udp_payload")]
    pub max_udp_payload: u16,
    /// TCP connections open at once (all clients); more are closed at once and counted.
    #[serde(default = "default_max_tcp_connections")]
    pub max_tcp_connections: usize,
    /// Offer recursion to tenant networks (everyone else is refused).
    #[serde(default = "default_true")]
    pub recursion: bool,
    /// Resolve through these servers (with RD); iterate from `root_hints` when empty. A
    /// forwarder given by host name is looked up through the others (at least one needs an
    /// address), and its addresses are used beside them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forwarders: Vec<ServerAddress>,
    /// Root server addresses for iteration; the IANA root servers when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub root_hints: Vec<SocketAddr>,
    /// Names under a zone here go to its servers (with RD), not to the forwarders.
    /// Servers by host name are looked up through the resolver and asked after those given by
    /// address.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub forward_zones: BTreeMap<String, Vec<ServerAddress>>,
    #[serde(default = "default_cache_entries")]
    pub cache_entries: usize,
    /// Recursive resolutions running at once (Unbound's `num-queries-per-thread`, BIND's
    /// `recursive-clients`). When all are taken, a new question replaces the oldest of the
    /// half that may be replaced if it has run longer than 200 ms, and is dropped otherwise
    /// (counted): slow or silent servers cannot tie up the resolver.
    #[serde(default = "default_max_recursive_queries")]
    pub max_recursive_queries: usize,
    /// Answers for names under these zones are never cached: every question goes to the
    /// servers again (Unbound's `forward-no-cache`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncached_zones: Vec<String>,
    /// Tenants' authoritative zones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<DnsZone>,
    /// Response policy zones, applied in order: common ones (no tenant) first, then the
    /// tenant's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rpz: Vec<RpzZone>,
    /// Threat-intelligence domain lists (one domain a line, `#` comments, hosts-file lines
    /// accepted), each compiled into a policy zone applied after the `rpz` zones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threat_lists: Vec<ThreatList>,
    /// TSIG keys for zone transfers (`transfer_keys` of a zone and `transfer_key` of a policy
    /// zone name them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tsig_keys: Vec<TsigKey>,
    /// Client tags: a tag name and the client networks that carry it. A policy zone or threat
    /// list with `tags` applies only to clients with one of its tags (Unbound's
    /// `access-control-tag`); at most 64 tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub client_tags: BTreeMap<String, Vec<IpNet>>,
    /// DNS64 (RFC 6147): AAAA answers synthesized from A records for names without AAAA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns64: Option<Dns64Config>,
    /// Response rate limiting over UDP, per client network; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<DnsRateLimit>,
    /// Answers carry only what the question needs: no authority section on positive answers,
    /// no additional records besides what the answer's type calls for (Unbound's
    /// `minimal-responses`, on by default there too).
    #[serde(default = "default_true")]
    pub minimal_responses: bool,
    /// An answer asked for in the last tenth of its TTL is refreshed in the background, so
    /// popular names never expire from the cache (Unbound's `prefetch`).
    #[serde(default)]
    pub prefetch: bool,
    /// DNS rebinding protection: addresses in these networks are taken out of upstream
    /// answers (Unbound's `private-address`), except for names under `private_domains`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_addresses: Vec<IpNet>,
    /// Names under these domains may resolve to `private_addresses` (Unbound's
    /// `private-domain`): the tenants' own internal zones, say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_domains: Vec<String>,
    /// Zones the resolver holds a copy of (Unbound's `auth-zone`; RFC 8806 for the root),
    /// read at start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_zones: Vec<HeldZoneConfig>,
    /// DNSSEC validation of recursive answers: validated ones carry AD, those whose
    /// signatures fail get SERVFAIL (unless the client sets CD).
    #[serde(default)]
    pub dnssec_validation: bool,
    /// Trust anchors for validation, DS or DNSKEY records in master format
    /// (`". IN DS 20326 8 2 E06D..."`); the IANA root's keys when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_anchors: Vec<String>,
    /// Name servers are asked over IPv4 (Unbound's `do-ip4`); off on an IPv6-only host, where
    /// IPv4 servers are reached through `nat64_prefix` or not at all.
    #[serde(default = "default_true")]
    pub upstream_ipv4: bool,
    /// Name servers are asked over IPv6 (Unbound's `do-ip6`); off on a host without IPv6.
    #[serde(default = "default_true")]
    pub upstream_ipv6: bool,
    /// On an IPv6-only host: IPv4 name servers are reached through the NAT64 translator at
    /// this RFC 6052 prefix (Unbound's `do-nat64` and `nat64-prefix`; `64:ff9b::/96` is the
    /// well-known one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat64_prefix: Option<IpNet>,
    /// Name server addresses never asked, whatever a delegation says (Unbound's
    /// `do-not-query-address`): the host itself by default, so that a forged delegation cannot
    /// turn the resolver on local services. An address under `nat64_prefix` is judged by the
    /// IPv4 address it carries. The configured forwarders, forward zones and root hints are
    /// always asked.
    #[serde(default = "default_never_query")]
    pub never_query: Vec<IpNet>,
}

/// A server by address (`192.0.2.53:53`, `[2001:db8::53]:53`, or without a port for 53) or by
/// host name (`ns.pref.example.jp`, `ns.pref.example.jp:5353`), which the resolver looks up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ServerAddress {
    Address(SocketAddr),
    Host { name: String, port: u16 },
}

impl ServerAddress {
    pub fn address(&self) -> Option<SocketAddr> {
        match self {
            ServerAddress::Address(a) => Some(*a),
            ServerAddress::Host { .. } => None,
        }
    }
}

impl From<SocketAddr> for ServerAddress {
    fn from(a: SocketAddr) -> Self {
        ServerAddress::Address(a)
    }
}

impl std::str::FromStr for ServerAddress {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(a) = s.parse::<SocketAddr>() {
            return Ok(ServerAddress::Address(a));
        }
        if let Ok(ip) = s.parse::<std::net::IpAddr>() {
            return Ok(ServerAddress::Address(SocketAddr::new(ip, 53)));
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("'{s}': the port '{p}' is not a number"))?),
            None => (s, 53),
        };
        if port == 0 {
            return Err(format!("'{s}': port 0"));
        }
        let name = normalize_domain(host).map_err(|e| format!("'{s}' is neither an address nor a host name: {e}"))?;
        Ok(ServerAddress::Host { name, port })
    }
}

impl TryFrom<String> for ServerAddress {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<ServerAddress> for String {
    fn from(a: ServerAddress) -> String {
        a.to_string()
    }
}

impl std::fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerAddress::Address(a) => write!(f, "{a}"),
            ServerAddress::Host { name, port: 53 } => write!(f, "{name}"),
            ServerAddress::Host { name, port } => write!(f, "{name}:{port}"),
        }
    }
}

/// `[[dns.held_zones]]`: a zone the resolver answers from its own copy, read from a file and,
/// with `primaries`, kept current from them by SOA checks, AXFR and IXFR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldZoneConfig {
    /// The zone's name (`.` for a local copy of the root).
    pub name: String,
    /// The zone in master format, relative to the configuration file. With `primaries` it is
    /// optional: read at start when present and rewritten after every transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Primary servers the zone is transferred from; by address or by host name, looked up
    /// through the resolver before each check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primaries: Vec<ServerAddress>,
    /// Who besides the primaries may send NOTIFY for the zone (BIND's and Unbound's
    /// `allow-notify`): addresses or host names (looked up with the primaries); the port is
    /// not compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_notify: Vec<ServerAddress>,
    /// Resolution reaching this zone takes its answers from the copy.
    #[serde(default = "default_true")]
    pub for_upstream: bool,
    /// Clients' questions under the zone are answered from the copy, authoritatively (AA).
    #[serde(default = "default_true")]
    pub for_downstream: bool,
    /// While no copy is held (the first transfer not done, or failed), resolution goes to
    /// the zone's servers instead of failing.
    #[serde(default)]
    pub fallback: bool,
    /// A version whose ZONEMD digest (RFC 8976) does not match is not used.
    #[serde(default)]
    pub zonemd_check: bool,
    /// With `zonemd_check`: a version without ZONEMD is not used either.
    #[serde(default)]
    pub zonemd_reject_absence: bool,
    /// With `zonemd_check`: failures are only logged, and the version used all the same.
    #[serde(default)]
    pub zonemd_permissive: bool,
}

/// `[dns.rate_limit]`: answers a second per client network over UDP (BIND's RRL, per client).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsRateLimit {
    /// Answers a second per client network (and as many at once); more are dropped.
    #[serde(default = "default_responses_per_second")]
    pub responses_per_second: u32,
    /// Every n-th limited answer goes out empty with TC, so real clients retry over TCP;
    /// 0 drops them all.
    #[serde(default = "default_slip")]
    pub slip: u32,
    /// Client networks counted together.
    #[serde(default = "default_ipv4_prefix")]
    pub ipv4_prefix: u8,
    #[serde(default = "default_ipv6_prefix")]
    pub ipv6_prefix: u8,
    /// Never limited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exempt: Vec<IpNet>,
    /// Tenant networks are never limited (their own resolvers send much).
    #[serde(default = "default_true")]
    pub exempt_tenants: bool,
}

fn default_responses_per_second() -> u32 {
    20
}
fn default_slip() -> u32 {
    2
}
fn default_ipv4_prefix() -> u8 {
    24
}
fn default_ipv6_prefix() -> u8 {
    56
}

/// `[dns.dns64]`: the translator's prefix and what is never synthesized from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns64Config {
    /// RFC 6052 prefix of length 32, 40, 48, 56, 64 or 96; the well-known `64:ff9b::/96` by
    /// default.
    #[serde(default = "default_dns64_prefix")]
    pub prefix: IpNet,
    /// AAAA records in these networks count as absent, so the name is synthesized
    /// (RFC 6147 §5.1.4; `::ffff:0:0/96` by default).
    #[serde(default = "default_dns64_exclude")]
    pub exclude: Vec<IpNet>,
    /// Only clients in these networks get synthesized answers; every tenant client when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<IpNet>,
}

impl Default for Dns64Config {
    fn default() -> Self {
        Dns64Config { prefix: default_dns64_prefix(), exclude: default_dns64_exclude(), clients: Vec::new() }
    }
}

fn default_dns64_prefix() -> IpNet {
    "64:ff9b::/96".parse().expect("literal prefix")
}

fn default_dns64_exclude() -> Vec<IpNet> {
    vec!["::ffff:0:0/96".parse().expect("literal prefix")]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsZone {
    pub tenant: String,
    /// The zone's name, e.g. `city.midori.example.jp` or `2.0.192.in-addr.arpa`.
    pub origin: String,
    /// RFC 1035 master file, relative to the configuration file.
    pub file: PathBuf,
    /// Who may transfer the zone (AXFR/IXFR over TCP); nobody when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_allow: Vec<IpNet>,
    /// Secondaries sent a NOTIFY (RFC 1996) when a reload changes the zone's serial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<SocketAddr>,
    /// TSIG keys (names from `dns.tsig_keys`) whose signed requests may transfer the zone,
    /// from any address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_keys: Vec<String>,
}

/// A TSIG key (RFC 8945) shared with a secondary. The secret never appears in logs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsigKey {
    /// The key name both sides use, e.g. `midori-xfr`.
    pub name: String,
    /// `hmac-sha256` (default) or `hmac-sha512`.
    #[serde(default = "default_tsig_algorithm")]
    pub algorithm: String,
    /// Base64, as `tsig-keygen` prints it.
    pub secret: String,
}

impl std::fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsigKey").field("name", &self.name).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

fn default_tsig_algorithm() -> String {
    "hmac-sha256".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpzZone {
    /// The policy zone's name (its origin).
    pub name: String,
    /// The zone in master format. With `primaries` it is optional: it is read at start when
    /// present and rewritten after every transfer, so that a restart starts from the newest
    /// version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Primary servers the zone is transferred from (AXFR, then IXFR from the serial held),
    /// checked by SOA every refresh interval of the zone's SOA and at once on their NOTIFY.
    /// By address or by host name, looked up through the resolver before each check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primaries: Vec<ServerAddress>,
    /// Who besides the primaries may send NOTIFY for the zone, as for held zones (a TSIG
    /// key, when the zone has one, is still required).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_notify: Vec<ServerAddress>,
    /// TSIG key (a name from `dns.tsig_keys`) that signs the requests to the primaries and
    /// must sign their answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_key: Option<String>,
    /// Only clients with one of these tags (`dns.client_tags`); every client when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Only for this tenant; for every tenant when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// One action for every trigger: nxdomain, nodata, passthru, drop, tcp-only, disabled
    /// (log only) or cname (to `cname_override`, a block page host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_override: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname_override: Option<String>,
    /// Hits are alerts (C&C lists), not only query-log entries.
    #[serde(default)]
    pub alert: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatList {
    /// The name of the policy zone it becomes (shown in events).
    pub name: String,
    pub file: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// nxdomain (default), nodata, drop, or cname (to `cname_override`).
    #[serde(default = "default_list_action")]
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname_override: Option<String>,
    /// Hits raise alerts (default: these are C&C lists).
    #[serde(default = "default_true")]
    pub alert: bool,
    /// Only clients with one of these tags (`dns.client_tags`); every client when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            listen: None,
            also_listen: Vec::new(),
            max_udp_payload: default_max_udp_payload(),
            max_tcp_connections: default_max_tcp_connections(),
            recursion: true,
            forwarders: Vec::new(),
            root_hints: Vec::new(),
            forward_zones: BTreeMap::new(),
            cache_entries: default_cache_entries(),
            max_recursive_queries: default_max_recursive_queries(),
            uncached_zones: Vec::new(),
            zones: Vec::new(),
            rpz: Vec::new(),
            threat_lists: Vec::new(),
            tsig_keys: Vec::new(),
            client_tags: BTreeMap::new(),
            dns64: None,
            rate_limit: None,
            minimal_responses: true,
            prefetch: false,
            private_addresses: Vec::new(),
            private_domains: Vec::new(),
            held_zones: Vec::new(),
            dnssec_validation: false,
            trust_anchors: Vec::new(),
            upstream_ipv4: true,
            upstream_ipv6: true,
            nat64_prefix: None,
            never_query: default_never_query(),
        }
    }
}

fn default_never_query() -> Vec<IpNet> {
    vec!["127.0.0.0/8".parse().expect("literal network"), "::1/128".parse().expect("literal network")]
}

fn default_max_udp_payload() -> u16 {
    1232
}
fn default_max_tcp_connections() -> usize {
    1024
}
fn default_true() -> bool {
    true
}
fn default_cache_entries() -> usize {
    100_000
}
fn default_max_recursive_queries() -> usize {
    4096
}
fn default_list_action() -> String {
    "nxdomain".into()
}

const ACTIONS: &[&str] = &["nxdomain", "nodata", "passthru", "drop", "tcp-only", "disabled", "cname"];

/// Checks `[dns]` against the tenants of the same file.
pub fn check(dns: &DnsConfig, tenants: &[&str], root: &FieldPath) -> Vec<Problem> {
    let mut problems = Vec::new();
    let p = root.key("dns");
    if !(512..=65_535).contains(&dns.max_udp_payload) {
        problems.push(Problem::new(p.key("max_udp_payload"), "max_udp_payload must be between 512 and 65535"));
    }
    if dns.max_recursive_queries == 0 {
        problems.push(Problem::new(p.key("max_recursive_queries"), "max_recursive_queries must be at least 1"));
    }
    if dns.max_tcp_connections == 0 {
        problems.push(Problem::new(p.key("max_tcp_connections"), "max_tcp_connections must be at least 1"));
    }
    let known = |t: &str| tenants.contains(&t);
    let mut origins = HashSet::new();
    for (i, z) in dns.zones.iter().enumerate() {
        let zp = p.key("zones").index(i);
        if !known(&z.tenant) {
            problems.push(Problem::new(zp.key("tenant"), format!("there is no tenant '{}' in [[tenants]]", z.tenant)));
        }
        match normalize_domain(&z.origin) {
            Err(e) => problems.push(Problem::new(zp.key("origin"), e)),
            Ok(o) if !origins.insert(o.clone()) => {
                problems.push(Problem::new(zp.key("origin"), format!("zone '{o}' is configured twice")))
            }
            Ok(_) => {}
        }
        for (k, key) in z.transfer_keys.iter().enumerate() {
            if !dns
                .tsig_keys
                .iter()
                .any(|t| t.name.trim_end_matches('.').eq_ignore_ascii_case(key.trim_end_matches('.')))
            {
                problems.push(Problem::new(
                    zp.key("transfer_keys").index(k),
                    format!("there is no key '{key}' in [[dns.tsig_keys]]"),
                ));
            }
        }
    }
    for (i, k) in dns.tsig_keys.iter().enumerate() {
        let kp = p.key("tsig_keys").index(i);
        if !matches!(k.algorithm.to_ascii_lowercase().as_str(), "hmac-sha256" | "hmac-sha512") {
            problems.push(Problem::new(kp.key("algorithm"), "the algorithm must be hmac-sha256 or hmac-sha512"));
        }
        if k.secret.trim().is_empty() {
            problems.push(Problem::new(kp.key("secret"), "the secret is empty (base64, as tsig-keygen prints it)"));
        }
    }
    for (i, r) in dns.rpz.iter().enumerate() {
        let rp = p.key("rpz").index(i);
        if let Err(e) = normalize_domain(&r.name) {
            problems.push(Problem::new(rp.key("name"), e));
        }
        if let Some(t) = r.tenant.as_deref().filter(|t| !known(t)) {
            problems.push(Problem::new(rp.key("tenant"), format!("there is no tenant '{t}' in [[tenants]]")));
        }
        if let Some(a) = &r.action_override {
            check_action(a, r.cname_override.as_deref(), &rp, "action_override", &mut problems);
        }
        if r.file.is_none() && r.primaries.is_empty() {
            problems.push(Problem::new(
                rp.key("file"),
                "a policy zone needs a file, primaries to transfer it from, or both",
            ));
        }
        if !r.allow_notify.is_empty() && r.primaries.is_empty() {
            problems.push(Problem::new(rp.key("allow_notify"), "allow_notify needs primaries"));
        }
        if let Some(key) = &r.transfer_key {
            if r.primaries.is_empty() {
                problems.push(Problem::new(rp.key("transfer_key"), "transfer_key needs primaries"));
            }
            if !dns
                .tsig_keys
                .iter()
                .any(|t| t.name.trim_end_matches('.').eq_ignore_ascii_case(key.trim_end_matches('.')))
            {
                problems.push(Problem::new(
                    rp.key("transfer_key"),
                    format!("there is no key '{key}' in [[dns.tsig_keys]]"),
                ));
            }
        }
        check_tags(&r.tags, dns, &rp, &mut problems);
    }
    for (i, l) in dns.threat_lists.iter().enumerate() {
        let lp = p.key("threat_lists").index(i);
        if let Err(e) = normalize_domain(&l.name) {
            problems.push(Problem::new(lp.key("name"), e));
        }
        if let Some(t) = l.tenant.as_deref().filter(|t| !known(t)) {
            problems.push(Problem::new(lp.key("tenant"), format!("there is no tenant '{t}' in [[tenants]]")));
        }
        check_action(&l.action, l.cname_override.as_deref(), &lp, "action", &mut problems);
        check_tags(&l.tags, dns, &lp, &mut problems);
    }
    if let Some(r) = &dns.rate_limit {
        let rp = p.key("rate_limit");
        if r.responses_per_second == 0 {
            problems.push(Problem::new(rp.key("responses_per_second"), "responses_per_second must be at least 1"));
        }
        if r.ipv4_prefix > 32 {
            problems.push(Problem::new(rp.key("ipv4_prefix"), "ipv4_prefix must be at most 32"));
        }
        if r.ipv6_prefix > 128 {
            problems.push(Problem::new(rp.key("ipv6_prefix"), "ipv6_prefix must be at most 128"));
        }
    }
    if dns.client_tags.len() > 64 {
        problems.push(Problem::new(p.key("client_tags"), "at most 64 client tags"));
    }
    if let Some(d) = &dns.dns64 {
        check_rfc6052_prefix(&d.prefix, "DNS64", &p.key("dns64").key("prefix"), &mut problems);
    }
    if let Some(prefix) = &dns.nat64_prefix {
        check_rfc6052_prefix(prefix, "NAT64", &p.key("nat64_prefix"), &mut problems);
        if !dns.upstream_ipv6 {
            problems.push(Problem::new(p.key("nat64_prefix"), "nat64_prefix needs upstream_ipv6 = true"));
        }
    }
    if !dns.upstream_ipv4 && !dns.upstream_ipv6 {
        problems.push(Problem::new(
            p.key("upstream_ipv6"),
            "upstream_ipv4 and upstream_ipv6 are both off: no name server could be asked",
        ));
    }
    for (i, zone) in dns.uncached_zones.iter().enumerate() {
        if let Err(e) = normalize_domain(zone) {
            problems.push(Problem::new(p.key("uncached_zones").index(i), e));
        }
    }
    for (i, domain) in dns.private_domains.iter().enumerate() {
        if let Err(e) = normalize_domain(domain) {
            problems.push(Problem::new(p.key("private_domains").index(i), e));
        }
    }
    check_held_zones(dns, &p, &mut problems);
    for (i, anchor) in dns.trust_anchors.iter().enumerate() {
        let words: Vec<&str> = anchor.split_whitespace().collect();
        if !words.iter().any(|w| w.eq_ignore_ascii_case("DS") || w.eq_ignore_ascii_case("DNSKEY")) {
            problems.push(Problem::new(
                p.key("trust_anchors").index(i),
                "a trust anchor is a DS or DNSKEY record in master format",
            ));
        }
    }
    if !dns.trust_anchors.is_empty() && !dns.dnssec_validation {
        problems.push(Problem::new(p.key("trust_anchors"), "trust_anchors needs dnssec_validation = true"));
    }
    for (zone, servers) in &dns.forward_zones {
        if let Err(e) = normalize_domain(zone) {
            problems.push(Problem::new(p.key("forward_zones").key(zone), e));
        }
        // A server's name under the zone itself can only be looked up through the zone's
        // servers given by address.
        let inside = |s: &ServerAddress| match (s, normalize_domain(zone)) {
            (ServerAddress::Host { name, .. }, Ok(z)) => name == &z || name.ends_with(&format!(".{z}")),
            _ => false,
        };
        if servers.iter().all(|s| s.address().is_none())
            && let Some(ServerAddress::Host { name, .. }) = servers.iter().find(|s| inside(s))
        {
            problems.push(Problem::new(
                p.key("forward_zones").key(zone),
                format!("'{name}' is under the zone: it can only be looked up through a server given by address"),
            ));
        }
    }
    if !dns.forwarders.is_empty() && dns.forwarders.iter().all(|s| s.address().is_none()) {
        problems.push(Problem::new(
            p.key("forwarders"),
            "forwarders by host name are looked up through the others: give at least one by address",
        ));
    }
    problems
}

/// An RFC 6052 translator prefix: IPv6, of a length the RFC allows, no bits past it.
fn check_rfc6052_prefix(prefix: &IpNet, what: &str, at: &FieldPath, problems: &mut Vec<Problem>) {
    let ok = matches!(prefix, IpNet::V6(_)) && [32, 40, 48, 56, 64, 96].contains(&prefix.prefix_len());
    if !ok {
        problems.push(Problem::new(
            at.clone(),
            format!("the {what} prefix must be IPv6 of length 32, 40, 48, 56, 64 or 96 (RFC 6052)"),
        ));
    } else if prefix.trunc() != *prefix {
        problems.push(Problem::new(at.clone(), format!("the {what} prefix has bits set past its length")));
    }
}

fn check_held_zones(dns: &DnsConfig, p: &FieldPath, problems: &mut Vec<Problem>) {
    let mut names = HashSet::new();
    for (i, h) in dns.held_zones.iter().enumerate() {
        let hp = p.key("held_zones").index(i);
        // The root is written `.`, which is no domain to normalize.
        let normalized = if h.name.trim() == "." { Ok(".".to_string()) } else { normalize_domain(&h.name) };
        match normalized {
            Err(e) => problems.push(Problem::new(hp.key("name"), e)),
            Ok(n) if !names.insert(n.clone()) => {
                problems.push(Problem::new(hp.key("name"), format!("held zone '{n}' is configured twice")))
            }
            Ok(_) => {}
        }
        if h.file.is_none() && h.primaries.is_empty() {
            problems
                .push(Problem::new(hp.key("file"), "a held zone needs a file, primaries to transfer it from, or both"));
        }
        if !h.allow_notify.is_empty() && h.primaries.is_empty() {
            problems.push(Problem::new(hp.key("allow_notify"), "allow_notify needs primaries"));
        }
        if !h.for_upstream && !h.for_downstream {
            problems.push(Problem::new(
                hp.key("for_upstream"),
                "a held zone with neither for_upstream nor for_downstream is never used",
            ));
        }
        if !h.zonemd_check {
            for (key, set) in
                [("zonemd_reject_absence", h.zonemd_reject_absence), ("zonemd_permissive", h.zonemd_permissive)]
            {
                if set {
                    problems.push(Problem::new(hp.key(key), format!("{key} needs zonemd_check = true")));
                }
            }
        }
    }
}

fn check_tags(tags: &[String], dns: &DnsConfig, at: &FieldPath, problems: &mut Vec<Problem>) {
    for (i, t) in tags.iter().enumerate() {
        if !dns.client_tags.contains_key(t) {
            problems.push(Problem::new(at.key("tags").index(i), format!("there is no tag '{t}' in [dns.client_tags]")));
        }
    }
}

fn check_action(action: &str, cname: Option<&str>, at: &FieldPath, key: &str, problems: &mut Vec<Problem>) {
    let a = action.to_ascii_lowercase();
    if !ACTIONS.contains(&a.as_str()) {
        problems.push(Problem::new(at.key(key), format!("'{action}' is not one of {}", ACTIONS.join(", "))));
    } else if a == "cname" && cname.is_none() {
        problems.push(Problem::new(
            at.key("cname_override"),
            "the cname action needs cname_override (the block page host)",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The problems `check-config` reports for `text` (as file `m.toml`), one string each.
    fn diagnostics(text: &str) -> Vec<String> {
        super::super::parse_and_check(std::path::Path::new("m.toml"), text)
            .unwrap_err()
            .diagnostics
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    fn rpz(name: &str) -> RpzZone {
        RpzZone {
            name: name.into(),
            file: None,
            primaries: vec![],
            allow_notify: vec![],
            transfer_key: None,
            tags: vec![],
            tenant: None,
            action_override: None,
            cname_override: None,
            alert: false,
        }
    }

    fn messages(dns: &DnsConfig) -> Vec<String> {
        check(dns, &["midori"], &FieldPath::root()).into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn policy_feeds_tags_dns64_and_rate_limits_are_checked() {
        let mut dns = DnsConfig::default();
        dns.rpz.push(rpz("rpz.a.example"));
        let mut keyed = rpz("rpz.b.example");
        keyed.transfer_key = Some("nokey".into());
        keyed.tags = vec!["schools".into()];
        dns.rpz.push(keyed);
        dns.dns64 = Some(Dns64Config { prefix: "64:ff9b::/80".parse().unwrap(), ..Default::default() });
        dns.rate_limit = Some(DnsRateLimit {
            responses_per_second: 0,
            slip: 2,
            ipv4_prefix: 33,
            ipv6_prefix: 56,
            exempt: vec![],
            exempt_tenants: true,
        });
        let m = messages(&dns).join("\n");
        assert!(m.contains("needs a file, primaries"), "{m}");
        assert!(m.contains("transfer_key needs primaries") && m.contains("no key 'nokey'"), "{m}");
        assert!(m.contains("no tag 'schools'"), "{m}");
        assert!(m.contains("RFC 6052"), "{m}");
        assert!(m.contains("responses_per_second") && m.contains("ipv4_prefix"), "{m}");

        let mut dns = DnsConfig::default();
        let mut fed = rpz("rpz.feed.example");
        fed.primaries = vec!["192.0.2.60:53".parse().unwrap(), "feed.example.jp".parse().unwrap()];
        fed.tags = vec!["schools".into()];
        dns.rpz.push(fed);
        dns.client_tags.insert("schools".into(), vec!["10.20.0.0/16".parse().unwrap()]);
        dns.dns64 = Some(Dns64Config::default());
        assert!(messages(&dns).is_empty(), "{:?}", messages(&dns));
    }

    #[test]
    fn upstream_families_nat64_and_never_query_are_read_and_checked_with_their_lines() {
        let text = "[dns]\nupstream_ipv4 = false\nnat64_prefix = \"64:ff9b::/96\"\n\
                    never_query = [\"::/0\", \"10.0.0.0/8\"]\n";
        let file = super::super::parse_and_check(std::path::Path::new("m.toml"), text).expect("valid");
        assert!(!file.dns.upstream_ipv4 && file.dns.upstream_ipv6);
        assert_eq!(file.dns.nat64_prefix, Some("64:ff9b::/96".parse().unwrap()));
        assert_eq!(file.dns.never_query.len(), 2);
        // By default both families are used, no NAT64, and the host itself is never asked.
        let d = DnsConfig::default();
        assert!(d.upstream_ipv4 && d.upstream_ipv6 && d.nat64_prefix.is_none());
        assert!(d.never_query.iter().any(|n| n.contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap())));
        assert!(d.never_query.iter().any(|n| n.contains(&"::1".parse::<std::net::IpAddr>().unwrap())));

        assert_eq!(d.max_recursive_queries, 4096);

        let text = "[dns]\nmax_recursive_queries = 0\nnat64_prefix = \"192.0.2.0/24\"\n\
                    upstream_ipv4 = false\nupstream_ipv6 = false\n";
        let e = diagnostics(text);
        let has = |line: &str, what: &str| e.iter().any(|d| d.starts_with(line) && d.contains(what));
        assert!(has("m.toml:3:", "NAT64 prefix must be IPv6"), "{e:?}");
        assert!(has("m.toml:3:", "nat64_prefix needs upstream_ipv6"), "{e:?}");
        assert!(has("m.toml:5:", "both off"), "{e:?}");
        assert!(has("m.toml:2:", "max_recursive_queries must be at least 1"), "{e:?}");

        let text = "[dns]\nnever_query = [\"not a network\"]\n";
        let e = super::super::parse_and_check(std::path::Path::new("m.toml"), text).unwrap_err();
        assert!(e.diagnostics.iter().any(|d| d.to_string().starts_with("m.toml:2:")), "{e:?}");
    }

    #[test]
    fn servers_are_given_by_address_or_by_host_name() {
        let parse = |s: &str| s.parse::<ServerAddress>();
        assert_eq!(parse("192.0.2.1:5353"), Ok(ServerAddress::Address("192.0.2.1:5353".parse().unwrap())));
        assert_eq!(parse("192.0.2.1"), Ok(ServerAddress::Address("192.0.2.1:53".parse().unwrap())));
        assert_eq!(parse("2001:db8::1"), Ok(ServerAddress::Address("[2001:db8::1]:53".parse().unwrap())));
        assert_eq!(parse("NS.Example.jp."), Ok(ServerAddress::Host { name: "ns.example.jp".into(), port: 53 }));
        assert_eq!(parse("ns.example.jp:5353"), Ok(ServerAddress::Host { name: "ns.example.jp".into(), port: 5353 }));
        assert!(parse("ns.example.jp:dns").is_err() && parse("bad name").is_err());
        assert_eq!(parse("ns.example.jp:5353").unwrap().to_string(), "ns.example.jp:5353");

        let text = "[dns]\nforwarders = [\"dns.pref.example.jp\"]\n\n[dns.forward_zones]\n\
                    \"lg.jp\" = [\"ns.lg.jp\", \"192.0.2.54\"]\n\"bad.jp\" = [\"bad name\"]\n";
        let e = diagnostics(text);
        assert!(e.iter().any(|d| d.starts_with("m.toml:6:") && d.contains("neither an address")), "{e:?}");
        let text = "[dns]\nforwarders = [\"dns.pref.example.jp\"]\n\n[dns.forward_zones]\n\
                    \"lg.jp\" = [\"ns.lg.jp\", \"192.0.2.54\"]\n\"city.example.jp\" = [\"ns.pref.example.jp\"]\n\
                    \"town.example.jp\" = [\"ns.town.example.jp\"]\n";
        let e = diagnostics(text);
        assert!(e.iter().any(|d| d.starts_with("m.toml:2:") && d.contains("at least one by address")), "{e:?}");
        assert!(e.iter().any(|d| d.starts_with("m.toml:7:") && d.contains("'ns.town.example.jp' is under")), "{e:?}");
        assert_eq!(e.len(), 2, "{e:?}");
        let text = "[dns]\nforwarders = [\"192.0.2.53\", \"dns.pref.example.jp\"]\n";
        let file = super::super::parse_and_check(std::path::Path::new("m.toml"), text).expect("valid");
        assert_eq!(file.dns.forwarders[1], ServerAddress::Host { name: "dns.pref.example.jp".into(), port: 53 });
    }

    #[test]
    fn resolver_settings_are_read_and_their_problems_have_a_line() {
        let text = "[dns]\nprefetch = true\nminimal_responses = false\nprivate_addresses = [\"10.0.0.0/8\"]\n\
                    private_domains = [\"lan.midori.example.jp\"]\n\n[[dns.held_zones]]\nname = \".\"\n\
                    primaries = [\"192.0.2.70:53\"]\nzonemd_check = true\n";
        let file = super::super::parse_and_check(std::path::Path::new("m.toml"), text).expect("valid");
        assert!(file.dns.prefetch && !file.dns.minimal_responses);
        assert_eq!(file.dns.held_zones[0].name, ".");
        assert!(file.dns.held_zones[0].for_upstream && file.dns.held_zones[0].for_downstream);
        assert!(!file.dns.held_zones[0].fallback);
        // The defaults stay: minimal responses on, prefetch off.
        assert!(DnsConfig::default().minimal_responses && !DnsConfig::default().prefetch);

        let text = "[dns]\nprivate_domains = [\"bad domain\"]\n\n[[dns.held_zones]]\nname = \"held.example\"\n\
                    zonemd_permissive = true\n\n[[dns.held_zones]]\nname = \"held.example\"\nfile = \"h.zone\"\n\
                    for_upstream = false\nfor_downstream = false\nallow_notify = [\"ns.example.jp\"]\n";
        let e = diagnostics(text);
        let has = |line: &str, what: &str| e.iter().any(|d| d.starts_with(line) && d.contains(what));
        assert!(has("m.toml:2:", "dns.private_domains[0]"), "{e:?}");
        assert!(has("m.toml:4:", "needs a file, primaries"), "{e:?}");
        assert!(has("m.toml:6:", "zonemd_permissive needs zonemd_check"), "{e:?}");
        assert!(has("m.toml:9:", "configured twice"), "{e:?}");
        assert!(has("m.toml:11:", "neither for_upstream nor for_downstream"), "{e:?}");
        assert!(has("m.toml:13:", "allow_notify needs primaries"), "{e:?}");

        let text = "[dns]\ntrust_anchors = [\". IN A 192.0.2.1\"]\n";
        let e = diagnostics(text);
        assert!(e.iter().any(|d| d.starts_with("m.toml:2:") && d.contains("DS or DNSKEY")), "{e:?}");
        assert!(e.iter().any(|d| d.contains("needs dnssec_validation")), "{e:?}");
    }
}
