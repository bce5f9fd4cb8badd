//! Where to deliver: MX lookup with the implicit MX (A/AAAA) fallback and null MX (RFC 5321
//! §5.1, RFC 7505), or a configured next hop.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

/// A host to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub addr: SocketAddr,
}

/// Why no host could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The domain does not exist or says it takes no mail: return the message.
    Permanent(String),
    /// DNS failed: try later.
    Temporary(String),
}

pub struct MxResolver {
    dns: TokioResolver,
}

impl MxResolver {
    /// A resolver using `server` (`ip:port`), or the system configuration.
    pub fn new(server: Option<SocketAddr>) -> Result<MxResolver, String> {
        let mut opts = ResolverOpts::default();
        opts.timeout = std::time::Duration::from_secs(5);
        opts.attempts = 2;
        let builder = match server {
            Some(server) => {
                let mut ns = NameServerConfig::udp_and_tcp(server.ip());
                for c in &mut ns.connections {
                    c.port = server.port();
                }
                TokioResolver::builder_with_config(
                    ResolverConfig::from_parts(None, vec![], vec![ns]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => match TokioResolver::builder_tokio() {
                Ok(b) => b,
                // Still start (and say so) rather than take the other services down.
                Err(e) => {
                    tracing::warn!(error = %e, "no system DNS configuration; MX lookups ask 127.0.0.1:53");
                    return MxResolver::new(Some(SocketAddr::from(([127, 0, 0, 1], 53))));
                }
            },
        };
        Ok(MxResolver { dns: builder.with_options(opts).build().map_err(|e| e.to_string())? })
    }

    /// The hosts for `domain`, by MX preference (RFC 5321 §5.1), each with its addresses.
    pub async fn mx_targets(&self, domain: &str, port: u16) -> Result<Vec<Target>, LookupError> {
        let fqdn = format!("{}.", domain.trim_end_matches('.'));
        let hosts: Vec<String> = match self.dns.mx_lookup(fqdn.as_str()).await {
            Ok(lookup) => {
                let mut mx: Vec<(u16, String)> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::MX(mx) => {
                            Some((mx.preference, mx.exchange.to_ascii().trim_end_matches('.').to_ascii_lowercase()))
                        }
                        _ => None,
                    })
                    .collect();
                mx.sort();
                if mx.len() == 1 && mx[0].1.is_empty() {
                    return Err(LookupError::Permanent(format!("5.1.10 {domain} accepts no mail (null MX, RFC 7505)")));
                }
                mx.into_iter().map(|(_, h)| h).filter(|h| !h.is_empty()).collect()
            }
            Err(e) if e.is_nx_domain() => {
                return Err(LookupError::Permanent(format!("5.1.2 domain {domain} does not exist")));
            }
            Err(e) if e.is_no_records_found() => vec![domain.to_string()],
            Err(e) => return Err(LookupError::Temporary(format!("4.4.3 MX lookup for {domain} failed: {e}"))),
        };
        let mut targets = Vec::new();
        let mut last_error = None;
        for host in hosts {
            match self.addresses(&host).await {
                Ok(addrs) => targets
                    .extend(addrs.into_iter().map(|ip| Target { name: host.clone(), addr: SocketAddr::new(ip, port) })),
                Err(e) => last_error = Some(e),
            }
        }
        if targets.is_empty() {
            return Err(LookupError::Temporary(
                last_error.unwrap_or_else(|| format!("4.4.4 no address for the mail hosts of {domain}")),
            ));
        }
        Ok(targets)
    }

    /// A configured next hop: an address, or a name resolved to A/AAAA (no MX).
    pub async fn host_targets(&self, host: &str, port: u16) -> Result<Vec<Target>, LookupError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![Target { name: host.to_string(), addr: SocketAddr::new(ip, port) }]);
        }
        let addrs = self.addresses(host).await.map_err(LookupError::Temporary)?;
        Ok(addrs.into_iter().map(|ip| Target { name: host.to_string(), addr: SocketAddr::new(ip, port) }).collect())
    }

    async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        match self.dns.lookup_ip(fqdn.as_str()).await {
            Ok(l) => Ok(l.iter().collect()),
            Err(e) => Err(format!("4.4.4 no address for {host}: {e}")),
        }
    }

    /// The IPv4 answers for `name` (a DNS block list query); empty when it is not listed or the
    /// list cannot be asked (a list that does not answer must not make mail spam).
    pub async fn ipv4(&self, name: &str) -> Vec<std::net::Ipv4Addr> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.dns.ipv4_lookup(fqdn.as_str()).await {
            Ok(l) => l
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::A(a) => Some(a.0),
                    _ => None,
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}
