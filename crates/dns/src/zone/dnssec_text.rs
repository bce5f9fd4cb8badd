//! DNSSEC records (and DNAME) in master format (RFC 4034 §2.2, §3.2, §4.2; RFC 5155 §3.3, §4.3), which
//! hickory's text parser refuses as records "to be generated": signed zone files and the
//! replay scenarios carry them. Each is turned into its wire RDATA and read back by hickory's
//! decoder, so the record is the same as one received.

use std::str::FromStr;

use base64::Engine;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecoder, Restrict};

/// The types read here.
pub fn handles(rtype: RecordType) -> bool {
    matches!(
        rtype,
        RecordType::DNSKEY
            | RecordType::RRSIG
            | RecordType::NSEC
            | RecordType::NSEC3
            | RecordType::NSEC3PARAM
            | RecordType::DNAME
    )
}

/// The record of `owner` with the presentation-format `fields` of its data.
pub fn record(
    owner: Name,
    ttl: u32,
    class: DNSClass,
    rtype: RecordType,
    fields: &[&str],
    origin: &Name,
) -> Result<Record, String> {
    let wire = rdata_wire(rtype, fields, origin)?;
    let len = u16::try_from(wire.len()).map_err(|_| "the record data is longer than 65535 bytes")?;
    let mut decoder = BinDecoder::new(&wire);
    let data = RData::read(&mut decoder, rtype, Restrict::new(len)).map_err(|e| format!("{rtype}: {e}"))?;
    let mut r = Record::from_rdata(owner, ttl, data);
    r.dns_class = class;
    Ok(r)
}

/// A record in RFC 3597's generic form: `\# LENGTH HEX...` (the `\#` already taken).
pub fn generic(owner: Name, ttl: u32, class: DNSClass, rtype: RecordType, fields: &[&str]) -> Result<Record, String> {
    let len: usize = fields.first().ok_or("\\# without a length")?.parse().map_err(|_| "bad \\# length")?;
    let hex: String = fields[1..].concat();
    if hex.len() != 2 * len {
        return Err(format!("\\# says {len} bytes, the data has {}", hex.len() / 2));
    }
    let wire = salt(if hex.is_empty() { "-" } else { &hex })?;
    let length = u16::try_from(wire.len()).map_err(|_| "the record data is longer than 65535 bytes")?;
    let mut decoder = BinDecoder::new(&wire);
    let data = RData::read(&mut decoder, rtype, Restrict::new(length)).map_err(|e| format!("{rtype}: {e}"))?;
    let mut r = Record::from_rdata(owner, ttl, data);
    r.dns_class = class;
    Ok(r)
}

fn rdata_wire(rtype: RecordType, f: &[&str], origin: &Name) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let need = |n: usize| if f.len() < n { Err(format!("{rtype} needs at least {n} fields")) } else { Ok(()) };
    match rtype {
        RecordType::DNSKEY => {
            need(4)?;
            out.extend(num::<u16>(f[0])?.to_be_bytes());
            out.push(num::<u8>(f[1])?);
            out.push(algorithm(f[2])?);
            out.extend(base64(&f[3..])?);
        }
        RecordType::RRSIG => {
            need(9)?;
            let covered = match RecordType::from_str(&f[0].to_ascii_uppercase()) {
                Ok(t) => t,
                // RFC 8976; hickory does not know the mnemonic.
                Err(_) if f[0].eq_ignore_ascii_case("ZONEMD") => RecordType::from(63),
                Err(_) => {
                    type_number(f[0]).map(RecordType::from).map_err(|_| format!("unknown type covered '{}'", f[0]))?
                }
            };
            out.extend(u16::from(covered).to_be_bytes());
            out.push(algorithm(f[1])?);
            out.push(num::<u8>(f[2])?);
            out.extend(num::<u32>(f[3])?.to_be_bytes());
            out.extend(time(f[4])?.to_be_bytes());
            out.extend(time(f[5])?.to_be_bytes());
            out.extend(num::<u16>(f[6])?.to_be_bytes());
            out.extend(name_wire(f[7], origin)?);
            out.extend(base64(&f[8..])?);
        }
        RecordType::NSEC => {
            need(1)?;
            out.extend(name_wire(f[0], origin)?);
            out.extend(type_bitmap(&f[1..])?);
        }
        RecordType::NSEC3 => {
            need(5)?;
            nsec3_parameters(&f[..4], &mut out)?;
            let next = base32hex(f[4])?;
            out.push(u8::try_from(next.len()).map_err(|_| "next hashed owner too long")?);
            out.extend(next);
            out.extend(type_bitmap(&f[5..])?);
        }
        RecordType::NSEC3PARAM => {
            need(4)?;
            nsec3_parameters(&f[..4], &mut out)?;
        }
        // Not DNSSEC, but refused by hickory's text parser too (RFC 6672 §2.5).
        RecordType::DNAME => {
            need(1)?;
            out.extend(name_wire(f[0], origin)?);
        }
        _ => return Err(format!("{rtype} is not a DNSSEC type read here")),
    }
    Ok(out)
}

fn num<T: FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("'{s}' is not a number in range"))
}

/// Algorithms by number or mnemonic (RFC 4034 Appendix A.1, RFC 5702, RFC 6605, RFC 8080).
fn algorithm(s: &str) -> Result<u8, String> {
    if let Ok(n) = s.parse() {
        return Ok(n);
    }
    Ok(match s.to_ascii_uppercase().as_str() {
        "RSAMD5" => 1,
        "DSA" => 3,
        "RSASHA1" => 5,
        "DSA-NSEC3-SHA1" => 6,
        "RSASHA1-NSEC3-SHA1" => 7,
        "RSASHA256" => 8,
        "RSASHA512" => 10,
        "ECDSAP256SHA256" => 13,
        "ECDSAP384SHA384" => 14,
        "ED25519" => 15,
        "ED448" => 16,
        _ => return Err(format!("unknown algorithm '{s}'")),
    })
}

fn type_number(s: &str) -> Result<u16, String> {
    let upper = s.to_ascii_uppercase();
    upper.strip_prefix("TYPE").and_then(|n| n.parse().ok()).ok_or(format!("unknown type '{s}'"))
}

/// YYYYMMDDHHmmSS (UTC) or seconds since the epoch (RFC 4034 §3.2).
fn time(s: &str) -> Result<u32, String> {
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        let ts: jiff::civil::DateTime =
            format!("{}-{}-{}T{}:{}:{}", &s[0..4], &s[4..6], &s[6..8], &s[8..10], &s[10..12], &s[12..14])
                .parse()
                .map_err(|e| format!("'{s}': {e}"))?;
        let secs = ts.to_zoned(jiff::tz::TimeZone::UTC).map_err(|e| format!("'{s}': {e}"))?.timestamp().as_second();
        // Serial number arithmetic (RFC 1982): times wrap modulo 2^32.
        return Ok(secs as u32);
    }
    num(s)
}

fn name_wire(s: &str, origin: &Name) -> Result<Vec<u8>, String> {
    let n = if s == "@" { origin.clone() } else { Name::parse(s, Some(origin)).map_err(|e| format!("'{s}': {e}"))? };
    // Names in RRSIG and NSEC data are never compressed (RFC 4034 §3.1.7, §4.1.1).
    let mut out = Vec::new();
    for label in n.iter() {
        out.push(u8::try_from(label.len()).map_err(|_| "label too long")?);
        out.extend(label);
    }
    out.push(0);
    Ok(out)
}

fn base64(parts: &[&str]) -> Result<Vec<u8>, String> {
    let joined: String = parts.concat();
    base64::engine::general_purpose::STANDARD.decode(joined.trim()).map_err(|_| "invalid base64".to_string())
}

fn salt(s: &str) -> Result<Vec<u8>, String> {
    if s == "-" {
        return Ok(Vec::new());
    }
    if !s.len().is_multiple_of(2) {
        return Err(format!("salt '{s}' is not hexadecimal"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("salt '{s}' is not hexadecimal")))
        .collect()
}

/// Hash algorithm, flags, iterations and salt: how NSEC3 and NSEC3PARAM both begin (RFC 5155
/// §3.2, §4.2).
fn nsec3_parameters(f: &[&str], out: &mut Vec<u8>) -> Result<(), String> {
    out.push(num::<u8>(f[0])?);
    out.push(num::<u8>(f[1])?);
    out.extend(num::<u16>(f[2])?.to_be_bytes());
    let salt = salt(f[3])?;
    out.push(u8::try_from(salt.len()).map_err(|_| "salt too long")?);
    out.extend(salt);
    Ok(())
}

/// Base 32 with the extended hex alphabet, no padding (RFC 4648 §7, RFC 5155 §3.3).
pub(crate) fn base32hex(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').chars() {
        let v = c.to_digit(32).ok_or(format!("'{s}' is not base32hex"))?;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// The type bitmap of NSEC and NSEC3 (RFC 4034 §4.1.2): windows of 256 types.
fn type_bitmap(types: &[&str]) -> Result<Vec<u8>, String> {
    let mut codes = Vec::new();
    for t in types {
        let code = match RecordType::from_str(&t.to_ascii_uppercase()) {
            Ok(rt) if !matches!(rt, RecordType::Unknown(_)) => u16::from(rt),
            _ if t.eq_ignore_ascii_case("ZONEMD") => 63,
            _ => type_number(t)?,
        };
        codes.push(code);
    }
    codes.sort_unstable();
    codes.dedup();
    let mut out = Vec::new();
    let mut i = 0;
    while i < codes.len() {
        let window = (codes[i] >> 8) as u8;
        let mut bits = [0u8; 32];
        let mut len = 0;
        while i < codes.len() && (codes[i] >> 8) as u8 == window {
            let low = (codes[i] & 0xff) as usize;
            bits[low / 8] |= 0x80 >> (low % 8);
            len = low / 8 + 1;
            i += 1;
        }
        out.push(window);
        out.push(len as u8);
        out.extend(&bits[..len]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Record {
        let origin = Name::from_str("example.").unwrap();
        let parsed = super::super::master::parse(&format!("$TTL 300\n{line}\n"), &origin, None).unwrap();
        parsed.into_iter().next().unwrap().record
    }

    #[test]
    fn dnssec_records_are_read_from_text() {
        let k = parse(
            "@ DNSKEY 257 3 8 AwEAAaetidLzsKWUt4swWR8yu0wPHPiUi8LUsAD0QPWU+wzt89epO6tH zkMBVDkC7qphQO2hTY4hHn9npWFRw5BYubE=",
        );
        assert_eq!(k.record_type(), RecordType::DNSKEY);
        let s = parse(
            "www RRSIG A 8 2 300 20300101000000 20200101000000 12345 example. \
             AwEAAaetidLzsKWUt4swWR8yu0wPHPiUi8LUsAD0QPWU+wzt89epO6tH",
        );
        assert_eq!(s.record_type(), RecordType::RRSIG);
        assert!(s.data.to_string().contains("example."), "{}", s.data);
        let n = parse("www NSEC zzz.example. A RRSIG NSEC TYPE1234");
        assert_eq!(n.record_type(), RecordType::NSEC);
        assert!(n.data.to_string().contains("TYPE1234") || n.data.to_string().contains("RRSIG"), "{}", n.data);
        let n3 =
            parse("2vptu5timamqttgl4luu9kg21e0aor3s NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG");
        assert_eq!(n3.record_type(), RecordType::NSEC3);
        let d = parse("old DNAME new.example.");
        assert_eq!(u16::from(d.record_type()), 39);
        let g = parse("@ TYPE63 \\# 3 0a0b0c");
        assert_eq!(u16::from(g.record_type()), 63);
        // Types hickory has no name for are written back as TYPEnnn and read again.
        for line in [
            "@ RRSIG TYPE63 8 1 300 20300101000000 20200101000000 12345 example. AwEAAaetidLzsKWUt4sw",
            "@ NSEC a.example. SOA RRSIG NSEC TYPE63",
        ] {
            let r = parse(line);
            let text = super::super::master::record_text(&r);
            assert!(text.contains("TYPE63"), "{text}");
            assert_eq!(parse(&text), r, "{text}");
        }
        let p = parse("@ NSEC3PARAM 1 0 0 -");
        assert_eq!(p.record_type(), RecordType::NSEC3PARAM);
    }
}
