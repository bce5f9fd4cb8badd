//! Who is browsing: the tenant, and the terminal's address.

use std::net::IpAddr;

use http::HeaderMap;

use crate::state::ProxyState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The peer of the connection.
    pub peer: IpAddr,
    /// The terminal: the peer, or the address its trusted proxy reported.
    pub terminal: IpAddr,
    pub tenant: Option<String>,
    pub user: Option<String>,
}

impl Client {
    /// Attributes a request. `X-Forwarded-For` is believed only from a tenant's own trusted
    /// proxy, and then only its last entry that is not itself one of that tenant's proxies:
    /// anything further left was written by the terminal and proves nothing.
    pub fn identify(state: &ProxyState, peer: IpAddr, headers: &HeaderMap) -> Client {
        let peer = peer.to_canonical();
        if let Some(tenant) = state.trusted_proxy_of(peer) {
            let terminal = forwarded_for(headers)
                .into_iter()
                .rev()
                .find(|ip| state.trusted_proxy_of(*ip) != Some(tenant))
                .unwrap_or(peer);
            return Client { peer, terminal, tenant: Some(tenant.to_string()), user: None };
        }
        let tenant = state.directory.tenant_of_ip(peer).map(|t| t.id.clone());
        Client { peer, terminal: peer, tenant, user: None }
    }
}

fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect()
}
