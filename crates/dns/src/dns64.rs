//! DNS64 (RFC 6147): for an IPv6-only network behind a NAT64, a AAAA question whose name has
//! no AAAA records (or only excluded ones) is answered with addresses synthesized from its A
//! records under the translator's prefix (RFC 6052 §2.2). NXDOMAIN is never synthesized over;
//! A records a response-IP policy blocks are not synthesized from (as if their IPv4 address
//! were excluded, RFC 6147 §5.1.4), so a policy cannot be walked around through the prefix.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::rdata::{AAAA, CNAME};
use hickory_proto::rr::{Name, RData, Record};
use ipnet::IpNet;

#[derive(Debug, Clone)]
pub struct Dns64 {
    prefix: Ipv6Addr,
    prefix_len: u8,
    exclude: Vec<IpNet>,
    clients: Vec<IpNet>,
}

impl Dns64 {
    /// `prefix` must be IPv6 with a length RFC 6052 allows (the configuration check says so);
    /// another one falls back to the well-known `64:ff9b::/96`.
    pub fn new(prefix: IpNet, exclude: Vec<IpNet>, clients: Vec<IpNet>) -> Dns64 {
        let (prefix, prefix_len) = match prefix {
            IpNet::V6(p) if [32, 40, 48, 56, 64, 96].contains(&p.prefix_len()) => (p.trunc().addr(), p.prefix_len()),
            _ => (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96),
        };
        Dns64 { prefix, prefix_len, exclude, clients }
    }

    /// True when `client` gets synthesized answers.
    pub fn serves(&self, client: IpAddr) -> bool {
        let client = crate::server::unmap(client);
        self.clients.is_empty() || self.clients.iter().any(|n| n.contains(&client))
    }

    /// True when some clients do not get synthesized answers (answers then depend on who asks).
    pub fn is_selective(&self) -> bool {
        !self.clients.is_empty()
    }

    /// A AAAA record that counts as absent.
    pub fn excluded(&self, ip: Ipv6Addr) -> bool {
        self.exclude.iter().any(|n| n.contains(&IpAddr::V6(ip)))
    }

    /// The IPv4-embedded IPv6 address (RFC 6052 §2.2: bits 64 to 71 stay zero).
    pub fn synthesize(&self, v4: Ipv4Addr) -> Ipv6Addr {
        let mut bytes = self.prefix.octets();
        let mut at = usize::from(self.prefix_len / 8);
        for b in v4.octets() {
            if at == 8 {
                at += 1;
            }
            bytes[at] = b;
            at += 1;
        }
        Ipv6Addr::from(bytes)
    }

    /// The IPv4 address embedded in `ip` when it lies under the prefix.
    pub fn extract(&self, ip: Ipv6Addr) -> Option<Ipv4Addr> {
        let net = ipnet::Ipv6Net::new(self.prefix, self.prefix_len).ok()?;
        if !net.contains(&ip) {
            return None;
        }
        let bytes = ip.octets();
        let mut at = usize::from(self.prefix_len / 8);
        let mut v4 = [0u8; 4];
        for o in &mut v4 {
            if at == 8 {
                at += 1;
            }
            *o = bytes[at];
            at += 1;
        }
        Some(Ipv4Addr::from(v4))
    }

    /// AAAA records for the A records among `answers`, each with the TTL of its A record but
    /// no longer than `ttl_cap` (the negative TTL of the AAAA answer, RFC 6147 §5.1.7).
    pub fn synthesize_records(&self, answers: &[Record], ttl_cap: Option<u32>) -> Vec<Record> {
        answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => {
                    let ttl = ttl_cap.map_or(r.ttl, |cap| r.ttl.min(cap));
                    Some(Record::from_rdata(r.name.clone(), ttl, RData::AAAA(AAAA(self.synthesize(a.0)))))
                }
                _ => None,
            })
            .collect()
    }

    /// For a PTR question under the prefix's `ip6.arpa` (RFC 6147 §5.3.1): the CNAME to the
    /// embedded IPv4 address's `in-addr.arpa` name.
    pub fn reverse(&self, qname: &Name) -> Option<Record> {
        let ip = ip6_arpa(qname)?;
        let v4 = self.extract(ip)?;
        let o = v4.octets();
        let target = Name::from_ascii(format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])).ok()?;
        Some(Record::from_rdata(qname.clone(), 600, RData::CNAME(CNAME(target))))
    }
}

/// The address of a full `x.x. ... .ip6.arpa.` name (32 nibbles).
fn ip6_arpa(name: &Name) -> Option<Ipv6Addr> {
    let labels: Vec<String> = name.iter().map(|l| String::from_utf8_lossy(l).to_ascii_lowercase()).collect();
    if labels.len() != 34 || labels[32] != "ip6" || labels[33] != "arpa" {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, l) in labels[..32].iter().enumerate() {
        let nibble = u8::from_str_radix(l, 16).ok().filter(|_| l.len() == 1)?;
        // The first label is the lowest nibble.
        let pos = 31 - i;
        bytes[pos / 2] |= if pos % 2 == 0 { nibble << 4 } else { nibble };
    }
    Some(Ipv6Addr::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(prefix: &str) -> Dns64 {
        Dns64::new(prefix.parse().unwrap(), vec!["::ffff:0:0/96".parse().unwrap()], vec![])
    }

    /// The examples of RFC 6052 §2.4 (192.0.2.33 under each prefix length).
    #[test]
    fn rfc_6052_embedding() {
        let v4: Ipv4Addr = "192.0.2.33".parse().unwrap();
        let cases = [
            ("2001:db8::/32", "2001:db8:c000:221::"),
            ("2001:db8:100::/40", "2001:db8:1c0:2:21::"),
            ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::"),
            ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"),
            ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"),
            ("2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"),
            ("64:ff9b::/96", "64:ff9b::192.0.2.33"),
        ];
        for (prefix, want) in cases {
            let dns64 = d(prefix);
            let got = dns64.synthesize(v4);
            assert_eq!(got, want.parse::<Ipv6Addr>().unwrap(), "{prefix}");
            assert_eq!(dns64.extract(got), Some(v4), "{prefix}");
        }
        assert_eq!(d("64:ff9b::/96").extract("2001:db8::1".parse().unwrap()), None);
    }

    #[test]
    fn excluded_and_served() {
        let dns64 = Dns64::new(
            "64:ff9b::/96".parse().unwrap(),
            vec!["::ffff:0:0/96".parse().unwrap()],
            vec!["2001:db8:64::/48".parse().unwrap()],
        );
        assert!(dns64.excluded("::ffff:192.0.2.1".parse().unwrap()));
        assert!(!dns64.excluded("2001:db8::1".parse().unwrap()));
        assert!(dns64.serves("2001:db8:64::5".parse().unwrap()));
        assert!(!dns64.serves("2001:db8:65::5".parse().unwrap()));
        assert!(dns64.is_selective());
    }

    #[test]
    fn reverse_names_under_the_prefix_point_to_in_addr_arpa() {
        let dns64 = d("64:ff9b::/96");
        let name = format!("1.2.2.0.0.0.0.c.{}b.9.f.f.4.6.0.0.ip6.arpa.", "0.".repeat(16));
        let name = Name::from_ascii(name).unwrap();
        let cname = dns64.reverse(&name).unwrap();
        assert_eq!(cname.data.to_string(), "33.2.0.192.in-addr.arpa.");
        let outside =
            Name::from_ascii("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.").unwrap();
        assert!(dns64.reverse(&outside).is_none());
        assert!(dns64.reverse(&Name::from_ascii("www.example.").unwrap()).is_none());
    }
}
