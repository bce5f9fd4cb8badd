//! Names of origins to addresses: the system resolver, or a configured DNS server
//! (`[proxy] resolver`), for pooled requests, tunnels and decrypted connections alike.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::{Resolver as Hickory, TokioResolver};
use hyper_util::client::legacy::connect::dns::Name;
use tokio::net::TcpStream;

#[derive(Clone, Default)]
pub struct Resolver {
    /// None: the system resolver (getaddrinfo).
    dns: Option<Arc<TokioResolver>>,
}

impl Resolver {
    /// Asks the DNS server at `server` (UDP, then TCP for long answers).
    pub fn dns(server: SocketAddr) -> Result<Resolver, String> {
        let mut ns = NameServerConfig::udp_and_tcp(server.ip());
        for c in &mut ns.connections {
            c.port = server.port();
        }
        let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
        let r =
            Hickory::builder_with_config(config, TokioRuntimeProvider::default()).build().map_err(|e| e.to_string())?;
        Ok(Resolver { dns: Some(Arc::new(r)) })
    }

    pub async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        match &self.dns {
            None => Ok(tokio::net::lookup_host((bare, port)).await?.collect()),
            Some(r) => {
                let ips = r.lookup_ip(bare).await.map_err(|e| std::io::Error::other(format!("{bare}: {e}")))?;
                Ok(ips.iter().map(|ip| SocketAddr::new(ip, port)).collect())
            }
        }
    }

    /// Connects to the first address of `host` that answers within `timeout`.
    pub async fn connect(&self, host: &str, port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
        let addrs = tokio::time::timeout(timeout, self.lookup(host, port))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, format!("resolving {host} timed out")))??;
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, format!("{host}: no address"));
        for addr in addrs {
            match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Ok(Err(e)) => last = e,
                Err(_) => last = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
            }
        }
        Err(last)
    }
}

/// For the pooled client's connector.
impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let me = self.clone();
        // The connector sets the port itself.
        Box::pin(async move { Ok(me.lookup(name.as_str(), 0).await?.into_iter()) })
    }
}
