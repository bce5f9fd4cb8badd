//! DNS rebinding protection (Unbound's `private-address` and `private-domain`): addresses of
//! the private networks given are taken out of upstream answers, so that a name on the
//! internet cannot point a tenant's browser at a machine inside the tenant's network. Names
//! under a private domain may have them.

use std::net::IpAddr;

use hickory_proto::op::Message;
use hickory_proto::rr::rdata::svcb::{SVCB, SvcParamValue};
use hickory_proto::rr::{Name, RData, Record};
use ipnet::IpNet;

use crate::zone::fqdn_lower;

/// Removes the A, AAAA, SVCB and HTTPS records that carry a private address from every
/// section of `response`.
pub fn scrub(response: &mut Message, networks: &[IpNet], domains: &[Name]) {
    if networks.is_empty() {
        return;
    }
    let bad = |r: &Record| {
        let owner = fqdn_lower(&r.name);
        if domains.iter().any(|d| d.zone_of(&owner)) {
            return false;
        }
        let private = |ip: IpAddr| networks.iter().any(|n| n.contains(&ip));
        match &r.data {
            RData::A(a) => private(IpAddr::V4(a.0)),
            RData::AAAA(a) => private(IpAddr::V6(a.0)),
            RData::SVCB(s) => hints_private(s, &private),
            RData::HTTPS(h) => hints_private(&h.0, &private),
            _ => false,
        }
    };
    response.answers.retain(|r| !bad(r));
    response.authorities.retain(|r| !bad(r));
    response.additionals.retain(|r| !bad(r));
}

fn hints_private(svcb: &SVCB, private: &impl Fn(IpAddr) -> bool) -> bool {
    svcb.svc_params.iter().any(|(_, v)| match v {
        SvcParamValue::Ipv4Hint(h) => h.0.iter().any(|a| private(IpAddr::V4(a.0))),
        SvcParamValue::Ipv6Hint(h) => h.0.iter().any(|a| private(IpAddr::V6(a.0))),
        _ => false,
    })
}
