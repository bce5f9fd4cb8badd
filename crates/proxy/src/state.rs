//! The proxy's view of a configuration revision: tenants, the compiled lists and what each
//! tenant's policy makes of them. Built once per change and swapped in whole, so a request
//! sees one revision from start to end and list updates never drop a connection.

use std::collections::HashMap;
use std::sync::Arc;

use ipnet::IpNet;
use mamori_core::attribution::TenantDirectory;
use mamori_core::prefix_map::PrefixMap;
use mamori_urlfilter::{ListId, Matcher, Policy};

/// One tenant's web settings beyond its URL-filter policy.
#[derive(Debug, Clone, Default)]
pub struct TenantWebPolicy {
    pub policy: Policy,
    /// The tenant's own proxies, whose `X-Forwarded-For` names the terminal.
    pub trusted_proxies: Vec<IpNet>,
    /// Shown on the block page: whom to call.
    pub helpdesk: Option<String>,
    /// Decrypt `CONNECT` tunnels (TLS inspection).
    pub tls_inspect: bool,
    /// The tenant whose own CA signs host certificates; the common CA when none.
    pub tls_ca: Option<String>,
    /// Lists (domains, categories) whose hosts are tunnelled, never decrypted.
    pub tls_bypass: Vec<ListId>,
    /// Scan downloads (and uploads) when a scanner runs.
    pub scan_downloads: bool,
    pub scan_uploads: bool,
    /// A body that cannot be scanned passes (true) or is refused (false).
    pub scan_fail_open: bool,
}

pub struct ProxyState {
    pub directory: Arc<TenantDirectory>,
    pub matcher: Arc<Matcher>,
    /// Policies by tenant id; a tenant without one gets `default_policy`.
    pub tenants: HashMap<String, TenantWebPolicy>,
    /// For tenants without a policy of their own and for unknown sources.
    pub default_policy: TenantWebPolicy,
    /// Whether sources outside every tenant network may use the proxy at all.
    pub allow_unassigned: bool,
    trusted: PrefixMap<String>,
}

impl ProxyState {
    pub fn new(
        directory: Arc<TenantDirectory>,
        matcher: Arc<Matcher>,
        tenants: HashMap<String, TenantWebPolicy>,
        default_policy: TenantWebPolicy,
        allow_unassigned: bool,
    ) -> ProxyState {
        let trusted =
            PrefixMap::new(tenants.iter().flat_map(|(id, t)| t.trusted_proxies.iter().map(move |n| (*n, id.clone()))));
        ProxyState { directory, matcher, tenants, default_policy, allow_unassigned, trusted }
    }

    pub fn web_policy(&self, tenant: Option<&str>) -> &TenantWebPolicy {
        tenant.and_then(|t| self.tenants.get(t)).unwrap_or(&self.default_policy)
    }

    /// The tenant whose trusted proxy `ip` is, if any.
    pub fn trusted_proxy_of(&self, ip: std::net::IpAddr) -> Option<&str> {
        self.trusted.lookup(ip).map(|s| s.as_str())
    }
}
