//! Zone cuts learnt from referrals (the "infrastructure cache"): a later name under the same
//! zone starts at that zone's servers instead of the root, for the NS records' TTL.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use hickory_proto::rr::Name;

/// Delegations kept at most; past it the expired ones go, then all (they are re-learnt).
const MAX_ZONES: usize = 10_000;

#[derive(Default)]
pub struct Delegations {
    zones: Mutex<HashMap<Name, Learnt>>,
    /// Name servers' addresses given as glue in referrals (the parent's side), for a name
    /// server named in another zone's delegation: used before asking the child, as Unbound
    /// uses its cached glue, so that a child that answers badly for its own server's address
    /// does not make the delegation unusable.
    glue: Mutex<HashMap<Name, (Vec<IpAddr>, u64)>>,
}

struct Learnt {
    servers: Vec<SocketAddr>,
    ns_names: Vec<Name>,
    expires: u64,
}

impl Delegations {
    pub fn insert(&self, zone: &Name, servers: &[SocketAddr], ns_names: &[Name], ttl: u32, now: u64) {
        if ttl == 0 || servers.is_empty() {
            return;
        }
        let mut zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
        if zones.len() >= MAX_ZONES {
            zones.retain(|_, l| l.expires > now);
            if zones.len() >= MAX_ZONES {
                zones.clear();
            }
        }
        let learnt = Learnt { servers: servers.to_vec(), ns_names: ns_names.to_vec(), expires: now + u64::from(ttl) };
        zones.insert(crate::zone::fqdn_lower(zone), learnt);
    }

    /// Adds the names of a zone's NS set as its own servers gave it (the child's side, which
    /// may list servers the parent's referral did not) to a learnt delegation: when the
    /// servers in use stop answering, these are looked up too.
    pub fn add_ns_names(&self, zone: &Name, names: &[Name]) {
        let mut zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = zones.get_mut(&crate::zone::fqdn_lower(zone)) {
            for n in names {
                if !l.ns_names.contains(n) {
                    l.ns_names.push(n.clone());
                }
            }
        }
    }

    /// Adds servers of a learnt delegation found by looking up its other name servers.
    pub fn add_servers(&self, zone: &Name, servers: &[SocketAddr], names: &[Name]) {
        let mut zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = zones.get_mut(&crate::zone::fqdn_lower(zone)) {
            for s in servers {
                if !l.servers.contains(s) {
                    l.servers.push(*s);
                }
            }
            for n in names {
                if !l.ns_names.contains(n) {
                    l.ns_names.push(n.clone());
                }
            }
        }
    }

    /// Keeps the glue addresses of a referral, per name server, for their TTL.
    pub fn insert_glue(&self, ns: &Name, addresses: Vec<IpAddr>, ttl: u32, now: u64) {
        if ttl == 0 || addresses.is_empty() {
            return;
        }
        let mut glue = self.glue.lock().unwrap_or_else(|p| p.into_inner());
        if glue.len() >= MAX_ZONES {
            glue.retain(|_, (_, expires)| *expires > now);
            if glue.len() >= MAX_ZONES {
                glue.clear();
            }
        }
        glue.insert(crate::zone::fqdn_lower(ns), (addresses, now + u64::from(ttl)));
    }

    /// Unexpired glue addresses of a name server.
    pub fn glue_of(&self, ns: &Name, now: u64) -> Option<Vec<IpAddr>> {
        let glue = self.glue.lock().unwrap_or_else(|p| p.into_inner());
        glue.get(&crate::zone::fqdn_lower(ns)).filter(|(_, expires)| *expires > now).map(|(a, _)| a.clone())
    }

    /// The unexpired servers and name server names learnt for exactly `zone`.
    pub fn exact(&self, zone: &Name, now: u64) -> Option<(Vec<SocketAddr>, Vec<Name>)> {
        let zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
        zones
            .get(&crate::zone::fqdn_lower(zone))
            .filter(|l| l.expires > now)
            .map(|l| (l.servers.clone(), l.ns_names.clone()))
    }

    /// The deepest unexpired zone containing `name`.
    pub fn closest(&self, name: &Name, now: u64) -> Option<(Name, Vec<SocketAddr>, Vec<Name>)> {
        let zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
        if zones.is_empty() {
            return None;
        }
        let mut candidate = crate::zone::fqdn_lower(name);
        loop {
            if let Some(l) = zones.get(&candidate).filter(|l| l.expires > now) {
                return Some((candidate, l.servers.clone(), l.ns_names.clone()));
            }
            if candidate.is_root() {
                return None;
            }
            candidate = candidate.base_name();
        }
    }
}
