//! Servers configured by host name (forwarders, forward and stub zones' servers, primaries of
//! held and policy zones): their addresses are looked up through the resolver itself and kept
//! for the TTL of the answer.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use hickory_proto::rr::{Name, RecordType};

use super::{Resolver, Trace};

/// A failed lookup is tried again after this long (seconds).
const RETRY_AFTER: u64 = 60;

#[derive(Debug, Default)]
pub(super) struct HostAddresses {
    known: Mutex<HashMap<Name, (Vec<IpAddr>, u64)>>,
    /// Hosts being looked up now: a lookup that would need the very host it is for (its
    /// name under the zone it serves) goes on without it.
    looking_up: Mutex<HashSet<Name>>,
}

/// A host being looked up, until dropped.
struct LookingUp<'a>(&'a HostAddresses, &'a Name);

impl Drop for LookingUp<'_> {
    fn drop(&mut self) {
        self.0.looking_up.lock().unwrap_or_else(|e| e.into_inner()).remove(self.1);
    }
}

impl HostAddresses {
    /// The addresses known for `host` (expired ones too: better than none) and whether they
    /// are to be looked up (again) at `now`.
    fn get(&self, host: &Name, now: u64) -> (Vec<IpAddr>, bool) {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        match known.get(host) {
            Some((ips, expires)) => (ips.clone(), *expires <= now),
            None => (Vec::new(), true),
        }
    }
}

impl Resolver {
    /// The configured hosts of the zone a resolution starts at (`forward` for a forward zone
    /// or the forwarders, whose zone is the root).
    pub(super) fn server_hosts(&self, zone: &Name, forward: bool) -> &[(Name, u16)] {
        self.config
            .server_hosts
            .iter()
            .find(|(z, f, _)| z == zone && *f == forward)
            .map_or(&[], |(_, _, hosts)| &hosts[..])
    }

    /// The known addresses of `hosts`, as servers to ask.
    pub(super) fn known_host_servers(&self, hosts: &[(Name, u16)]) -> Vec<SocketAddr> {
        let now = self.clock.now();
        let mut out = Vec::new();
        for (host, port) in hosts {
            for ip in self.hosts.get(host, now).0 {
                let addr = SocketAddr::new(ip, *port);
                if !out.contains(&addr) {
                    out.push(addr);
                }
            }
        }
        out
    }

    /// Looks up those of `hosts` whose addresses are not known or have expired.
    pub(super) async fn look_up_hosts(&self, hosts: &[(Name, u16)], trace: &mut Trace<'_>, depth: usize) {
        for (host, _) in hosts {
            let now = self.clock.now();
            if !self.hosts.get(host, now).1 {
                continue;
            }
            if !self.hosts.looking_up.lock().unwrap_or_else(|e| e.into_inner()).insert(host.clone()) {
                continue;
            }
            // Taken off again however the lookup ends (a resolution given up is dropped
            // mid-way).
            let _looking = LookingUp(&self.hosts, host);
            let mut ips = Vec::new();
            let mut ttl: Option<u32> = None;
            let v4 = !self.config.no_ipv4 || self.config.nat64.is_some();
            for (rtype, usable) in [(RecordType::A, v4), (RecordType::AAAA, !self.config.no_ipv6)] {
                if !usable {
                    continue;
                }
                // The server's own lookup is not subject to any client's policy.
                let mut inner = Trace { policy: None, hit: None, queries: 0 };
                if let Ok(a) = self.iterate_chain(host, rtype, &mut inner, depth + 1).await
                    // Addresses whose signatures fail (a forged answer) are not used.
                    && !matches!(self.validate(host, rtype, &a, None, depth + 1).await, super::validate::Security::Bogus(_))
                {
                    for r in a.answers.iter().filter(|r| r.record_type() == rtype) {
                        if let Some(ip) = crate::rpz::record_ip(r) {
                            ips.push(ip);
                            ttl = Some(ttl.map_or(r.ttl, |t| t.min(r.ttl)));
                        }
                    }
                }
                trace.queries += inner.queries;
            }
            if ips.is_empty() {
                tracing::warn!(%host, "a server configured by host name has no address");
            }
            let expires = self.clock.now() + ttl.map_or(RETRY_AFTER, u64::from);
            self.hosts.known.lock().unwrap_or_else(|e| e.into_inner()).insert(host.clone(), (ips, expires));
        }
    }

    /// The addresses of servers given by host name (primaries of held or policy zones),
    /// looked up when not known or expired.
    pub async fn servers_of_hosts(&self, hosts: &[(Name, u16)]) -> Vec<SocketAddr> {
        if hosts.is_empty() {
            return Vec::new();
        }
        let mut trace = Trace { policy: None, hit: None, queries: 0 };
        self.look_up_hosts(hosts, &mut trace, 0).await;
        self.known_host_servers(hosts)
    }
}
