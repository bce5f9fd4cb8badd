//! The snapshot a running DNS service answers from: zones, tenants and policy zones. A reload
//! builds a new one and swaps it in; a snapshot that fails to build leaves the old in force.

use std::collections::HashMap;
use std::sync::Arc;

use mamori_core::TenantDirectory;

use crate::answer_cache::AnswerCache;
use crate::catalog::Catalog;
use crate::rpz::{PolicySet, PolicyZone};

pub struct DnsState {
    pub catalog: Catalog,
    pub tenants: TenantDirectory,
    /// Finished authoritative answers of this snapshot (a reload starts a new, empty one).
    pub answers: AnswerCache,
    /// Finished recursive answers of this snapshot's policy zones, per tenant.
    pub recursive: AnswerCache,
    /// TSIG keys for signed requests (zone transfers).
    pub keys: crate::tsig::Keys,
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
        let per_tenant = tenant_zones
            .into_iter()
            .map(|(id, zones)| (id, PolicySet::new(common.iter().cloned().chain(zones).collect())))
            .collect();
        DnsState {
            catalog,
            tenants,
            answers: AnswerCache::default(),
            recursive: AnswerCache::default(),
            keys: Default::default(),
            common: PolicySet::new(common),
            per_tenant,
        }
    }

    /// The policy zones in force for a tenant, computed once per snapshot.
    pub fn policy_for(&self, tenant: &str) -> &PolicySet {
        self.per_tenant.get(tenant).unwrap_or(&self.common)
    }
}
