//! `@ipMatch`: addresses and CIDR networks, IPv4 and IPv6.

use std::net::IpAddr;

use ipnet::IpNet;

#[derive(Debug)]
pub struct IpSet {
    nets: Vec<IpNet>,
}

impl IpSet {
    pub fn parse<'a>(items: impl Iterator<Item = &'a str>) -> Result<IpSet, String> {
        let mut nets = Vec::new();
        for it in items.filter(|s| !s.is_empty()) {
            let net = if it.contains('/') {
                it.parse::<IpNet>().map_err(|_| format!("invalid network '{it}'"))?
            } else {
                IpNet::from(it.parse::<IpAddr>().map_err(|_| format!("invalid address '{it}'"))?)
            };
            nets.push(net);
        }
        Ok(IpSet { nets })
    }

    pub fn contains(&self, input: &[u8]) -> bool {
        let Ok(s) = std::str::from_utf8(input) else { return false };
        let Ok(ip) = s.trim().parse::<IpAddr>() else { return false };
        self.nets.iter().any(|n| n.contains(&ip))
    }
}
