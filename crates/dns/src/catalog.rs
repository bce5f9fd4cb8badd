//! The authoritative zones of every tenant, found by the longest matching origin.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_proto::rr::Name;
use ipnet::IpNet;

use crate::zone::Zone;
use crate::zone::journal::{Delta, MAX_DELTAS};

/// One served zone and who owns it.
#[derive(Debug)]
pub struct ServedZone {
    pub tenant: String,
    pub zone: Zone,
    /// Addresses allowed to transfer the zone (AXFR); nobody else may.
    pub transfer_allow: Vec<IpNet>,
    /// Secondaries told of a new serial (NOTIFY, RFC 1996).
    pub notify: Vec<SocketAddr>,
    /// TSIG key names (lower case, no final dot) whose signed requests may transfer the zone.
    pub transfer_keys: Vec<String>,
    /// Changes of earlier reloads, oldest first, for IXFR.
    pub journal: Vec<Delta>,
    /// Where the journal is kept across restarts.
    pub journal_file: Option<std::path::PathBuf>,
}

impl ServedZone {
    pub fn new(tenant: String, zone: Zone, transfer_allow: Vec<IpNet>) -> ServedZone {
        ServedZone {
            tenant,
            zone,
            transfer_allow,
            notify: Vec::new(),
            transfer_keys: Vec::new(),
            journal: Vec::new(),
            journal_file: None,
        }
    }

    /// Takes over the journal of the version this one replaces, plus the change between them
    /// when the serial moved.
    pub fn follow(&mut self, previous: &ServedZone) {
        self.journal = previous.journal.clone();
        if previous.zone.serial() != self.zone.serial() {
            self.journal.push(Delta::between(&previous.zone, &self.zone));
            let excess = self.journal.len().saturating_sub(MAX_DELTAS);
            self.journal.drain(..excess);
            if let Some(path) = &self.journal_file
                && let Err(e) = crate::zone::journal::save(path, &self.journal)
            {
                tracing::warn!(zone = %self.zone.origin(), journal = %path.display(), error = %e, "the journal is not saved; IXFR after a restart sends the whole zone");
            }
        }
    }

    /// Allowed by address, or by a TSIG key the request was signed with.
    pub fn may_transfer(&self, ip: IpAddr, key: Option<&str>) -> bool {
        self.transfer_allow.iter().any(|n| n.contains(&crate::server::unmap(ip)))
            || key.is_some_and(|k| self.transfer_keys.iter().any(|t| t == k))
    }
}

#[derive(Debug, Default)]
pub struct Catalog {
    zones: HashMap<Name, Arc<ServedZone>>,
}

impl Catalog {
    /// Fails when two zones have the same origin.
    pub fn new(zones: Vec<ServedZone>) -> Result<Catalog, String> {
        let mut map = HashMap::new();
        for z in zones {
            let origin = z.zone.origin().clone();
            if let Some(prev) = map.insert(origin.clone(), Arc::new(z)) {
                return Err(format!("zone {origin} is configured twice (tenant {})", prev.tenant));
            }
        }
        Ok(Catalog { zones: map })
    }

    /// The zone with the longest origin that contains `name`.
    pub fn find(&self, name: &Name) -> Option<&Arc<ServedZone>> {
        let name = crate::zone::fqdn_lower(name);
        let mut labels = name.num_labels() as usize;
        loop {
            if let Some(z) = self.zones.get(&name.trim_to(labels)) {
                return Some(z);
            }
            if labels == 0 {
                return None;
            }
            labels -= 1;
        }
    }

    pub fn len(&self) -> usize {
        self.zones.len()
    }

    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    pub fn zones(&self) -> impl Iterator<Item = &Arc<ServedZone>> {
        self.zones.values()
    }

    /// The zone of exactly this origin.
    pub fn get(&self, origin: &Name) -> Option<&Arc<ServedZone>> {
        self.zones.get(origin)
    }

    /// Carries the journals of `previous` (the catalog being replaced) over to these zones.
    pub fn follow(&mut self, previous: &Catalog) {
        for (origin, zone) in self.zones.iter_mut() {
            if let (Some(zone), Some(old)) = (Arc::get_mut(zone), previous.zones.get(origin)) {
                zone.follow(old);
            }
        }
    }
}
