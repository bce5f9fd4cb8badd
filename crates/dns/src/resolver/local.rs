//! Zones the resolver holds a copy of (Unbound's `auth-zone`, RFC 8806 for the root): names
//! under one are answered from the copy instead of its servers (`for_upstream`), and clients
//! may get authoritative answers from it directly (`for_downstream`).

use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode};
use hickory_proto::rr::{Name, RecordType};

use crate::zone::Zone;
use crate::zone::held::HeldZone;
use crate::zone::lookup::{self, AuthAnswer};

#[derive(Debug, Clone)]
pub struct LocalZone {
    pub zone: Arc<HeldZone>,
    /// Iteration reaching this zone takes its answers from the copy.
    pub for_upstream: bool,
    /// Clients' questions under this zone are answered from the copy, with AA.
    pub for_downstream: bool,
    /// While no copy is held, iteration goes to the zone's servers (else it fails).
    pub fallback: bool,
}

/// The deepest zone of `zones` that holds `name` and passes `wanted`.
pub fn deepest<'z>(zones: &'z [LocalZone], name: &Name, wanted: impl Fn(&LocalZone) -> bool) -> Option<&'z LocalZone> {
    zones.iter().filter(|z| wanted(z) && z.zone.name.zone_of(name)).max_by_key(|z| z.zone.name.num_labels())
}

/// The zone's answer as the message its server would have sent.
pub fn response(zone: &Zone, name: &Name, qtype: RecordType) -> Message {
    let mut a = lookup::answer(zone, name, qtype);
    with_dnssec(zone, name, &mut a);
    to_message(a)
}

/// The signatures of a signed zone's answer, and the NSEC records that deny what is not
/// there (RFC 4035 §3.1.1, §3.1.3), for the validator: a held copy answers as its servers
/// would to a query with DO.
fn with_dnssec(zone: &Zone, name: &Name, a: &mut AuthAnswer) {
    use hickory_proto::dnssec::rdata::DNSSECRData;
    use hickory_proto::rr::RData;
    let sigs = |owner: &Name, rtype: RecordType| -> Vec<hickory_proto::rr::Record> {
        zone.rrset(owner, RecordType::RRSIG)
            .unwrap_or_default()
            .iter()
            .filter(|r| matches!(&r.data, RData::DNSSEC(DNSSECRData::RRSIG(s)) if s.input().type_covered == rtype))
            .cloned()
            .collect()
    };
    let signed = zone.rrset(zone.origin(), RecordType::DNSKEY).is_some();
    if !signed {
        return;
    }
    let no_answers = a.answers.is_empty();
    for section in [&mut a.answers, &mut a.authority] {
        let mut sets: Vec<(Name, RecordType)> = Vec::new();
        for r in section.iter() {
            let key = (crate::zone::fqdn_lower(&r.name), r.record_type());
            if !sets.contains(&key) {
                sets.push(key);
            }
        }
        let negative = section.iter().any(|r| r.record_type() == RecordType::SOA) && no_answers;
        let mut more = Vec::new();
        for (owner, rtype) in &sets {
            more.extend(sigs(owner, *rtype));
        }
        if negative {
            let name = crate::zone::fqdn_lower(name);
            // NODATA: the name's own NSEC; NXDOMAIN: the one whose span covers it.
            let nsec = zone.rrset(&name, RecordType::NSEC).map(<[_]>::to_vec).or_else(|| {
                zone.all_records()
                    .find(|r| match &r.data {
                        RData::DNSSEC(DNSSECRData::NSEC(n)) => {
                            let owner = crate::zone::fqdn_lower(&r.name);
                            let next = crate::zone::fqdn_lower(n.next_domain_name());
                            owner < name && (name < next || next <= owner)
                        }
                        _ => false,
                    })
                    .map(|r| vec![r.clone()])
            });
            for r in nsec.unwrap_or_default() {
                more.extend(sigs(&crate::zone::fqdn_lower(&r.name), RecordType::NSEC));
                more.push(r);
            }
        }
        section.extend(more);
    }
}

fn to_message(a: AuthAnswer) -> Message {
    let mut m = Message::new(0, MessageType::Response, OpCode::Query);
    m.metadata.authoritative = a.authoritative;
    m.metadata.response_code = a.rcode;
    m.answers = a.answers;
    m.authorities = a.authority;
    m.additionals = a.additional;
    m
}
