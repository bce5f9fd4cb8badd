//! What the service is set up with, and the shapes of its input and output.

use crate::detect::DetectSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// What to send back.
#[derive(Debug)]
pub enum Reply {
    One(Vec<u8>),
    /// A zone transfer: several messages on one TCP connection.
    Many(Vec<Vec<u8>>),
    /// Nothing (RPZ DROP, or a packet that is not a query).
    Nothing,
}

#[derive(Debug, Clone)]
pub struct DnsSettings {
    /// The largest UDP answer sent whatever the client offers (RFC 9715 / DNS flag day 2020:
    /// 1232 avoids fragmentation).
    pub max_udp_payload: u16,
    /// TCP connections open at once, over all clients.
    pub max_tcp_connections: usize,
    pub detect: DetectSettings,
    /// AAAA synthesis for IPv6-only clients (RFC 6147).
    pub dns64: Option<crate::dns64::Dns64>,
    /// Response rate limiting over UDP.
    pub rate_limit: Option<crate::server::rate_limit::RateLimitSettings>,
    /// Tenant networks are never rate limited.
    pub rate_limit_exempt_tenants: bool,
    /// Recursive answers leave out what the client did not ask for, as Unbound's default
    /// `minimal-responses: yes`: a positive answer goes without its authority and additional
    /// sections, a negative one without its additional section. Off, they carry the name
    /// servers and glue the authoritative server sent.
    pub minimal_responses: bool,
    /// Recursive resolutions running at once; more questions wait for none (see
    /// [`super::slots`]).
    pub max_recursive_queries: usize,
    /// How long a resolution in the half that can be replaced keeps its slot against newer
    /// questions (milliseconds).
    pub jostle_millis: u64,
}

impl Default for DnsSettings {
    fn default() -> Self {
        DnsSettings {
            max_udp_payload: 1232,
            max_tcp_connections: 1024,
            detect: DetectSettings::default(),
            dns64: None,
            rate_limit: None,
            rate_limit_exempt_tenants: true,
            minimal_responses: true,
            max_recursive_queries: 4096,
            jostle_millis: 200,
        }
    }
}
