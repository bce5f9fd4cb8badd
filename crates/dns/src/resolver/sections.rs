//! The authority and additional sections of a final answer, kept from the authoritative
//! server's response after the checks Unbound's scrubber makes (`iter_scrub.c`): only records
//! at or below the zone that server was asked as (anything else may be poison), one NS set and
//! only one that is an ancestor of the name asked, no NS set beside a negative answer, and
//! address records in the additional section only for names the kept NS, MX and SRV records
//! point at. Whether a client sees them is the service's choice (`minimal_responses`).

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::zone::fqdn_lower;

/// The sections kept from `response`, the answer from a server for `zone` to a query for
/// `name`; `positive` says whether it came with answer records (before any were taken out as
/// private addresses). `promiscuous_ns` false drops the NS set of a positive answer (Unbound's
/// `iter-scrub-promiscuous: yes`), and with it its glue.
pub fn scrub(
    response: &Message,
    zone: &Name,
    name: &Name,
    positive: bool,
    promiscuous_ns: bool,
) -> (Vec<Record>, Vec<Record>) {
    let rcode = response.metadata.response_code;
    let has_soa = response.authorities.iter().any(|r| r.record_type() == RecordType::SOA);
    let negative = rcode == ResponseCode::NXDomain || (rcode == ResponseCode::NoError && has_soa && !positive);
    let mut ns_owner: Option<Name> = None;
    let mut authority = Vec::new();
    for r in &response.authorities {
        let owner = fqdn_lower(&r.name);
        if !zone.zone_of(&owner) {
            continue;
        }
        match r.record_type() {
            RecordType::SOA => {
                let mut soa = r.clone();
                // RFC 2308 §3: a negative answer lives no longer than the SOA's MINIMUM.
                if let RData::SOA(data) = &r.data
                    && negative
                {
                    soa.ttl = soa.ttl.min(data.minimum);
                }
                authority.push(soa);
            }
            RecordType::NS => {
                if negative || !owner.zone_of(name) || (positive && !promiscuous_ns) {
                    continue;
                }
                match &ns_owner {
                    Some(o) if *o != owner => continue,
                    _ => ns_owner = Some(owner),
                }
                authority.push(r.clone());
            }
            // Denial proofs (RFC 4035 §3.1.3) go with a negative answer, and with a positive
            // one a wildcard expanded (that the name itself does not exist).
            RecordType::NSEC | RecordType::NSEC3 => authority.push(r.clone()),
            _ => {}
        }
    }
    // The signatures of what was kept, after it (RFC 4035 §3.1.1).
    let kept: Vec<(Name, RecordType)> = authority.iter().map(|r| (fqdn_lower(&r.name), r.record_type())).collect();
    let mut seen = Vec::new();
    for (owner, rtype) in kept {
        if !seen.contains(&(owner.clone(), rtype)) {
            authority.extend(signatures_in(response, &owner, rtype));
            seen.push((owner, rtype));
        }
    }
    let wanted: Vec<Name> = response
        .answers
        .iter()
        .chain(authority.iter())
        .filter_map(|r| match &r.data {
            RData::NS(n) => Some(fqdn_lower(&n.0)),
            RData::MX(mx) => Some(fqdn_lower(&mx.exchange)),
            RData::SRV(srv) => Some(fqdn_lower(&srv.target)),
            _ => None,
        })
        .collect();
    let mut additional: Vec<Record> = response
        .additionals
        .iter()
        .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
        .filter(|r| {
            let owner = fqdn_lower(&r.name);
            // A set the answer section holds already is not repeated (RFC 2181 §5.5: one
            // record set, one place).
            let answered =
                response.answers.iter().any(|a| fqdn_lower(&a.name) == owner && a.record_type() == r.record_type());
            zone.zone_of(&owner) && wanted.contains(&owner) && !answered
        })
        .cloned()
        .collect();
    let mut seen = Vec::new();
    for (owner, rtype) in additional.iter().map(|r| (fqdn_lower(&r.name), r.record_type())).collect::<Vec<_>>() {
        if !seen.contains(&(owner.clone(), rtype)) {
            additional.extend(signatures_in(response, &owner, rtype));
            seen.push((owner, rtype));
        }
    }
    (authority, additional)
}

/// At most this many signatures per record set are kept (Unbound's scrubber: more are an
/// attempt to make validation costly).
const MAX_SIGNATURES: usize = 8;

/// The RRSIG records of `records` over the set of `owner` and `rtype`.
pub fn signatures(records: &[Record], owner: &Name, rtype: RecordType) -> Vec<Record> {
    records
        .iter()
        .filter(|r| match &r.data {
            RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(sig)) => {
                sig.input().type_covered == rtype && fqdn_lower(&r.name) == *owner
            }
            _ => false,
        })
        .take(MAX_SIGNATURES)
        .cloned()
        .collect()
}

/// The signatures over a set of `response`, whichever section the server put them in (they
/// go with the set they cover, as Unbound moves them).
pub fn signatures_in(response: &Message, owner: &Name, rtype: RecordType) -> Vec<Record> {
    let all: Vec<Record> =
        response.answers.iter().chain(&response.authorities).chain(&response.additionals).cloned().collect();
    signatures(&all, owner, rtype)
}

/// Unbound's minimal responses (`msgencode.c`): a positive answer (NOERROR with records of
/// the type asked) goes without its authority and additional sections; a negative one
/// (NXDOMAIN, or NOERROR without answers that is not a referral) without its additional
/// section. The NSEC/NSEC3 records beside a positive answer stay: they prove that a wildcard
/// answered (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6), which a validating client needs.
pub fn minimise(
    rcode: ResponseCode,
    qtype: RecordType,
    answers: &[Record],
    authority: &mut Vec<Record>,
    additional: &mut Vec<Record>,
) {
    let positive = rcode == ResponseCode::NoError && answers.iter().any(|r| r.record_type() == qtype);
    let has = |t: RecordType| authority.iter().any(|r| r.record_type() == t);
    let negative = rcode == ResponseCode::NXDomain
        || (rcode == ResponseCode::NoError && answers.is_empty() && (has(RecordType::SOA) || !has(RecordType::NS)));
    if positive {
        authority.retain(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) => {
                matches!(sig.input().type_covered, RecordType::NSEC | RecordType::NSEC3)
            }
            _ => matches!(r.record_type(), RecordType::NSEC | RecordType::NSEC3),
        });
        additional.clear();
    } else if negative {
        additional.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::op::{MessageType, OpCode};
    use hickory_proto::rr::rdata::{A, NS, SOA};

    use super::*;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    fn a(owner: &str, ip: [u8; 4]) -> Record {
        Record::from_rdata(name(owner), 300, RData::A(A::new(ip[0], ip[1], ip[2], ip[3])))
    }

    fn ns(owner: &str, target: &str) -> Record {
        Record::from_rdata(name(owner), 300, RData::NS(NS(name(target))))
    }

    fn response(answers: Vec<Record>, authority: Vec<Record>, additional: Vec<Record>) -> Message {
        let mut m = Message::new(1, MessageType::Response, OpCode::Query);
        m.answers = answers;
        m.authorities = authority;
        m.additionals = additional;
        m
    }

    #[test]
    fn out_of_zone_and_unrelated_records_are_dropped() {
        let m = response(
            vec![a("www.example.com.", [10, 0, 0, 1])],
            vec![
                ns("example.com.", "ns.example.com."),
                ns("example.net.", "ns.example.net."),
                ns("other.example.com.", "x."),
            ],
            vec![
                a("ns.example.com.", [1, 2, 3, 4]),
                a("ns.example.net.", [5, 6, 7, 8]),
                a("mail.example.com.", [9, 9, 9, 9]),
            ],
        );
        let (auth, add) = scrub(&m, &name("example.com."), &name("www.example.com."), true, true);
        assert_eq!(auth, vec![ns("example.com.", "ns.example.com.")]);
        assert_eq!(add, vec![a("ns.example.com.", [1, 2, 3, 4])]);
        // `iter-scrub-promiscuous: yes`: the NS set of a positive answer goes, and its glue.
        let (auth, add) = scrub(&m, &name("example.com."), &name("www.example.com."), true, false);
        assert!(auth.is_empty() && add.is_empty());
    }

    #[test]
    fn a_negative_answer_keeps_its_soa_and_no_ns() {
        let soa = SOA::new(name("ns.example.com."), name("h.example.com."), 1, 2, 3, 4, 5);
        let soa = Record::from_rdata(name("example.com."), 300, RData::SOA(soa));
        let mut m = response(vec![], vec![soa.clone(), ns("example.com.", "ns.example.com.")], vec![]);
        m.metadata.response_code = ResponseCode::NXDomain;
        let (auth, _) = scrub(&m, &name("example.com."), &name("x.example.com."), false, true);
        assert_eq!(auth, vec![soa]);
    }

    #[test]
    fn minimal_responses_cut_what_was_not_asked() {
        let answers = vec![a("www.example.com.", [10, 0, 0, 1])];
        let (mut auth, mut add) =
            (vec![ns("example.com.", "ns.example.com.")], vec![a("ns.example.com.", [1, 2, 3, 4])]);
        minimise(ResponseCode::NoError, RecordType::A, &answers, &mut auth, &mut add);
        assert!(auth.is_empty() && add.is_empty());
        let (mut auth, mut add) =
            (vec![ns("example.com.", "ns.example.com.")], vec![a("ns.example.com.", [1, 2, 3, 4])]);
        minimise(ResponseCode::NXDomain, RecordType::A, &[], &mut auth, &mut add);
        assert_eq!(auth.len(), 1);
        assert!(add.is_empty());
    }

    #[test]
    fn minimal_responses_keep_the_nsec_that_proves_a_wildcard_answer() {
        let answers = vec![a("x.w.example.com.", [10, 0, 0, 1])];
        let nsec = crate::zone::master::parse_with_default_ttl(
            "*.w.example.com. 300 IN NSEC example.com. A RRSIG NSEC",
            &Name::root(),
            None,
            None,
        )
        .unwrap()
        .remove(0)
        .record;
        let (mut auth, mut add) = (vec![ns("example.com.", "ns.example.com."), nsec.clone()], vec![]);
        minimise(ResponseCode::NoError, RecordType::A, &answers, &mut auth, &mut add);
        assert_eq!(auth, vec![nsec]);
    }
}
