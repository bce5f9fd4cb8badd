//! The authoritative zones of every tenant, found by the longest matching origin.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::Name;
use ipnet::IpNet;

use crate::zone::Zone;

/// One served zone and who owns it.
#[derive(Debug)]
pub struct ServedZone {
    pub tenant: String,
    pub zone: Zone,
    /// Addresses allowed to transfer the zone (AXFR); nobody else may.
    pub transfer_allow: Vec<IpNet>,
}

impl ServedZone {
    pub fn may_transfer(&self, ip: IpAddr) -> bool {
        self.transfer_allow.iter().any(|n| n.contains(&crate::server::unmap(ip)))
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
}
