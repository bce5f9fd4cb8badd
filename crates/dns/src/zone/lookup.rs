//! The authoritative answer for one question (RFC 1034 §4.3.2, wildcards per RFC 4592):
//! delegations become referrals with glue, CNAMEs are followed inside the zone, missing names
//! get NXDOMAIN and missing types NODATA, both with the SOA in the authority section.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::Zone;

/// CNAME chains inside one zone longer than this are cut (a loop in the zone data).
const MAX_CNAME_CHAIN: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub struct AuthAnswer {
    pub rcode: ResponseCode,
    /// False for a referral: the data below a zone cut is not ours.
    pub authoritative: bool,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

impl AuthAnswer {
    fn new() -> Self {
        AuthAnswer {
            rcode: ResponseCode::NoError,
            authoritative: true,
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }
}

/// What one step of the lookup found at a name.
enum Found {
    Delegation(Name),
    Records(Vec<Record>),
    Cname(Record),
    NoData,
    NxDomain,
}

pub fn answer(zone: &Zone, qname: &Name, qtype: RecordType) -> AuthAnswer {
    let mut out = AuthAnswer::new();
    let mut name = super::fqdn_lower(qname);
    for _ in 0..MAX_CNAME_CHAIN {
        if !zone.origin().zone_of(&name) {
            // The chain left the zone: the resolver follows it from here (RFC 1034 §4.3.2 step 3a).
            break;
        }
        match find(zone, &name, qtype) {
            Found::Delegation(cut) => {
                // Only a referral when nothing was answered yet; after a CNAME the client
                // follows the target itself.
                if out.answers.is_empty() {
                    out.authoritative = false;
                    let ns = zone.rrset(&cut, RecordType::NS).unwrap_or_default().to_vec();
                    out.additional = glue(zone, &ns);
                    out.authority = ns;
                }
                break;
            }
            Found::Records(records) => {
                out.additional = additional_for(zone, &records);
                out.answers.extend(records);
                break;
            }
            Found::Cname(cname) => {
                let target = match &cname.data {
                    RData::CNAME(t) => super::fqdn_lower(&t.0),
                    _ => break,
                };
                out.answers.push(cname);
                name = target;
            }
            Found::NoData => {
                out.authority.push(zone.negative_soa());
                break;
            }
            Found::NxDomain => {
                // After a CNAME the rcode still describes the last name (RFC 6604 §2.1).
                out.rcode = ResponseCode::NXDomain;
                out.authority.push(zone.negative_soa());
                break;
            }
        }
    }
    out
}

fn find(zone: &Zone, name: &Name, qtype: RecordType) -> Found {
    if let Some(cut) = zone_cut(zone, name, qtype) {
        return Found::Delegation(cut);
    }
    if let Some(node) = zone.node(name) {
        return from_node(node, qtype, None);
    }
    if zone.name_exists(name) {
        return Found::NoData; // an empty non-terminal
    }
    // RFC 4592 §3.3.1: the closest encloser is the longest existing ancestor; the wildcard
    // at *.<closest encloser> alone may synthesise the answer.
    let mut encloser = name.base_name();
    while !zone.name_exists(&encloser) && encloser.num_labels() > zone.origin().num_labels() {
        encloser = encloser.base_name();
    }
    let Ok(wildcard) = encloser.prepend_label("*") else { return Found::NxDomain };
    match zone.node(&wildcard) {
        Some(node) => from_node(node, qtype, Some(name)),
        None => Found::NxDomain,
    }
}

/// The records of a node for `qtype`; `owner` renames records synthesised from a wildcard.
fn from_node(node: &super::Node, qtype: RecordType, owner: Option<&Name>) -> Found {
    let rename = |r: &Record| {
        let mut r = r.clone();
        if let Some(o) = owner {
            r.name = o.clone();
        }
        r
    };
    if qtype != RecordType::CNAME
        && let Some(cname) = node.get(&RecordType::CNAME).and_then(|c| c.first())
    {
        return Found::Cname(rename(cname));
    }
    let records: Vec<Record> = match qtype {
        RecordType::ANY => node.values().flatten().map(rename).collect(),
        t => node.get(&t).map(|rs| rs.iter().map(rename).collect()).unwrap_or_default(),
    };
    if records.is_empty() { Found::NoData } else { Found::Records(records) }
}

/// The highest NS set strictly below the apex on the way to `name`. A DS query at the cut
/// itself belongs to the parent (RFC 4035 §3.1.4.1).
fn zone_cut(zone: &Zone, name: &Name, qtype: RecordType) -> Option<Name> {
    let apex_labels = zone.origin().num_labels();
    for labels in apex_labels + 1..=name.num_labels() {
        let candidate = name.trim_to(labels as usize);
        if zone.rrset(&candidate, RecordType::NS).is_some() {
            if labels == name.num_labels() && qtype == RecordType::DS {
                return None;
            }
            return Some(candidate);
        }
    }
    None
}

/// Addresses of in-zone name servers (glue, RFC 1034 §4.2.1).
fn glue(zone: &Zone, ns: &[Record]) -> Vec<Record> {
    let targets = ns.iter().filter_map(|r| match &r.data {
        RData::NS(n) => Some(super::fqdn_lower(&n.0)),
        _ => None,
    });
    addresses(zone, targets)
}

/// A/AAAA of the hosts named by MX, NS and SRV answers (RFC 1035 §3.3.9, §3.3.11; RFC 2782).
fn additional_for(zone: &Zone, records: &[Record]) -> Vec<Record> {
    let targets = records.iter().filter_map(|r| match &r.data {
        RData::MX(mx) => Some(super::fqdn_lower(&mx.exchange)),
        RData::NS(ns) => Some(super::fqdn_lower(&ns.0)),
        RData::SRV(srv) => Some(super::fqdn_lower(&srv.target)),
        _ => None,
    });
    addresses(zone, targets)
}

fn addresses(zone: &Zone, names: impl Iterator<Item = Name>) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    for name in names {
        for t in [RecordType::A, RecordType::AAAA] {
            for r in zone.rrset(&name, t).unwrap_or_default() {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
    }
    out
}
