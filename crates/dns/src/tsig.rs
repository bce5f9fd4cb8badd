//! TSIG (RFC 8945) with HMAC-SHA256 and HMAC-SHA512: a signed request is checked and its
//! TSIG record removed before decoding, and every message of the answer is signed with the
//! same key (each one chained to the previous MAC, §5.3.1). Works on the wire bytes, so the
//! digest covers exactly what was sent. Secrets are never printed (`Debug` hides them).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

use crate::answer_cache::wire::{skip_name, u16_at};

const TYPE_TSIG: u16 = 250;
const CLASS_ANY: u16 = 255;
/// Allowed clock difference (RFC 8945 §10: 300 s recommended).
const FUDGE: u16 = 300;

pub const BADSIG: u16 = 16;
pub const BADKEY: u16 = 17;
pub const BADTIME: u16 = 18;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha256,
    HmacSha512,
}

impl Algorithm {
    pub fn parse(name: &str) -> Option<Algorithm> {
        match name.trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha256" => Some(Algorithm::HmacSha256),
            "hmac-sha512" => Some(Algorithm::HmacSha512),
            _ => None,
        }
    }

    fn wire_name(self) -> &'static [u8] {
        match self {
            Algorithm::HmacSha256 => b"\x0bhmac-sha256\x00",
            Algorithm::HmacSha512 => b"\x0bhmac-sha512\x00",
        }
    }

    fn mac(self, secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            let Ok(mut mac) = <M as Mac>::new_from_slice(secret) else { return Vec::new() };
            for p in parts {
                mac.update(p);
            }
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Algorithm::HmacSha256 => run::<Hmac<Sha256>>(secret, parts),
            Algorithm::HmacSha512 => run::<Hmac<Sha512>>(secret, parts),
        }
    }
}

#[derive(Clone)]
pub struct Key {
    /// Lower-cased wire form of the key name.
    name_wire: Vec<u8>,
    pub name: String,
    pub algorithm: Algorithm,
    secret: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("name", &self.name).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

impl Key {
    /// `name` in presentation form (`transfer-key`), `secret` as raw bytes.
    pub fn new(name: &str, algorithm: Algorithm, secret: Vec<u8>) -> Result<Key, String> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut name_wire = Vec::new();
        for label in name.split('.').filter(|l| !l.is_empty()) {
            let len =
                u8::try_from(label.len()).ok().filter(|l| *l <= 63).ok_or("a label of the key name is too long")?;
            name_wire.push(len);
            name_wire.extend_from_slice(label.as_bytes());
        }
        name_wire.push(0);
        if secret.is_empty() {
            return Err(format!("TSIG key {name}: empty secret"));
        }
        Ok(Key { name_wire, name, algorithm, secret })
    }
}

#[derive(Debug, Default, Clone)]
pub struct Keys {
    by_name: HashMap<Vec<u8>, Key>,
}

impl Keys {
    pub fn new(keys: Vec<Key>) -> Keys {
        Keys { by_name: keys.into_iter().map(|k| (k.name_wire.clone(), k)).collect() }
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The key of this name (presentation form, any case, final dot or not).
    pub fn get(&self, name: &str) -> Option<&Key> {
        let wanted = name.trim_end_matches('.').to_ascii_lowercase();
        self.by_name.values().find(|k| k.name == wanted)
    }
}

/// A request whose TSIG checked out: what signing the answer needs.
#[derive(Debug, Clone)]
pub struct Signed {
    pub key: Key,
    pub request_mac: Vec<u8>,
    pub original_id: u16,
}

/// Why a signed request is not accepted, with what the error answer needs.
#[derive(Debug)]
pub struct Rejected {
    pub error: u16,
    pub reason: String,
    key_name_wire: Vec<u8>,
    algorithm_wire: Vec<u8>,
    time_signed: u64,
}

/// What [`check`] found.
pub enum Checked {
    /// No TSIG record: the packet as it is.
    Unsigned,
    /// A good signature: the packet without its TSIG record, and the signing context.
    Signed(Vec<u8>, Signed),
    Rejected(Rejected),
}

/// An uncompressed name in lower-case wire form, and the offset after it.
fn read_plain_name(p: &[u8], mut at: usize) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    loop {
        let len = *p.get(at)?;
        if len == 0 {
            out.push(0);
            return Some((out, at + 1));
        }
        if len > 63 {
            return None;
        }
        out.push(len);
        out.extend(p.get(at + 1..at + 1 + usize::from(len))?.iter().map(u8::to_ascii_lowercase));
        at += 1 + usize::from(len);
    }
}

/// Where the last additional record starts, when it is a TSIG record.
fn find_tsig(p: &[u8]) -> Option<usize> {
    let counts: Vec<u16> = (0..4).map(|i| u16_at(p, 4 + 2 * i)).collect::<Option<_>>()?;
    if counts[3] == 0 {
        return None;
    }
    let mut at = 12;
    for _ in 0..counts[0] {
        at = skip_name(p, at)? + 4;
    }
    let before_last = usize::from(counts[1]) + usize::from(counts[2]) + usize::from(counts[3]) - 1;
    for _ in 0..before_last {
        at = skip_name(p, at)? + 8;
        at += 2 + usize::from(u16_at(p, at)?);
    }
    let rtype = u16_at(p, skip_name(p, at)?)?;
    (rtype == TYPE_TSIG).then_some(at)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The TSIG variables of §4.3.3 (key name, class, TTL, algorithm, time, fudge, error, other).
fn variables(key_name: &[u8], algorithm: &[u8], time: u64, fudge: u16, error: u16) -> Vec<u8> {
    let mut v = Vec::with_capacity(key_name.len() + algorithm.len() + 16);
    v.extend_from_slice(key_name);
    v.extend_from_slice(&CLASS_ANY.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(algorithm);
    v.extend_from_slice(&time.to_be_bytes()[2..]);
    v.extend_from_slice(&fudge.to_be_bytes());
    v.extend_from_slice(&error.to_be_bytes());
    v.extend_from_slice(&0u16.to_be_bytes());
    v
}

/// Checks the TSIG record of `packet`, if it has one (RFC 8945 §5.2).
pub fn check(packet: &[u8], keys: &Keys) -> Checked {
    let Some(start) = find_tsig(packet) else { return Checked::Unsigned };
    let Some(parsed) = parse_tsig(packet, start) else {
        return Checked::Rejected(Rejected {
            error: BADSIG,
            reason: "TSIG: malformed record".into(),
            key_name_wire: vec![0],
            algorithm_wire: vec![0],
            time_signed: now(),
        });
    };
    let reject = |error: u16, reason: String| {
        Checked::Rejected(Rejected {
            error,
            reason,
            key_name_wire: parsed.key_name.clone(),
            algorithm_wire: parsed.algorithm.clone(),
            time_signed: parsed.time,
        })
    };
    let Some(key) = keys.by_name.get(&parsed.key_name).filter(|k| k.algorithm.wire_name() == parsed.algorithm) else {
        return reject(BADKEY, "TSIG: unknown key or algorithm".into());
    };
    // The message as it was before signing: original id, one additional record fewer.
    let mut unsigned = packet[..start].to_vec();
    unsigned[..2].copy_from_slice(&parsed.original_id.to_be_bytes());
    let arcount = u16_at(packet, 10).unwrap_or(1).saturating_sub(1);
    unsigned[10..12].copy_from_slice(&arcount.to_be_bytes());
    let vars = variables(&parsed.key_name, &parsed.algorithm, parsed.time, parsed.fudge, parsed.error);
    let expected = key.algorithm.mac(&key.secret, &[&unsigned, &vars]);
    if expected.is_empty() || !constant_time_eq(&expected, &parsed.mac) {
        return reject(BADSIG, format!("TSIG: bad signature with key {}", key.name));
    }
    if now().abs_diff(parsed.time) > u64::from(parsed.fudge) {
        return reject(BADTIME, format!("TSIG: time outside the fudge of key {}", key.name));
    }
    // The id the client reads the answer under is the one in the header.
    unsigned[..2].copy_from_slice(&packet[..2]);
    Checked::Signed(unsigned, Signed { key: key.clone(), request_mac: parsed.mac, original_id: parsed.original_id })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

struct ParsedTsig {
    key_name: Vec<u8>,
    algorithm: Vec<u8>,
    time: u64,
    fudge: u16,
    mac: Vec<u8>,
    original_id: u16,
    error: u16,
}

fn parse_tsig(p: &[u8], start: usize) -> Option<ParsedTsig> {
    let (key_name, mut at) = read_plain_name(p, start)?;
    if u16_at(p, at)? != TYPE_TSIG || u16_at(p, at + 2)? != CLASS_ANY {
        return None;
    }
    let rdlen = usize::from(u16_at(p, at + 8)?);
    at += 10;
    if at + rdlen != p.len() {
        return None;
    }
    let (algorithm, next) = read_plain_name(p, at)?;
    at = next;
    let time = p.get(at..at + 6)?.iter().fold(0u64, |t, &b| (t << 8) | u64::from(b));
    let fudge = u16_at(p, at + 6)?;
    let mac_len = usize::from(u16_at(p, at + 8)?);
    let mac = p.get(at + 10..at + 10 + mac_len)?.to_vec();
    at += 10 + mac_len;
    let original_id = u16_at(p, at)?;
    let error = u16_at(p, at + 2)?;
    Some(ParsedTsig { key_name, algorithm, time, fudge, mac, original_id, error })
}

fn tsig_record(key_name: &[u8], algorithm: &[u8], time: u64, mac: &[u8], original_id: u16, error: u16) -> Vec<u8> {
    let mut rdata = Vec::with_capacity(algorithm.len() + 16 + mac.len());
    rdata.extend_from_slice(algorithm);
    rdata.extend_from_slice(&time.to_be_bytes()[2..]);
    rdata.extend_from_slice(&FUDGE.to_be_bytes());
    rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    rdata.extend_from_slice(mac);
    rdata.extend_from_slice(&original_id.to_be_bytes());
    rdata.extend_from_slice(&error.to_be_bytes());
    rdata.extend_from_slice(&0u16.to_be_bytes());
    let mut rr = Vec::with_capacity(key_name.len() + 10 + rdata.len());
    rr.extend_from_slice(key_name);
    rr.extend_from_slice(&TYPE_TSIG.to_be_bytes());
    rr.extend_from_slice(&CLASS_ANY.to_be_bytes());
    rr.extend_from_slice(&0u32.to_be_bytes());
    rr.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    rr.extend_from_slice(&rdata);
    rr
}

fn append_record(message: &mut Vec<u8>, record: &[u8]) {
    if message.len() < 12 {
        return;
    }
    let arcount = u16::from_be_bytes([message[10], message[11]]).saturating_add(1);
    message[10..12].copy_from_slice(&arcount.to_be_bytes());
    message.extend_from_slice(record);
}

/// Signs the messages of one answer in order: the first over the request's MAC and the full
/// variables, each later one over the previous MAC and the timers only (§5.3.1).
pub fn sign_all(messages: &mut [Vec<u8>], signed: &Signed) {
    let key = &signed.key;
    let alg = key.algorithm.wire_name();
    let time = now();
    let mut prior = signed.request_mac.clone();
    for (i, message) in messages.iter_mut().enumerate() {
        let prior_len = (prior.len() as u16).to_be_bytes();
        let mac = if i == 0 {
            let vars = variables(&key.name_wire, alg, time, FUDGE, 0);
            key.algorithm.mac(&key.secret, &[&prior_len, &prior, message, &vars])
        } else {
            let mut timers = time.to_be_bytes()[2..].to_vec();
            timers.extend_from_slice(&FUDGE.to_be_bytes());
            key.algorithm.mac(&key.secret, &[&prior_len, &prior, message, &timers])
        };
        append_record(message, &tsig_record(&key.name_wire, alg, time, &mac, signed.original_id, 0));
        prior = mac;
    }
}

/// Signs a request as a client (§5.1): the MAC over the message and the variables. Returns
/// the signed message and its MAC, which the answer's first MAC covers.
pub fn sign_request(message: &[u8], key: &Key) -> (Vec<u8>, Vec<u8>) {
    let time = now();
    let alg = key.algorithm.wire_name();
    let vars = variables(&key.name_wire, alg, time, FUDGE, 0);
    let mac = key.algorithm.mac(&key.secret, &[message, &vars]);
    let id = u16_at(message, 0).unwrap_or(0);
    let mut out = message.to_vec();
    append_record(&mut out, &tsig_record(&key.name_wire, alg, time, &mac, id, 0));
    (out, mac)
}

/// The message without its TSIG record (as it was before signing, but for the id).
pub fn without_tsig(message: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match find_tsig(message) {
        Some(start) => {
            let mut out = message[..start].to_vec();
            let arcount = u16_at(message, 10).unwrap_or(1).saturating_sub(1);
            out[10..12].copy_from_slice(&arcount.to_be_bytes());
            std::borrow::Cow::Owned(out)
        }
        None => std::borrow::Cow::Borrowed(message),
    }
}

/// Checks the answer to a request signed with `key` (MAC `request_mac`), as a client does
/// (§5.3.1): the first message and the last must be signed, the first over the request's MAC
/// and the full variables, each later one over the previous MAC, the unsigned messages since
/// (at most 99) and the timers.
pub fn verify_answers(messages: &[Vec<u8>], key: &Key, request_mac: &[u8]) -> Result<(), String> {
    let mut prior = request_mac.to_vec();
    let mut unsigned_since: Vec<u8> = Vec::new();
    let mut unsigned_count = 0;
    for (i, m) in messages.iter().enumerate() {
        let Some(start) = find_tsig(m) else {
            if i == 0 {
                return Err(format!("the answer is not signed with key {}", key.name));
            }
            unsigned_count += 1;
            if unsigned_count > 99 {
                return Err("more than 99 unsigned messages in a row".into());
            }
            unsigned_since.extend_from_slice(m);
            continue;
        };
        let parsed = parse_tsig(m, start).ok_or("a malformed TSIG record")?;
        if parsed.key_name != key.name_wire || parsed.algorithm != key.algorithm.wire_name() {
            return Err(format!("the answer is signed with another key than {}", key.name));
        }
        if parsed.error != 0 {
            return Err(format!("the server reports TSIG error {} for key {}", parsed.error, key.name));
        }
        let mut unsigned = m[..start].to_vec();
        unsigned[..2].copy_from_slice(&parsed.original_id.to_be_bytes());
        let arcount = u16_at(m, 10).unwrap_or(1).saturating_sub(1);
        unsigned[10..12].copy_from_slice(&arcount.to_be_bytes());
        let prior_len = (prior.len() as u16).to_be_bytes();
        let expected = if i == 0 {
            let vars = variables(&parsed.key_name, &parsed.algorithm, parsed.time, parsed.fudge, parsed.error);
            key.algorithm.mac(&key.secret, &[&prior_len, &prior, &unsigned, &vars])
        } else {
            let mut timers = parsed.time.to_be_bytes()[2..].to_vec();
            timers.extend_from_slice(&parsed.fudge.to_be_bytes());
            key.algorithm.mac(&key.secret, &[&prior_len, &prior, &unsigned_since, &unsigned, &timers])
        };
        if expected.is_empty() || !constant_time_eq(&expected, &parsed.mac) {
            return Err(format!("bad signature with key {}", key.name));
        }
        if now().abs_diff(parsed.time) > u64::from(parsed.fudge) {
            return Err(format!("signature time outside the fudge of key {}", key.name));
        }
        prior = parsed.mac;
        unsigned_since.clear();
        unsigned_count = 0;
    }
    if unsigned_count > 0 {
        return Err("the last message of the answer is not signed".into());
    }
    Ok(())
}

/// The error answer to a rejected signed request: NOTAUTH with an unsigned TSIG record that
/// carries the error (§5.3.2; BADTIME would be signed, left unsigned here as for the others).
pub fn error_answer(packet: &[u8], rejected: &Rejected) -> Option<Vec<u8>> {
    // The header and question of the request, turned into a response.
    let qdcount = u16_at(packet, 4)?;
    let mut at = 12;
    for _ in 0..qdcount {
        at = skip_name(packet, at)? + 4;
    }
    let mut out = packet.get(..at)?.to_vec();
    out[2] = (out[2] | 0x80) & !0x06; // QR; AA and TC clear
    out[3] = (out[3] & 0xf0) | 9; // NOTAUTH
    out[6..12].fill(0);
    let record = tsig_record(
        &rejected.key_name_wire,
        &rejected.algorithm_wire,
        rejected.time_signed,
        &[],
        u16_at(packet, 0)?,
        rejected.error,
    );
    append_record(&mut out, &record);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::new("xfr-key", Algorithm::HmacSha256, b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
    }

    fn query() -> Vec<u8> {
        let mut m = hickory_proto::op::Message::query();
        m.metadata.id = 77;
        m.add_query(hickory_proto::op::Query::query(
            hickory_proto::rr::Name::from_ascii("example.jp.").unwrap(),
            hickory_proto::rr::RecordType::AXFR,
        ));
        m.to_vec().unwrap()
    }

    /// Signs a request the way a client does: MAC over the message and the variables.
    fn sign_request(message: &[u8], key: &Key) -> Vec<u8> {
        let time = now();
        let vars = variables(&key.name_wire, key.algorithm.wire_name(), time, FUDGE, 0);
        let mac = key.algorithm.mac(&key.secret, &[message, &vars]);
        let mut out = message.to_vec();
        append_record(&mut out, &tsig_record(&key.name_wire, key.algorithm.wire_name(), time, &mac, 77, 0));
        out
    }

    #[test]
    fn a_good_signature_is_accepted_and_removed() {
        let keys = Keys::new(vec![key()]);
        let signed = sign_request(&query(), &key());
        match check(&signed, &keys) {
            Checked::Signed(stripped, s) => {
                assert_eq!(stripped, query());
                assert_eq!(s.key.name, "xfr-key");
            }
            _ => panic!("not accepted"),
        }
        assert!(matches!(check(&query(), &keys), Checked::Unsigned));
    }

    #[test]
    fn a_wrong_secret_or_unknown_key_is_rejected() {
        let other = Key::new("xfr-key", Algorithm::HmacSha256, b"another secret entirely".to_vec()).unwrap();
        let keys = Keys::new(vec![key()]);
        let Checked::Rejected(r) = check(&sign_request(&query(), &other), &keys) else { panic!("accepted") };
        assert_eq!(r.error, BADSIG);
        let stranger = Key::new("who", Algorithm::HmacSha256, b"x".to_vec()).unwrap();
        let Checked::Rejected(r) = check(&sign_request(&query(), &stranger), &keys) else { panic!("accepted") };
        assert_eq!(r.error, BADKEY);
        let answer = error_answer(&sign_request(&query(), &stranger), &r).unwrap();
        assert_eq!(answer[3] & 0x0f, 9);
    }

    #[test]
    fn truncated_signed_packets_never_panic() {
        let keys = Keys::new(vec![key()]);
        let signed = sign_request(&query(), &key());
        for cut in 0..signed.len() {
            let _ = check(&signed[..cut], &keys);
        }
    }

    #[test]
    fn a_client_checks_a_signed_multi_message_answer() {
        let (request, mac) = super::sign_request(&query(), &key());
        let Checked::Signed(stripped, signed) = check(&request, &Keys::new(vec![key()])) else { panic!("rejected") };
        assert_eq!(signed.request_mac, mac);
        let mut answers = vec![stripped.clone(), stripped.clone(), stripped];
        for a in &mut answers {
            a[2] |= 0x80;
        }
        sign_all(&mut answers, &signed);
        assert_eq!(verify_answers(&answers, &key(), &mac), Ok(()));
        assert_eq!(without_tsig(&answers[0]).len(), query().len());
        let mut tampered = answers.clone();
        tampered[1][3] ^= 1;
        assert!(verify_answers(&tampered, &key(), &mac).is_err());
        assert!(verify_answers(&answers, &key(), b"another request mac").is_err());
        let unsigned: Vec<Vec<u8>> = answers.iter().map(|a| without_tsig(a).into_owned()).collect();
        assert!(verify_answers(&unsigned, &key(), &mac).is_err());
    }

    #[test]
    fn the_secret_is_not_in_debug_output() {
        assert!(!format!("{:?}", key()).contains("0123456789"));
    }
}
