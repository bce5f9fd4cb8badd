//! DNSSEC validation (RFC 4033-4035, RFC 5155) of the resolver's answers, walking the chain of
//! trust through mamori's own iterator: hickory's `DnssecDnsHandle` sends its DS and DNSKEY
//! queries itself, so only hickory-proto's primitives are used (RRSIG verification against a
//! DNSKEY with ring, DS digests, NSEC3 hashes). From a trust anchor (DS or DNSKEY records; the
//! IANA root keys by default) each zone's DNSKEY set is trusted when a key its parent's
//! validated DS names signs it; an answer's record sets are secure when a trusted key of their
//! signer verifies one of their RRSIGs. A negative answer needs its NSEC or NSEC3 proof; an
//! unsigned answer is insecure only below a delegation whose DS is proven absent.
//!
//! Keys are kept no longer than their DS and DNSKEY TTLs and signature allow; SHA-1 DS records
//! are ignored beside stronger ones (RFC 4509 §3).
//!
//! An answer a wildcard expanded needs the NSEC/NSEC3 that shows its name does not exist, and
//! a name error the proof that no wildcard at the closest encloser could have answered.
//!
//! Not done: algorithm downgrade rules beyond "some DS matches", and key rollover tracking
//! (RFC 5011).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, NSEC, NSEC3, RRSIG};
use hickory_proto::dnssec::{Algorithm, DigestType, PublicKey, TBS, TrustAnchors, Verifier};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::{Answer, Resolver, Trace};
use crate::rpz::{Action, PolicySet};
use crate::zone::denial::{chain_end, covers_hash, hash_of, nsec3s, owner_hash, rrsets};
use crate::zone::fqdn_lower;

/// DS/DNSKEY lookups nested this deep are given up (a loop or an absurdly deep chain).
const MAX_DEPTH: usize = 24;
/// How long a zone's keys are kept at most (less when their records' TTLs or signatures run
/// out sooner), and how long a failure to find them is.
const KEYS_TTL: u64 = 3600;
const BOGUS_TTL: u64 = 60;

/// What validation found for an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Security {
    /// Not validated: validation is off, or no trust anchor is above the name.
    #[default]
    Unchecked,
    /// Every record set verified up to a trust anchor (AD).
    Secure,
    /// Below a delegation proven unsigned.
    Insecure,
    /// Signatures missing or wrong where they must be: SERVFAIL unless the client set CD.
    Bogus(String),
}

impl Security {
    /// The weaker of two verdicts: bogus over insecure over secure.
    fn and(self, other: Security) -> Security {
        fn rank(s: &Security) -> u8 {
            match s {
                Security::Secure => 0,
                Security::Unchecked | Security::Insecure => 1,
                Security::Bogus(_) => 2,
            }
        }
        if rank(&other) > rank(&self) { other } else { self }
    }
}

/// The trust anchors: DS or DNSKEY records of the zones they anchor.
pub fn root_anchors() -> Vec<Record> {
    let anchors = TrustAnchors::default();
    (0..anchors.len())
        .filter_map(|i| anchors.get(i))
        .map(|key| {
            let dnskey = DNSKEY::with_flags(257, key.clone());
            Record::from_rdata(Name::root(), 172_800, RData::DNSSEC(DNSSECRData::DNSKEY(dnskey)))
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Keys {
    Secure(Vec<DNSKEY>),
    /// The DS is proven absent at this delegation, or the parent is insecure.
    Insecure,
    /// The name is no zone cut (its DS is denied by a proof without NS).
    NotACut,
    Bogus(String),
}

/// Zones' trusted keys, found once per TTL, and what referrals said of each delegation's DS.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<Name, (Keys, u64)>>, Mutex<HashMap<Name, (Answer, u64)>>);

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Resolver {
    /// True when answers are validated (there are trust anchors).
    pub fn validates(&self) -> bool {
        !self.config.trust_anchors.is_empty()
    }

    /// True when the answers of `zone`'s servers must carry signatures: a trust anchor is
    /// at the zone, its keys are trusted, or the referral to it gave its DS.
    pub(super) fn dnssec_expected(&self, zone: &Name) -> bool {
        if !self.validates() {
            return false;
        }
        let zone = fqdn_lower(zone);
        if self.config.trust_anchors.iter().any(|r| fqdn_lower(&r.name) == zone) {
            return true;
        }
        let now = self.clock.now();
        let keys = self.keys.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((Keys::Secure(_), until)) = keys.get(&zone)
            && *until > now
        {
            return true;
        }
        drop(keys);
        let proofs = self.keys.1.lock().unwrap_or_else(|e| e.into_inner());
        proofs
            .get(&zone)
            .is_some_and(|(a, until)| *until > now && a.answers.iter().any(|r| r.record_type() == RecordType::DS))
    }

    fn validation_now(&self) -> u32 {
        self.config.validation_time.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as u32)
        })
    }

    fn anchor_for(&self, name: &Name) -> Option<Name> {
        self.config
            .trust_anchors
            .iter()
            .map(|r| fqdn_lower(&r.name))
            .filter(|z| z.zone_of(name))
            .max_by_key(Name::num_labels)
    }

    /// The verdict on `answer`, the resolver's answer to `qname` `qtype`.
    pub(super) fn validate<'a>(
        &'a self,
        qname: &'a Name,
        qtype: RecordType,
        answer: &'a Answer,
        policy: Option<&'a PolicySet>,
        depth: usize,
    ) -> Boxed<'a, Security> {
        Box::pin(async move {
            if !self.validates() || self.anchor_for(qname).is_none() {
                return Security::Unchecked;
            }
            if depth > MAX_DEPTH {
                return Security::Bogus("the chain of trust is too deep".into());
            }
            let mut verdict = Security::Secure;
            for (owner, rtype) in rrsets(&answer.answers) {
                // A CNAME synthesized from a DNAME is unsigned (RFC 6672 §5.3.3): the DNAME's
                // signature covers it.
                if rtype == RecordType::CNAME && from_dname(&owner, &answer.answers) {
                    continue;
                }
                verdict = verdict.and(self.validate_set(&owner, rtype, &answer.answers, policy, depth).await);
                // RFC 4035 §5.3.4: a set a wildcard expanded is secure only with the proof
                // that its owner name itself does not exist.
                if verdict == Security::Secure
                    && let Some(closest) = wildcard_closest_encloser(&owner, rtype, &answer.answers)
                {
                    verdict =
                        verdict.and(self.wildcard_proof(&owner, &closest, &answer.authority, policy, depth).await);
                }
            }
            // A question for the CNAME itself ends at its owner.
            let last = if qtype == RecordType::CNAME {
                fqdn_lower(qname)
            } else {
                chain_end(fqdn_lower(qname), &answer.answers)
            };
            let nxdomain = answer.rcode == ResponseCode::NXDomain;
            let nodata = !nxdomain
                && !answer
                    .answers
                    .iter()
                    .any(|r| fqdn_lower(&r.name) == last && (r.record_type() == qtype || qtype == RecordType::ANY));
            if nxdomain || nodata {
                let proofs: Vec<(Name, RecordType)> = rrsets(&answer.authority)
                    .into_iter()
                    .filter(|(_, t)| matches!(t, RecordType::SOA | RecordType::NSEC | RecordType::NSEC3))
                    .collect();
                let mut negative = Security::Secure;
                for (owner, rtype) in &proofs {
                    negative = negative.and(self.validate_set(owner, *rtype, &answer.authority, policy, depth).await);
                }
                if !proofs.iter().any(|(_, t)| *t != RecordType::SOA) {
                    // No denial records: fine only where the zone is unsigned.
                    negative = negative.and(self.unsigned(&last, policy, depth).await);
                } else if negative == Security::Secure && !denied(&last, qtype, nxdomain, &answer.authority) {
                    negative = Security::Bogus(format!("no NSEC/NSEC3 proof that {last} {qtype} does not exist"));
                }
                verdict = verdict.and(negative);
            }
            verdict
        })
    }

    /// The verified NSEC or NSEC3 in `authority` that shows `owner`, answered by the wildcard
    /// at `closest`, does not exist itself: an NSEC covering it, or an NSEC3 covering the next
    /// closer name (RFC 5155 §8.8).
    async fn wildcard_proof(
        &self,
        owner: &Name,
        closest: &Name,
        authority: &[Record],
        policy: Option<&PolicySet>,
        depth: usize,
    ) -> Security {
        let next_closer = owner.trim_to(usize::from(closest.num_labels()) + 1);
        let proof = authority.iter().find(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC(n)) => nsec_covers(r, n, owner),
            RData::DNSSEC(DNSSECRData::NSEC3(n)) => hash_of(n, &next_closer).is_some_and(|h| covers_hash(r, n, &h)),
            _ => false,
        });
        match proof {
            Some(r) => self.validate_set(&fqdn_lower(&r.name), r.record_type(), authority, policy, depth).await,
            None => Security::Bogus(format!("{owner} was answered by a wildcard without the proof it does not exist")),
        }
    }

    /// One record set of `records`: secure when a trusted key of its signer verifies it.
    async fn validate_set(
        &self,
        owner: &Name,
        rtype: RecordType,
        records: &[Record],
        policy: Option<&PolicySet>,
        depth: usize,
    ) -> Security {
        let sigs: Vec<&RRSIG> = records.iter().filter_map(|r| signature_over(r, owner, rtype)).collect();
        if sigs.is_empty() {
            return self.unsigned(owner, policy, depth).await;
        }
        let mut why = format!("no signature of {owner} {rtype} verifies");
        for sig in sigs {
            let signer = fqdn_lower(&sig.input().signer_name);
            if !signer.zone_of(owner) {
                why = format!("{owner} {rtype} is signed by {signer}, which is not above it");
                continue;
            }
            match self.zone_keys(&signer, policy, depth + 1).await {
                Keys::Insecure => return Security::Insecure,
                Keys::NotACut => why = format!("{signer} signs {owner} {rtype} but is no zone"),
                Keys::Bogus(e) => why = e,
                Keys::Secure(keys) => match verify(sig, owner, records, &keys, self.validation_now()) {
                    Ok(()) => return Security::Secure,
                    Err(e) => why = format!("{owner} {rtype}: {e}"),
                },
            }
        }
        Security::Bogus(why)
    }

    /// An unsigned record set at `owner`: insecure when a delegation between the trust anchor
    /// and it has no DS (proven), bogus when every zone on the way is signed.
    fn unsigned<'a>(&'a self, owner: &'a Name, policy: Option<&'a PolicySet>, depth: usize) -> Boxed<'a, Security> {
        Box::pin(async move {
            let Some(anchor) = self.anchor_for(owner) else { return Security::Unchecked };
            let mut below: Vec<Name> = Vec::new();
            let mut n = fqdn_lower(owner);
            while n.num_labels() > anchor.num_labels() {
                below.push(n.clone());
                n = n.base_name();
            }
            // Only the zone cuts iteration met are asked about (as Unbound does), not every
            // label: a name that is no cut has no DS of its own.
            let now = self.clock.now();
            let cuts: Vec<&Name> = below
                .iter()
                .rev()
                .filter(|n| {
                    self.keys.1.lock().unwrap_or_else(|e| e.into_inner()).contains_key(*n)
                        || self.delegations.exact(n, now).is_some()
                        || self.config.local_zones.iter().any(|z| z.zone.name == **n)
                })
                .collect();
            for name in &cuts {
                match self.zone_keys(name, policy, depth + 1).await {
                    Keys::Insecure => return Security::Insecure,
                    Keys::Bogus(e) => return Security::Bogus(e),
                    Keys::Secure(_) | Keys::NotACut => {}
                }
            }
            // Through forwarders no referral shows where the cuts are: every other name on
            // the way is asked for its DS (a name that is no cut has a proof of that).
            let mut why = format!("{owner} has no signatures in a signed zone");
            for name in below.iter().rev().filter(|n| !cuts.contains(n)) {
                match self.zone_keys(name, policy, depth + 1).await {
                    Keys::Insecure => return Security::Insecure,
                    Keys::Bogus(e) => {
                        why = e;
                        break;
                    }
                    Keys::Secure(_) | Keys::NotACut => {}
                }
            }
            Security::Bogus(why)
        })
    }

    /// The trusted DNSKEYs of `zone`, from the cache or found now.
    fn zone_keys<'a>(&'a self, zone: &'a Name, policy: Option<&'a PolicySet>, depth: usize) -> Boxed<'a, Keys> {
        Box::pin(async move {
            let now = self.clock.now();
            let zone = fqdn_lower(zone);
            // A zone a response policy rewrites gets its answers from the policy, not from
            // its servers: there is no chain of trust to follow into it (as Unbound, whose
            // validator's own DS and DNSKEY queries meet the policy too).
            if policy.and_then(|p| p.check_name(&zone)).and_then(|h| h.action).is_some_and(|a| a != Action::Passthru) {
                return Keys::Insecure;
            }
            if let Some((keys, until)) = self.keys.0.lock().unwrap_or_else(|e| e.into_inner()).get(&zone)
                && *until > now
            {
                return keys.clone();
            }
            if depth > MAX_DEPTH {
                return Keys::Bogus("the chain of trust is too deep".into());
            }
            let (keys, lifetime) = self.find_keys(&zone, policy, depth).await;
            let ttl = if matches!(keys, Keys::Bogus(_)) { BOGUS_TTL } else { lifetime.min(KEYS_TTL) };
            if let Keys::Bogus(e) = &keys {
                tracing::debug!(%zone, error = %e, "DNSSEC: the zone's keys are bogus");
            }
            self.keys.0.lock().unwrap_or_else(|e| e.into_inner()).insert(zone, (keys.clone(), now + ttl));
            keys
        })
    }

    /// The zone's keys and how long they may be kept: no longer than the DS and DNSKEY sets'
    /// TTLs and the DNSKEY signature's validity (RFC 4035 §5.3.3).
    async fn find_keys(&self, zone: &Name, policy: Option<&PolicySet>, depth: usize) -> (Keys, u64) {
        let mut lifetime = KEYS_TTL;
        let keys = self.find_keys_within(zone, policy, depth, &mut lifetime).await;
        (keys, lifetime)
    }

    async fn find_keys_within(
        &self,
        zone: &Name,
        policy: Option<&PolicySet>,
        depth: usize,
        lifetime: &mut u64,
    ) -> Keys {
        let anchors: Vec<&Record> = self.config.trust_anchors.iter().filter(|r| fqdn_lower(&r.name) == *zone).collect();
        let (ds, anchor_keys): (Vec<DS>, Vec<DNSKEY>) = if !anchors.is_empty() {
            (
                anchors.iter().filter_map(|r| as_ds(r)).cloned().collect(),
                anchors.iter().filter_map(|r| as_dnskey(r)).cloned().collect(),
            )
        } else {
            let ds_answer = match self.fetch(zone, RecordType::DS).await {
                Ok(a) => a,
                Err(e) => return Keys::Bogus(format!("the DS of {zone}: {e}")),
            };
            match self.validate(zone, RecordType::DS, &ds_answer, policy, depth + 1).await {
                Security::Bogus(e) => return Keys::Bogus(format!("the DS of {zone}: {e}")),
                Security::Insecure | Security::Unchecked => return Keys::Insecure,
                Security::Secure => {}
            }
            let ds: Vec<DS> =
                ds_answer.answers.iter().filter(|r| fqdn_lower(&r.name) == *zone).filter_map(as_ds).cloned().collect();
            if ds.is_empty() {
                return if delegation_without_ds(zone, &ds_answer) { Keys::Insecure } else { Keys::NotACut };
            }
            *lifetime = (*lifetime).min(min_ttl(&ds_answer.answers, zone, RecordType::DS));
            (strongest_digests(ds), Vec::new())
        };
        // RFC 4035 §5.2: a zone whose DS (or anchor) names only algorithms not implemented
        // here is treated as insecure.
        let supported = ds.iter().map(DS::algorithm).chain(anchor_keys.iter().map(Verifier::algorithm));
        if !supported.clone().any(implemented) {
            return Keys::Insecure;
        }
        let key_answer = match self.fetch(zone, RecordType::DNSKEY).await {
            Ok(a) => a,
            Err(e) => return Keys::Bogus(format!("the DNSKEY of {zone}: {e}")),
        };
        let keys: Vec<DNSKEY> =
            key_answer.answers.iter().filter(|r| fqdn_lower(&r.name) == *zone).filter_map(as_dnskey).cloned().collect();
        // The keys a DS (or an anchor) vouches for.
        let entry: Vec<DNSKEY> = keys
            .iter()
            .filter(|k| {
                implemented(Verifier::algorithm(*k)) && anchor_keys.iter().any(|a| same_key(a, k))
                    || implemented(Verifier::algorithm(*k))
                        && ds
                            .iter()
                            .any(|d| d.algorithm() == Verifier::algorithm(*k) && d.covers(zone, k).unwrap_or(false))
            })
            .cloned()
            .collect();
        if entry.is_empty() {
            return Keys::Bogus(format!("no DNSKEY of {zone} matches its DS or trust anchor"));
        }
        let now = self.validation_now();
        let mut why = format!("the DNSKEY set of {zone} is not signed");
        for sig in key_answer.answers.iter().filter_map(|r| signature_over(r, zone, RecordType::DNSKEY)) {
            match verify(sig, zone, &key_answer.answers, &entry, now) {
                Ok(()) => {
                    let usable = keys.into_iter().filter(|k| k.zone_key() && !k.revoke()).collect();
                    let valid_for = u64::from(sig.input().sig_expiration.get().wrapping_sub(now));
                    let ttl = min_ttl(&key_answer.answers, zone, RecordType::DNSKEY);
                    *lifetime = (*lifetime).min(ttl).min(valid_for);
                    return Keys::Secure(usable);
                }
                Err(e) => why = format!("the DNSKEY set of {zone}: {e}"),
            }
        }
        Keys::Bogus(why)
    }

    /// Keeps the DS of a delegation, or its NSEC/NSEC3 proof of none, with their signatures,
    /// from the referral to `child` (RFC 4035 §3.1.4): the DS need not be asked for then.
    pub(super) fn keep_delegation_proof(&self, child: &Name, referral: &hickory_proto::op::Message) {
        if !self.validates() {
            return;
        }
        let proof: Vec<Record> = referral
            .authorities
            .iter()
            .filter(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::DS(_) | DNSSECRData::NSEC(_) | DNSSECRData::NSEC3(_)) => true,
                RData::DNSSEC(DNSSECRData::RRSIG(sig)) => {
                    matches!(sig.input().type_covered, RecordType::DS | RecordType::NSEC | RecordType::NSEC3)
                }
                _ => false,
            })
            .cloned()
            .collect();
        if proof.is_empty() {
            return;
        }
        let child = fqdn_lower(child);
        let (answers, authority): (Vec<Record>, Vec<Record>) = proof.into_iter().partition(|r| {
            fqdn_lower(&r.name) == child
                && (r.record_type() == RecordType::DS
                    || matches!(&r.data, RData::DNSSEC(DNSSECRData::RRSIG(s)) if s.input().type_covered == RecordType::DS))
        });
        let ttl = answers.iter().chain(&authority).map(|r| u64::from(r.ttl)).min().unwrap_or(0);
        let answer = Answer {
            rcode: ResponseCode::NoError,
            answers,
            authority,
            additional: vec![],
            security: Security::Unchecked,
        };
        let until = self.clock.now() + ttl;
        self.keys.1.lock().unwrap_or_else(|e| e.into_inner()).insert(child, (answer, until));
    }

    /// An answer for the validator's own lookups: what a referral said (DS), from the cache,
    /// or iterated (not cached, not validated here: the caller does).
    async fn fetch(&self, name: &Name, rtype: RecordType) -> Result<Answer, super::ResolveError> {
        let now = self.clock.now();
        if rtype == RecordType::DS
            && let Some((a, until)) = self.keys.1.lock().unwrap_or_else(|e| e.into_inner()).get(&fqdn_lower(name))
            && *until > now
        {
            return Ok(a.clone());
        }
        if let Some(a) = self.cache.get(name, rtype, now) {
            return Ok(a);
        }
        let mut trace = Trace { policy: None, hit: None, queries: 0 };
        self.iterate_chain(name, rtype, &mut trace, 0).await
    }
}

/// The closest encloser whose wildcard expanded `owner`'s `rtype` set: the name its RRSIG's
/// label count keeps (RFC 4034 §3.1.3), when that is fewer labels than the owner has.
fn wildcard_closest_encloser(owner: &Name, rtype: RecordType, records: &[Record]) -> Option<Name> {
    let labels = records.iter().find_map(|r| signature_over(r, owner, rtype)).map(|s| s.input().num_labels)?;
    let own = owner.num_labels() - u8::from(owner.is_wildcard());
    (labels < own).then(|| owner.trim_to(usize::from(labels)))
}

/// The NSEC `r` (`n`) spans `name`: its owner sorts before and its next name after (the last
/// NSEC of a zone points back at the apex).
fn nsec_covers(r: &Record, n: &NSEC, name: &Name) -> bool {
    let owner = fqdn_lower(&r.name);
    let next = fqdn_lower(n.next_domain_name());
    owner < *name && (*name < next || next <= owner)
}

/// The deepest name that is an ancestor of `name` (strictly) and at or above `other`.
fn deepest_common_ancestor(name: &Name, other: &Name) -> Name {
    let mut ancestor = name.base_name();
    while !ancestor.is_root() && !ancestor.zone_of(other) {
        ancestor = ancestor.base_name();
    }
    ancestor
}

/// The smallest TTL of `owner`'s `rtype` set in `records`.
fn min_ttl(records: &[Record], owner: &Name, rtype: RecordType) -> u64 {
    records
        .iter()
        .filter(|r| r.record_type() == rtype && fqdn_lower(&r.name) == *owner)
        .map(|r| u64::from(r.ttl))
        .min()
        .unwrap_or(0)
}

/// The DS records to trust: SHA-1 digests are ignored when the set has a stronger one this
/// resolver computes (RFC 4509 §3), so that a forged key cannot ride on the weaker digest.
fn strongest_digests(ds: Vec<DS>) -> Vec<DS> {
    let strong = |d: &DS| d.digest_type() != DigestType::SHA1 && d.digest_type().is_supported();
    if ds.iter().any(strong) { ds.into_iter().filter(strong).collect() } else { ds }
}

/// True when the CNAME of `owner` in `answers` is what a DNAME in them makes of it.
fn from_dname(owner: &Name, answers: &[Record]) -> bool {
    let Some(target) = answers.iter().find_map(|r| match &r.data {
        RData::CNAME(t) if fqdn_lower(&r.name) == *owner => Some(fqdn_lower(&t.0)),
        _ => None,
    }) else {
        return false;
    };
    answers.iter().any(|r| match dname_target(r) {
        Some(d) => {
            let from = fqdn_lower(&r.name);
            if from == *owner || !from.zone_of(owner) {
                return false;
            }
            let prefix: Vec<&[u8]> =
                owner.iter().take(owner.num_labels() as usize - from.num_labels() as usize).collect();
            Name::from_labels(prefix)
                .ok()
                .and_then(|p| p.append_domain(&d).ok())
                .is_some_and(|n| fqdn_lower(&n) == target)
        }
        _ => false,
    })
}

/// The target of a DNAME record (type 39, which hickory keeps as unknown data: the name in
/// uncompressed wire form, RFC 6672 §2.5).
pub(super) fn dname_target(r: &Record) -> Option<Name> {
    use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
    match &r.data {
        RData::Unknown { code, rdata } if u16::from(*code) == 39 => {
            Name::read(&mut BinDecoder::new(&rdata.anything)).ok().map(|n| fqdn_lower(&n))
        }
        _ => None,
    }
}

fn signature_over<'r>(r: &'r Record, owner: &Name, rtype: RecordType) -> Option<&'r RRSIG> {
    match &r.data {
        RData::DNSSEC(DNSSECRData::RRSIG(sig))
            if sig.input().type_covered == rtype && fqdn_lower(&r.name) == *owner =>
        {
            Some(sig)
        }
        _ => None,
    }
}

fn as_ds(r: &Record) -> Option<&DS> {
    match &r.data {
        RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds),
        _ => None,
    }
}

fn as_dnskey(r: &Record) -> Option<&DNSKEY> {
    match &r.data {
        RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k),
        _ => None,
    }
}

/// Algorithms whose signatures are verified here: hickory's, and DSA.
fn implemented(algorithm: Algorithm) -> bool {
    algorithm.is_supported() || super::dsa::is_dsa(algorithm)
}

fn same_key(a: &DNSKEY, b: &DNSKEY) -> bool {
    a.public_key().algorithm() == b.public_key().algorithm()
        && a.public_key().public_bytes() == b.public_key().public_bytes()
}

/// `sig` over the set of `owner` in `records`, by one of `keys`, valid at `now` (RFC 4035
/// §5.3; times in serial number arithmetic, RFC 4034 §3.1.5).
fn verify(sig: &RRSIG, owner: &Name, records: &[Record], keys: &[DNSKEY], now: u32) -> Result<(), String> {
    let input = sig.input();
    if (now.wrapping_sub(input.sig_inception.get()) as i32) < 0 {
        return Err("the signature is not valid yet".into());
    }
    if (input.sig_expiration.get().wrapping_sub(now) as i32) < 0 {
        return Err("the signature has expired".into());
    }
    if usize::from(input.num_labels) > owner.num_labels() as usize {
        return Err("the signature's label count is larger than its owner's".into());
    }
    // hickory asserts (in debug builds) that it is only handed algorithms it implements.
    if !implemented(input.algorithm) {
        return Err(format!("algorithm {} is not supported", input.algorithm));
    }
    let mut tried = false;
    for key in keys {
        if Verifier::algorithm(key) != input.algorithm || key.calculate_key_tag().ok() != Some(input.key_tag) {
            continue;
        }
        tried = true;
        let verified = if super::dsa::is_dsa(input.algorithm) {
            TBS::from_input(owner, DNSClass::IN, input, records.iter())
                .map_err(|e| e.to_string())
                .and_then(|tbs| super::dsa::verify(key.public_key().public_bytes(), tbs.as_ref(), sig.sig()))
        } else {
            key.verify_rrsig(owner, DNSClass::IN, sig, records.iter()).map_err(|e| e.to_string()).or_else(|e| {
                // ring takes no RSA modulus below 1024 bits; RFC 3110 allows 512.
                if !super::rsa_short::is_rsa(input.algorithm) {
                    return Err(e);
                }
                let tbs = TBS::from_input(owner, DNSClass::IN, input, records.iter()).map_err(|e| e.to_string())?;
                super::rsa_short::verify(input.algorithm, key.public_key().public_bytes(), tbs.as_ref(), sig.sig())
            })
        };
        if verified.is_ok() {
            return Ok(());
        }
    }
    Err(if tried { "the signature does not verify" } else { "no key of the signer has the signature's tag" }.into())
}

/// The DS answer for `zone` (secure, without DS) proves a delegation without DS: its NSEC
/// at `zone` shows NS and not SOA, or its NSEC3 does, or an opt-out NSEC3 covers the name.
fn delegation_without_ds(zone: &Name, answer: &Answer) -> bool {
    let cut = |has: &dyn Fn(RecordType) -> bool| has(RecordType::NS) && !has(RecordType::SOA) && !has(RecordType::DS);
    for r in &answer.authority {
        match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC(nsec)) if fqdn_lower(&r.name) == *zone => {
                return cut(&|t| nsec.type_set().contains(t));
            }
            _ => {}
        }
    }
    let nsec3: Vec<(&Record, &NSEC3)> = nsec3s(&answer.authority);
    if let Some(hash) = nsec3.first().and_then(|(_, n)| hash_of(n, zone)) {
        for (r, n) in &nsec3 {
            if owner_hash(r).as_deref() == Some(&hash[..]) {
                return cut(&|t| n.type_set().contains(t));
            }
        }
        return nsec3.iter().any(|(r, n)| n.opt_out() && covers_hash(r, n, &hash));
    }
    false
}

/// An NSEC or NSEC3 proof in `authority` that `name` does not exist (NXDOMAIN) or has no
/// `qtype` (NODATA).
fn denied(name: &Name, qtype: RecordType, nxdomain: bool, authority: &[Record]) -> bool {
    let nsecs: Vec<(&Record, &NSEC)> = authority
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC(n)) => Some((r, n)),
            _ => None,
        })
        .collect();
    for (r, n) in &nsecs {
        let owner = fqdn_lower(&r.name);
        if !nxdomain && owner == *name {
            let types = n.type_set();
            return !types.contains(qtype) && !types.contains(RecordType::CNAME);
        }
        if nxdomain && nsec_covers(r, n, name) {
            // RFC 4035 §5.4: and no wildcard at the closest encloser (the deepest ancestor
            // the name shares with the covering NSEC's owner or next name) could answer.
            let next = fqdn_lower(n.next_domain_name());
            let ce = [deepest_common_ancestor(name, &owner), deepest_common_ancestor(name, &next)]
                .into_iter()
                .max_by_key(Name::num_labels)
                .unwrap_or_else(Name::root);
            let Ok(wildcard) = ce.prepend_label("*") else { return false };
            return nsecs.iter().any(|(w, wn)| nsec_covers(w, wn, &wildcard));
        }
    }
    let nsec3 = nsec3s(authority);
    let Some((_, first)) = nsec3.first() else { return false };
    let matching = |n: &Name| -> Option<&NSEC3> {
        let hash = hash_of(first, n)?;
        nsec3.iter().find(|(r, _)| owner_hash(r).as_deref() == Some(&hash[..])).map(|(_, x)| *x)
    };
    let covered = |n: &Name| -> Option<&NSEC3> {
        let hash = hash_of(first, n)?;
        nsec3.iter().find(|(r, x)| covers_hash(r, x, &hash)).map(|(_, x)| *x)
    };
    if !nxdomain {
        if let Some(n) = matching(name) {
            return !n.type_set().contains(qtype) && !n.type_set().contains(RecordType::CNAME);
        }
        // RFC 5155 §8.6: a DS NODATA under an opt-out span.
        return qtype == RecordType::DS && covered(name).is_some_and(NSEC3::opt_out);
    }
    // The closest encloser matches and the next closer name is covered (RFC 5155 §8.4).
    let mut next_closer = name.clone();
    let mut ce = name.base_name();
    loop {
        if matching(&ce).is_some() {
            // And the wildcard at the closest encloser is covered: it does not exist either.
            let no_wildcard = ce.prepend_label("*").ok().is_some_and(|w| covered(&w).is_some());
            return covered(&next_closer).is_some() && no_wildcard;
        }
        if ce.is_root() {
            return false;
        }
        next_closer = ce.clone();
        ce = ce.base_name();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(digest: DigestType) -> DS {
        DS::new(1, Algorithm::RSASHA256, digest, vec![0; 20])
    }

    #[test]
    fn sha1_ds_records_are_ignored_beside_a_sha256_one() {
        let kept = strongest_digests(vec![ds(DigestType::SHA1), ds(DigestType::SHA256)]);
        assert_eq!(kept.iter().map(DS::digest_type).collect::<Vec<_>>(), [DigestType::SHA256]);
        // Alone, or beside a digest this resolver does not compute, SHA-1 is all there is.
        let kept = strongest_digests(vec![ds(DigestType::SHA1), ds(DigestType::Unknown(99))]);
        assert_eq!(kept.len(), 2);
    }

    fn records(text: &str) -> Vec<Record> {
        crate::zone::master::parse_with_default_ttl(text, &Name::root(), None, Some(300))
            .unwrap()
            .into_iter()
            .map(|p| p.record)
            .collect()
    }

    #[test]
    fn a_signature_with_fewer_labels_than_its_owner_marks_a_wildcard_expansion() {
        let answer = records(
            "x.w.example. A 192.0.2.1\nx.w.example. RRSIG A 8 2 300 20300101000000 20200101000000 1 example. AAAA",
        );
        let owner = Name::from_ascii("x.w.example.").unwrap();
        assert_eq!(
            wildcard_closest_encloser(&owner, RecordType::A, &answer),
            Some(Name::from_ascii("w.example.").unwrap())
        );
        let plain =
            records("w.example. A 192.0.2.1\nw.example. RRSIG A 8 2 300 20300101000000 20200101000000 1 example. AAAA");
        assert_eq!(wildcard_closest_encloser(&Name::from_ascii("w.example.").unwrap(), RecordType::A, &plain), None);
    }

    #[test]
    fn an_nsec_covers_the_names_between_its_owner_and_next_name() {
        let nsec = records("a.example. NSEC d.example. A RRSIG NSEC").remove(0);
        let RData::DNSSEC(DNSSECRData::NSEC(n)) = &nsec.data else { panic!("an NSEC") };
        assert!(nsec_covers(&nsec, n, &Name::from_ascii("b.example.").unwrap()));
        assert!(!nsec_covers(&nsec, n, &Name::from_ascii("e.example.").unwrap()));
        assert!(!nsec_covers(&nsec, n, &Name::from_ascii("a.example.").unwrap()));
    }

    #[test]
    fn a_name_error_needs_the_proof_that_no_wildcard_answers_either() {
        let name = Name::from_ascii("b.example.").unwrap();
        // a.example. covers b.example.; the closest encloser is example., whose wildcard
        // *.example. sorts between example. and a.example.
        let only_name = records("a.example. NSEC d.example. A RRSIG NSEC");
        assert!(!denied(&name, RecordType::A, true, &only_name));
        let both = records("a.example. NSEC d.example. A RRSIG NSEC\nexample. NSEC a.example. SOA NS RRSIG NSEC");
        assert!(denied(&name, RecordType::A, true, &both));
    }

    #[test]
    fn a_sets_ttl_is_its_smallest() {
        let records = crate::zone::master::parse_with_default_ttl(
            "example. 300 IN DS 1 8 2 00\nexample. 100 IN DS 2 8 2 00\nother. 10 IN DS 3 8 2 00",
            &Name::root(),
            None,
            None,
        )
        .unwrap()
        .into_iter()
        .map(|p| p.record)
        .collect::<Vec<_>>();
        assert_eq!(min_ttl(&records, &Name::from_ascii("example.").unwrap(), RecordType::DS), 100);
    }
}
