//! The UDP and TCP listeners in front of [`DnsService`](crate::service::DnsService).

#[cfg(target_os = "linux")]
mod mmsg;
pub mod rate_limit;
mod tcp;
mod udp;

use std::net::IpAddr;

pub use tcp::serve_tcp;
pub use udp::serve_udp;

/// An IPv4 client seen through a dual-stack socket (`::ffff:a.b.c.d`) as the IPv4 address
/// tenant networks are written in.
pub fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
