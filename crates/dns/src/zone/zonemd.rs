//! ZONEMD (RFC 8976): a zone's message digest, checked before a held copy is put in force, so
//! that a zone file or transfer that was cut short or altered is noticed. Only the SIMPLE
//! scheme (1) with SHA-384 (1) or SHA-512 (2) is known; a zone whose ZONEMD records are all of
//! other schemes or algorithms cannot be checked (RFC 8976 §4: it is then accepted).

use hickory_proto::rr::rdata::NULL;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder, NameEncoding};
use sha2::{Digest, Sha384, Sha512};

/// The ZONEMD record type (RFC 8976 §2); hickory has no type of its own for it.
pub const ZONEMD: RecordType = RecordType::Unknown(63);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A ZONEMD record's digest matches.
    Verified,
    /// The zone has no ZONEMD at its apex.
    Absent,
    /// Only schemes or algorithms this server does not know.
    Unsupported,
    /// The digests do not match, or do not name the SOA serial.
    Failed(String),
}

/// A ZONEMD record from its presentation form (`serial scheme algorithm hex-digest`).
pub fn record(owner: Name, ttl: u32, fields: &[&str]) -> Result<Record, String> {
    let [serial, scheme, algorithm, digest @ ..] = fields else {
        return Err("ZONEMD needs a serial, a scheme, an algorithm and a digest".into());
    };
    let serial: u32 = serial.parse().map_err(|_| format!("ZONEMD serial {serial}"))?;
    let scheme: u8 = scheme.parse().map_err(|_| format!("ZONEMD scheme {scheme}"))?;
    let algorithm: u8 = algorithm.parse().map_err(|_| format!("ZONEMD algorithm {algorithm}"))?;
    let hex: String = digest.concat();
    if !hex.len().is_multiple_of(2) || hex.len() < 24 {
        return Err("ZONEMD digest: hexadecimal, 12 octets at least".into());
    }
    let mut rdata = serial.to_be_bytes().to_vec();
    rdata.extend([scheme, algorithm]);
    for pair in hex.as_bytes().chunks(2) {
        let text = std::str::from_utf8(pair).map_err(|_| "ZONEMD digest: not hexadecimal")?;
        rdata.push(u8::from_str_radix(text, 16).map_err(|_| format!("ZONEMD digest: '{text}' is not hexadecimal"))?);
    }
    Ok(Record::from_rdata(owner, ttl, RData::Unknown { code: ZONEMD, rdata: NULL::with(rdata) }))
}

/// Checks the zone `origin` made of `records` against the ZONEMD records at its apex.
pub fn check(origin: &Name, records: &[Record]) -> Verdict {
    let origin = super::fqdn_lower(origin);
    let apex = |r: &Record| super::fqdn_lower(&r.name) == origin;
    let serial = records.iter().find_map(|r| match &r.data {
        RData::SOA(soa) if apex(r) => Some(soa.serial),
        _ => None,
    });
    let zonemds: Vec<(u32, u8, u8, Vec<u8>)> = records
        .iter()
        .filter(|r| apex(r))
        .filter_map(|r| match &r.data {
            RData::Unknown { code, rdata } if *code == ZONEMD => {
                let b = &rdata.anything[..];
                (b.len() >= 6).then(|| (u32::from_be_bytes([b[0], b[1], b[2], b[3]]), b[4], b[5], b[6..].to_vec()))
            }
            _ => None,
        })
        .collect();
    if zonemds.is_empty() {
        return Verdict::Absent;
    }
    let supported: Vec<_> = zonemds.iter().filter(|(_, scheme, alg, _)| *scheme == 1 && matches!(alg, 1 | 2)).collect();
    if supported.is_empty() {
        return Verdict::Unsupported;
    }
    let input = match canonical(&origin, records) {
        Ok(i) => i,
        Err(e) => return Verdict::Failed(e),
    };
    let mut why = String::from("no ZONEMD digest matches the zone");
    for (zserial, _, alg, digest) in supported {
        if Some(*zserial) != serial {
            why = format!("the ZONEMD serial {zserial} is not the SOA's");
            continue;
        }
        let computed = if *alg == 1 { Sha384::digest(&input).to_vec() } else { Sha512::digest(&input).to_vec() };
        if computed == *digest {
            return Verdict::Verified;
        }
    }
    Verdict::Failed(why)
}

/// The zone's records in canonical form and order (RFC 8976 §3.3.1, RFC 4034 §6), the apex
/// ZONEMD records left out and duplicates once.
fn canonical(origin: &Name, records: &[Record]) -> Result<Vec<u8>, String> {
    let mut encoded: Vec<(Name, u16, Vec<u8>, Vec<u8>)> = Vec::new();
    for r in records {
        let owner = super::fqdn_lower(&r.name);
        // RFC 8976 §3.3.1.1: the apex ZONEMD records and their signatures are left out.
        let zonemd_sig = matches!(&r.data,
            hickory_proto::rr::RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(s))
                if s.input().type_covered == ZONEMD);
        if owner == *origin && (r.record_type() == ZONEMD || zonemd_sig) {
            continue;
        }
        let mut name_bytes = Vec::new();
        {
            let mut e = BinEncoder::new(&mut name_bytes);
            e.set_canonical_form(true);
            e.set_name_encoding(NameEncoding::UncompressedLowercase);
            owner.emit(&mut e).map_err(|e| format!("{owner}: {e}"))?;
        }
        let mut bytes = Vec::new();
        {
            let mut e = BinEncoder::new(&mut bytes);
            e.set_canonical_form(true);
            e.set_name_encoding(NameEncoding::UncompressedLowercase);
            r.emit(&mut e).map_err(|e| format!("{owner} {}: {e}", r.record_type()))?;
        }
        // After the owner: type, class, TTL (8 octets), RDLENGTH (2), RDATA.
        let rdata = bytes.get(name_bytes.len() + 10..).unwrap_or_default().to_vec();
        encoded.push((owner, u16::from(r.record_type()), rdata, bytes));
    }
    encoded.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then_with(|| a.2.cmp(&b.2)));
    encoded.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2);
    Ok(encoded.into_iter().flat_map(|(_, _, _, bytes)| bytes).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8976 Appendix A.1, the simple EXAMPLE zone.
    const EXAMPLE: &str = "example. 86400 IN SOA ns1 admin 2018031900 ( 1800 900 604800 86400 )\n\
        example. 86400 IN NS ns1\n\
        example. 86400 IN NS ns2\n\
        example. 86400 IN ZONEMD 2018031900 1 1 ( c68090d90a7aed71 6bc459f9340e3d7c 1370d4d24b7e2fc3 a1ddc0b9a87153b9 a9713b3c9ae5cc27 777f98b8e730044c )\n\
        ns1 3600 IN A 203.0.113.63\n\
        ns2 3600 IN AAAA 2001:db8::63\n";

    fn records(text: &str) -> Vec<Record> {
        let origin = Name::from_ascii("example.").unwrap();
        super::super::master::parse(text, &origin, None).unwrap().into_iter().map(|p| p.record).collect()
    }

    #[test]
    fn the_rfc_example_verifies_and_a_change_does_not() {
        let origin = Name::from_ascii("example.").unwrap();
        assert_eq!(check(&origin, &records(EXAMPLE)), Verdict::Verified);
        let changed = EXAMPLE.replace("203.0.113.63", "203.0.113.64");
        assert!(matches!(check(&origin, &records(&changed)), Verdict::Failed(_)));
        let other_serial = EXAMPLE.replace("ZONEMD 2018031900", "ZONEMD 2018031901");
        assert!(matches!(check(&origin, &records(&other_serial)), Verdict::Failed(_)));
        let unknown = EXAMPLE.replace("ZONEMD 2018031900 1 1", "ZONEMD 2018031900 1 240");
        assert_eq!(check(&origin, &records(&unknown)), Verdict::Unsupported);
        let absent: String = EXAMPLE.lines().filter(|l| !l.contains("ZONEMD")).map(|l| format!("{l}\n")).collect();
        assert_eq!(check(&origin, &records(&absent)), Verdict::Absent);
    }
}
