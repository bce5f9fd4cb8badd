//! Which tenant an address or a domain belongs to. Built once per configuration change and
//! shared read-only by every service.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::domain_map::DomainMap;
use crate::prefix_map::PrefixMap;
use crate::tenant::Tenant;

/// A sender of logs that sits outside the networks of the tenant its logs are about (an
/// appliance in the prefecture's cloud, a municipality's syslog relay).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSender {
    pub network: IpNet,
    pub tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The tenants with lookup tables for attribution.
#[derive(Debug, Default)]
pub struct TenantDirectory {
    tenants: Vec<Tenant>,
    by_id: HashMap<String, usize>,
    networks: PrefixMap<usize>,
    senders: PrefixMap<usize>,
    domains: DomainMap<usize>,
}

impl TenantDirectory {
    /// Builds the tables. Senders naming an unknown tenant are ignored here; configuration
    /// validation refuses them before a directory is ever built.
    pub fn new(tenants: Vec<Tenant>, senders: &[LogSender]) -> Self {
        let by_id: HashMap<String, usize> = tenants.iter().enumerate().map(|(i, t)| (t.id.clone(), i)).collect();
        let networks =
            PrefixMap::new(tenants.iter().enumerate().flat_map(|(i, t)| t.networks.iter().map(move |n| (*n, i))));
        let senders = PrefixMap::new(senders.iter().filter_map(|s| by_id.get(&s.tenant).map(|&i| (s.network, i))));
        let domains =
            DomainMap::new(tenants.iter().enumerate().flat_map(|(i, t)| t.domains.iter().map(move |d| (d.clone(), i))));
        TenantDirectory { tenants, by_id, networks, senders, domains }
    }

    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    pub fn get(&self, id: &str) -> Option<&Tenant> {
        self.by_id.get(id).map(|&i| &self.tenants[i])
    }

    /// The tenant whose networks contain `ip` (longest prefix).
    #[inline]
    pub fn tenant_of_ip(&self, ip: IpAddr) -> Option<&Tenant> {
        self.networks.lookup(ip).map(|&i| &self.tenants[i])
    }

    /// The tenant a log sender speaks for: an explicit sender entry first, then the tenant
    /// networks.
    #[inline]
    pub fn tenant_of_log_sender(&self, ip: IpAddr) -> Option<&Tenant> {
        self.senders.lookup(ip).or_else(|| self.networks.lookup(ip)).map(|&i| &self.tenants[i])
    }

    /// The tenant owning `name` or one of its parent domains.
    pub fn tenant_of_domain(&self, name: &str) -> Option<&Tenant> {
        self.domains.lookup(name).map(|&i| &self.tenants[i])
    }
}
