//! The snapshot a running DNS service answers from: zones, tenants and policy zones. A reload
//! builds a new one and swaps it in; a snapshot that fails to build leaves the old in force.
//! A policy zone transferred anew makes a snapshot that differs from the one in force by
//! that zone only.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use mamori_core::TenantDirectory;

use crate::answer_cache::AnswerCache;
use crate::catalog::Catalog;
use crate::rpz::secondary::Secondary;
use crate::rpz::{PolicySet, PolicyZone};

/// Client networks and the tags they carry, a bit per tag (`dns.client_tags`).
#[derive(Debug, Default, Clone)]
pub struct ClientTags {
    networks: Vec<(IpNet, u64)>,
    names: Vec<String>,
}

impl ClientTags {
    /// `tags` in order; the n-th gets bit n (at most 64).
    pub fn new<'a>(tags: impl IntoIterator<Item = (&'a str, &'a [IpNet])>) -> ClientTags {
        let mut out = ClientTags::default();
        for (i, (name, nets)) in tags.into_iter().take(64).enumerate() {
            out.names.push(name.to_string());
            out.networks.extend(nets.iter().map(|n| (n.trunc(), 1u64 << i)));
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// The bits of these tag names (unknown names have none).
    pub fn mask_of<S: AsRef<str>>(&self, names: &[S]) -> u64 {
        names.iter().filter_map(|n| self.names.iter().position(|t| t == n.as_ref())).fold(0, |m, i| m | (1u64 << i))
    }

    /// Every tag of a network that holds `ip`.
    pub fn of(&self, ip: IpAddr) -> u64 {
        let ip = crate::server::unmap(ip);
        self.networks.iter().filter(|(n, _)| n.contains(&ip)).fold(0, |m, (_, bits)| m | bits)
    }
}

pub struct DnsState {
    pub catalog: Arc<Catalog>,
    pub tenants: Arc<TenantDirectory>,
    /// Finished authoritative answers of this snapshot (a reload starts a new, empty one).
    pub answers: AnswerCache,
    /// Finished recursive answers of this snapshot's policy zones, per tenant.
    pub recursive: AnswerCache,
    /// TSIG keys for signed requests (zone transfers).
    pub keys: Arc<crate::tsig::Keys>,
    pub client_tags: Arc<ClientTags>,
    /// Policy zones transferred from primaries.
    pub secondaries: Vec<Arc<Secondary>>,
    common_zones: Vec<Arc<PolicyZone>>,
    tenant_zones: HashMap<String, Vec<Arc<PolicyZone>>>,
    common: PolicySet,
    per_tenant: HashMap<String, PolicySet>,
}

impl DnsState {
    /// `common` zones apply to every tenant, before the tenant's own.
    pub fn new(
        catalog: Catalog,
        tenants: TenantDirectory,
        common: Vec<Arc<PolicyZone>>,
        tenant_zones: HashMap<String, Vec<Arc<PolicyZone>>>,
    ) -> DnsState {
        let mut state = DnsState {
            catalog: Arc::new(catalog),
            tenants: Arc::new(tenants),
            answers: AnswerCache::default(),
            recursive: AnswerCache::default(),
            keys: Default::default(),
            client_tags: Default::default(),
            secondaries: Vec::new(),
            common_zones: common,
            tenant_zones,
            common: PolicySet::default(),
            per_tenant: HashMap::new(),
        };
        state.make_sets();
        state
    }

    fn make_sets(&mut self) {
        self.per_tenant = self
            .tenant_zones
            .iter()
            .map(|(id, zones)| {
                (id.clone(), PolicySet::new(self.common_zones.iter().cloned().chain(zones.iter().cloned()).collect()))
            })
            .collect();
        self.common = PolicySet::new(self.common_zones.clone());
    }

    /// The policy zones in force for a tenant, computed once per snapshot.
    pub fn policy_for(&self, tenant: &str) -> &PolicySet {
        self.per_tenant.get(tenant).unwrap_or(&self.common)
    }

    /// Puts `new` in place of `old` (compared by identity) in every policy set: a snapshot
    /// with the same zones, tenants and keys, and empty answer caches (answers may change).
    pub fn with_policy_zone(&self, old: &Arc<PolicyZone>, new: &Arc<PolicyZone>) -> DnsState {
        let swap = |zones: &[Arc<PolicyZone>]| -> Vec<Arc<PolicyZone>> {
            zones.iter().map(|z| if Arc::ptr_eq(z, old) { new.clone() } else { z.clone() }).collect()
        };
        let mut state = DnsState {
            catalog: self.catalog.clone(),
            tenants: self.tenants.clone(),
            answers: AnswerCache::default(),
            recursive: AnswerCache::default(),
            keys: self.keys.clone(),
            client_tags: self.client_tags.clone(),
            secondaries: self.secondaries.clone(),
            common_zones: swap(&self.common_zones),
            tenant_zones: self.tenant_zones.iter().map(|(t, z)| (t.clone(), swap(z))).collect(),
            common: PolicySet::default(),
            per_tenant: HashMap::new(),
        };
        state.make_sets();
        state
    }

    /// Replaces zones in place (a snapshot not yet in force).
    pub fn replace_policy_zone(&mut self, old: &Arc<PolicyZone>, new: &Arc<PolicyZone>) {
        let swap = |zones: &mut Vec<Arc<PolicyZone>>| {
            for z in zones.iter_mut() {
                if Arc::ptr_eq(z, old) {
                    *z = new.clone();
                }
            }
        };
        swap(&mut self.common_zones);
        self.tenant_zones.values_mut().for_each(swap);
        self.make_sets();
    }
}
