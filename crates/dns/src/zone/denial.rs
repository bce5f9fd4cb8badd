//! The DNSSEC records of a signed zone's answer (RFC 4035 §3.1): the signatures of each record
//! set, and the NSEC (RFC 4035 §3.1.3) or NSEC3 (RFC 5155 §7.2) records that prove what is not
//! there: a missing type, a missing name (and that no wildcard could have answered), and, for
//! an answer a wildcard synthesized, that the name itself does not exist.

use hickory_proto::dnssec::rdata::{DNSSECRData, NSEC3};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::lookup::AuthAnswer;
use super::{Zone, fqdn_lower};

/// Adds the signatures and denial records to `a`, the zone's answer to `qname`, when the zone
/// is signed (its apex has signatures or keys).
pub fn add_dnssec(zone: &Zone, qname: &Name, qtype: RecordType, a: &mut AuthAnswer) {
    let apex = zone.origin();
    if zone.rrset(apex, RecordType::DNSKEY).is_none() && zone.rrset(apex, RecordType::RRSIG).is_none() {
        return;
    }
    let end = if qtype == RecordType::CNAME { fqdn_lower(qname) } else { chain_end(fqdn_lower(qname), &a.answers) };
    let in_zone = zone.origin().zone_of(&end);
    let closest = in_zone.then(|| closest_encloser(zone, &end)).flatten();
    // Records a wildcard synthesized: their signatures are the wildcard's, renamed.
    let wildcard = closest.as_ref().and_then(|ce| ce.prepend_label("*").ok()).filter(|w| zone.node(w).is_some());
    let mut answers_more = Vec::new();
    for (owner, rtype) in rrsets(&a.answers) {
        let from = if owner == end && closest.is_some() { wildcard.clone() } else { None };
        let mut sigs = signatures(zone, from.as_ref().unwrap_or(&owner), rtype);
        let ttl = set_ttl(&a.answers, &owner, rtype);
        for s in &mut sigs {
            s.name = owner.clone();
            s.ttl = ttl;
        }
        answers_more.extend(sigs);
    }
    a.answers.extend(answers_more);
    let mut authority_more = Vec::new();
    for (owner, rtype) in rrsets(&a.authority) {
        let ttl = set_ttl(&a.authority, &owner, rtype);
        authority_more.extend(signatures(zone, &owner, rtype).into_iter().map(|mut s| {
            // RFC 4034 §3: an RRSIG's TTL is that of the set it covers (a negative answer's
            // SOA was cut to its MINIMUM).
            s.ttl = ttl;
            s
        }));
    }
    a.authority.extend(authority_more);
    if !in_zone || !a.authoritative {
        return;
    }
    let positive = a.answers.iter().any(|r| fqdn_lower(&r.name) == end);
    let negative = a.rcode == ResponseCode::NXDomain || !positive;
    if !negative && closest.is_none() {
        return;
    }
    let proof = match nsec3_params(zone) {
        Some(params) => nsec3_proof(zone, &params, &end, closest.as_ref(), wildcard.as_ref(), negative),
        None => nsec_proof(zone, &end, closest.as_ref(), wildcard.as_ref(), negative),
    };
    for r in proof {
        if a.authority.contains(&r) {
            continue;
        }
        let owner = fqdn_lower(&r.name);
        let rtype = r.record_type();
        a.authority.push(r);
        a.authority.extend(signatures(zone, &owner, rtype));
    }
}

/// The denial records with NSEC: the name's own NSEC for a missing type; else the NSEC
/// covering the name, and the wildcard's own NSEC (a missing type at it) or the one covering
/// it (no wildcard). `closest` is `None` when the name exists.
fn nsec_proof(
    zone: &Zone,
    name: &Name,
    closest: Option<&Name>,
    wildcard: Option<&Name>,
    negative: bool,
) -> Vec<Record> {
    let Some(ce) = closest else {
        // The name exists: its NSEC (an empty non-terminal's is the one covering it).
        return zone.rrset(name, RecordType::NSEC).map(<[_]>::to_vec).unwrap_or_else(|| nsec_covering(zone, name));
    };
    let mut out = nsec_covering(zone, name);
    if !negative {
        return out;
    }
    match wildcard {
        Some(w) => out.extend(zone.rrset(w, RecordType::NSEC).unwrap_or_default().iter().cloned()),
        None => {
            if let Ok(w) = ce.prepend_label("*") {
                out.extend(nsec_covering(zone, &w));
            }
        }
    }
    out
}

fn nsec_covering(zone: &Zone, name: &Name) -> Vec<Record> {
    zone.all_records()
        .find(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC(n)) => {
                let owner = fqdn_lower(&r.name);
                let next = fqdn_lower(n.next_domain_name());
                // The last NSEC of a zone points back at the apex.
                owner < *name && (*name < next || next <= owner)
            }
            _ => false,
        })
        .map(|r| vec![r.clone()])
        .unwrap_or_default()
}

/// The denial records with NSEC3 (RFC 5155 §7.2): the NSEC3 matching the name for a missing
/// type (§7.2.3, §7.2.4); else the closest encloser proof (§7.1: the NSEC3 matching the
/// closest encloser and the one covering the next closer name), with the wildcard's matching
/// NSEC3 for a missing type at it (§7.2.5) or the one covering it (§7.2.2); for a wildcard
/// answer only the NSEC3 covering the next closer name (§7.2.6).
fn nsec3_proof(
    zone: &Zone,
    params: &NSEC3,
    name: &Name,
    closest: Option<&Name>,
    wildcard: Option<&Name>,
    negative: bool,
) -> Vec<Record> {
    let chain = nsec3s(zone.all_records());
    let matching = |n: &Name| -> Option<Record> {
        let hash = hash_of(params, n)?;
        chain.iter().find(|(r, _)| owner_hash(r).as_deref() == Some(&hash[..])).map(|(r, _)| (*r).clone())
    };
    let covering = |n: &Name| -> Option<Record> {
        let hash = hash_of(params, n)?;
        chain.iter().find(|(r, x)| covers_hash(r, x, &hash)).map(|(r, _)| (*r).clone())
    };
    let Some(ce) = closest else { return matching(name).into_iter().collect() };
    let next_closer = name.trim_to(usize::from(ce.num_labels()) + 1);
    if !negative {
        return covering(&next_closer).into_iter().collect();
    }
    let mut out: Vec<Record> = Vec::new();
    let wildcard_proof = match wildcard {
        Some(w) => matching(w),
        None => ce.prepend_label("*").ok().and_then(|w| covering(&w)),
    };
    for r in [matching(ce), covering(&next_closer), wildcard_proof].into_iter().flatten() {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// The longest existing ancestor of `name` in the zone, or `None` when `name` itself exists.
fn closest_encloser(zone: &Zone, name: &Name) -> Option<Name> {
    if zone.name_exists(name) {
        return None;
    }
    let mut encloser = name.base_name();
    while !zone.name_exists(&encloser) && encloser.num_labels() > zone.origin().num_labels() {
        encloser = encloser.base_name();
    }
    Some(encloser)
}

/// Where the CNAME chain of `answers` starting at `name` ends (the resolver's validator proves
/// the same end).
pub(crate) fn chain_end(mut name: Name, answers: &[Record]) -> Name {
    for _ in 0..answers.len() {
        let next = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(t) if fqdn_lower(&r.name) == name => Some(fqdn_lower(&t.0)),
            _ => None,
        });
        match next {
            Some(n) if n != name => name = n,
            _ => break,
        }
    }
    name
}

/// The distinct (owner, type) sets of a section, signatures left out (the validator walks
/// answers by set as well).
pub(crate) fn rrsets(records: &[Record]) -> Vec<(Name, RecordType)> {
    let mut out: Vec<(Name, RecordType)> = Vec::new();
    for r in records {
        let key = (fqdn_lower(&r.name), r.record_type());
        if key.1 != RecordType::RRSIG && !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

/// The TTL of `owner`'s `rtype` set among `records`.
fn set_ttl(records: &[Record], owner: &Name, rtype: RecordType) -> u32 {
    records
        .iter()
        .filter(|r| fqdn_lower(&r.name) == *owner && r.record_type() == rtype)
        .map(|r| r.ttl)
        .min()
        .unwrap_or(0)
}

/// The zone's RRSIGs over `owner`'s `rtype` set.
fn signatures(zone: &Zone, owner: &Name, rtype: RecordType) -> Vec<Record> {
    zone.rrset(owner, RecordType::RRSIG)
        .unwrap_or_default()
        .iter()
        .filter(|r| matches!(&r.data, RData::DNSSEC(DNSSECRData::RRSIG(s)) if s.input().type_covered == rtype))
        .cloned()
        .collect()
}

/// The hash parameters of the zone's NSEC3 chain (those of its first NSEC3 record).
fn nsec3_params(zone: &Zone) -> Option<NSEC3> {
    zone.all_records().find_map(|r| match &r.data {
        RData::DNSSEC(DNSSECRData::NSEC3(n)) => Some(n.clone()),
        _ => None,
    })
}

/// The NSEC3 records among `records`.
pub(crate) fn nsec3s<'r>(records: impl IntoIterator<Item = &'r Record>) -> Vec<(&'r Record, &'r NSEC3)> {
    records
        .into_iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC3(n)) => Some((r, n)),
            _ => None,
        })
        .collect()
}

/// `name`'s hash with an NSEC3 record's parameters.
pub(crate) fn hash_of(params: &NSEC3, name: &Name) -> Option<Vec<u8>> {
    params.hash_algorithm().hash(params.salt(), name, params.iterations()).ok().map(|d| d.as_ref().to_vec())
}

/// The hash an NSEC3 owner name's first label spells (base32hex).
pub(crate) fn owner_hash(r: &Record) -> Option<Vec<u8>> {
    let label = r.name.iter().next()?;
    super::dnssec_text::base32hex(std::str::from_utf8(label).ok()?).ok()
}

/// True when the NSEC3 `r` (`n`) spans `hash`: strictly between its owner and next hashes.
pub(crate) fn covers_hash(r: &Record, n: &NSEC3, hash: &[u8]) -> bool {
    let Some(owner) = owner_hash(r) else { return false };
    let next = n.next_hashed_owner_name();
    if owner.as_slice() < next {
        owner.as_slice() < hash && hash < next
    } else {
        // The last NSEC3 of the chain wraps around.
        hash > owner.as_slice() || hash < next
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    const ZONE: &str = "example. 3600 IN SOA ns.example. h.example. 1 2 3 4 5
example. 3600 IN NS ns.example.
example. 3600 IN DNSKEY 256 3 8 AwEAAaM=
example. 3600 IN NSEC a.example. NS SOA DNSKEY RRSIG NSEC
a.example. 3600 IN A 192.0.2.1
a.example. 3600 IN NSEC *.w.example. A RRSIG NSEC
*.w.example. 3600 IN TXT \"w\"
*.w.example. 3600 IN RRSIG TXT 8 2 3600 20300101000000 20200101000000 1 example. AAAA
*.w.example. 3600 IN NSEC example. TXT RRSIG NSEC
";

    fn zone() -> Zone {
        Zone::parse(ZONE, &Name::from_str("example.").unwrap(), None).expect("the test zone")
    }

    fn owners(records: &[Record], rtype: RecordType) -> Vec<String> {
        records.iter().filter(|r| r.record_type() == rtype).map(|r| r.name.to_string()).collect()
    }

    #[test]
    fn a_missing_name_is_denied_with_its_covering_nsec_and_the_wildcards() {
        let zone = zone();
        let name = Name::from_str("b.example.").unwrap();
        let mut a = super::super::lookup::answer(&zone, &name, RecordType::A);
        add_dnssec(&zone, &name, RecordType::A, &mut a);
        assert_eq!(a.rcode, ResponseCode::NXDomain);
        assert_eq!(owners(&a.authority, RecordType::NSEC), ["a.example.", "example."]);
    }

    #[test]
    fn a_wildcard_answer_has_the_wildcards_signature_renamed_and_the_nsec_denying_the_name() {
        let zone = zone();
        let name = Name::from_str("x.w.example.").unwrap();
        let mut a = super::super::lookup::answer(&zone, &name, RecordType::TXT);
        add_dnssec(&zone, &name, RecordType::TXT, &mut a);
        assert_eq!(owners(&a.answers, RecordType::RRSIG), ["x.w.example."]);
        assert_eq!(owners(&a.authority, RecordType::NSEC), ["*.w.example."]);
    }

    #[test]
    fn a_missing_type_is_denied_by_the_names_own_nsec() {
        let zone = zone();
        let name = Name::from_str("a.example.").unwrap();
        let mut a = super::super::lookup::answer(&zone, &name, RecordType::TXT);
        add_dnssec(&zone, &name, RecordType::TXT, &mut a);
        assert_eq!(owners(&a.authority, RecordType::NSEC), ["a.example."]);
    }
}
