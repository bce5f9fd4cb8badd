//! The DNS lookups SPF needs (RFC 7208 §4.4, §5), as a small trait, and its implementation over
//! hickory-resolver. Names are checked here first (RFC 1035 §2.3.4: labels of 1 to 63 octets,
//! at most 253 octets in all): a name that cannot be a DNS name does not exist.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_resolver::TokioResolver;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::{Name, RData, RecordType};

/// A failed lookup: a timeout, SERVFAIL or other error (§2.6.6 temperror). A name that does
/// not exist (NXDOMAIN) or has no records of the type is `Ok` of nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsFailure(pub String);

pub type Lookup<T> = Result<Vec<T>, DnsFailure>;

/// The lookups of check_host().
pub trait SpfDns: Sync {
    /// Each TXT record as its strings concatenated (§3.3).
    fn txt(&self, name: &str) -> impl Future<Output = Lookup<Vec<u8>>> + Send;
    fn a(&self, name: &str) -> impl Future<Output = Lookup<Ipv4Addr>> + Send;
    fn aaaa(&self, name: &str) -> impl Future<Output = Lookup<Ipv6Addr>> + Send;
    /// Exchange names, lower-case, without the trailing dot.
    fn mx(&self, name: &str) -> impl Future<Output = Lookup<String>> + Send;
    /// PTR targets of `ip`'s reverse name, without the trailing dot.
    fn ptr(&self, ip: IpAddr) -> impl Future<Output = Lookup<String>> + Send;
}

/// Whether `name` can be asked of DNS: labels of 1 to 63 octets, 253 octets in all.
pub fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty() && name.len() <= 253 && name.split('.').all(|l| !l.is_empty() && l.len() <= 63)
}

/// The name as hickory wants it: raw labels, fully qualified (no search list).
fn query_name(name: &str) -> Option<Name> {
    if !is_dns_name(name) {
        return None;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut n = Name::from_labels(name.split('.').map(str::as_bytes)).ok()?;
    n.set_fqdn(true);
    Some(n)
}

fn name_text(name: &Name) -> String {
    let labels: Vec<String> = name.iter().map(|l| String::from_utf8_lossy(l).to_ascii_lowercase()).collect();
    labels.join(".")
}

fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let mut s = String::new();
            for b in a.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s + "ip6.arpa"
        }
    }
}

/// SPF lookups through a hickory resolver.
pub struct HickoryDns<'a>(pub &'a TokioResolver);

impl HickoryDns<'_> {
    async fn records(&self, name: &str, rtype: RecordType) -> Lookup<RData> {
        let Some(qname) = query_name(name) else { return Ok(Vec::new()) };
        match self.0.lookup(qname, rtype).await {
            Ok(lookup) => {
                Ok(lookup.answers().iter().map(|r| r.data.clone()).filter(|d| d.record_type() == rtype).collect())
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(_))) => Ok(Vec::new()),
            Err(e) => Err(DnsFailure(e.to_string())),
        }
    }
}

impl SpfDns for HickoryDns<'_> {
    async fn txt(&self, name: &str) -> Lookup<Vec<u8>> {
        let records = self.records(name, RecordType::TXT).await?;
        Ok(records
            .into_iter()
            .filter_map(|d| match d {
                RData::TXT(t) => Some(t.txt_data.iter().flat_map(|s| s.iter().copied()).collect()),
                _ => None,
            })
            .collect())
    }

    async fn a(&self, name: &str) -> Lookup<Ipv4Addr> {
        let records = self.records(name, RecordType::A).await?;
        Ok(records.into_iter().filter_map(|d| if let RData::A(a) = d { Some(a.0) } else { None }).collect())
    }

    async fn aaaa(&self, name: &str) -> Lookup<Ipv6Addr> {
        let records = self.records(name, RecordType::AAAA).await?;
        Ok(records.into_iter().filter_map(|d| if let RData::AAAA(a) = d { Some(a.0) } else { None }).collect())
    }

    async fn mx(&self, name: &str) -> Lookup<String> {
        let records = self.records(name, RecordType::MX).await?;
        Ok(records
            .into_iter()
            .filter_map(|d| if let RData::MX(m) = d { Some(name_text(&m.exchange)) } else { None })
            .collect())
    }

    async fn ptr(&self, ip: IpAddr) -> Lookup<String> {
        let records = self.records(&reverse_name(ip), RecordType::PTR).await?;
        Ok(records
            .into_iter()
            .filter_map(|d| if let RData::PTR(p) = d { Some(name_text(&p.0)) } else { None })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_dns_name("example.com") && is_dns_name("example.com."));
        assert!(!is_dns_name("a..example.com") && !is_dns_name("") && !is_dns_name(&"a".repeat(64)));
        assert_eq!(reverse_name("192.0.2.3".parse().unwrap()), "3.2.0.192.in-addr.arpa");
        assert!(reverse_name("2001:db8::1".parse().unwrap()).starts_with("1.0.0.0."));
    }
}
