//! Validated DNAME records kept for synthesis (RFC 6672 §3.2): a later name below a DNAME's
//! owner gets its CNAME made here, without asking the zone's servers again. Only DNAMEs that
//! validated as secure are kept: an unsigned one could redirect a whole subtree.

use std::collections::HashMap;
use std::sync::Mutex;

use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::zone::fqdn_lower;

/// DNAMEs kept at most; past it the expired ones go, then all.
const MAX_DNAMES: usize = 10_000;

#[derive(Default)]
pub struct Dnames(Mutex<HashMap<Name, Kept>>);

struct Kept {
    /// The DNAME and its signatures, TTLs as received.
    records: Vec<Record>,
    target: Name,
    stored: u64,
    ttl: u32,
}

impl Dnames {
    /// Keeps the DNAMEs of a secure answer's records, with their signatures.
    pub fn keep(&self, answers: &[Record], now: u64) {
        for d in answers {
            let Some(target) = super::validate::dname_target(d) else { continue };
            let owner = fqdn_lower(&d.name);
            let mut records = vec![d.clone()];
            records.extend(super::sections::signatures(answers, &owner, d.record_type()));
            let ttl = records.iter().map(|r| r.ttl).min().unwrap_or(0);
            if ttl == 0 {
                continue;
            }
            let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if kept.len() >= MAX_DNAMES {
                kept.retain(|_, k| k.stored + u64::from(k.ttl) > now);
                if kept.len() >= MAX_DNAMES {
                    kept.clear();
                }
            }
            kept.insert(owner, Kept { records, target, stored: now, ttl });
        }
    }

    /// The kept DNAME above `name` (with its signatures, TTLs counted down) and the CNAME it
    /// makes of `name` (RFC 6672 §3.1, with the DNAME's TTL), or `None`.
    pub fn synthesize(&self, name: &Name, now: u64) -> Option<(Vec<Record>, Name)> {
        let name = fqdn_lower(name);
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if kept.is_empty() {
            return None;
        }
        let mut owner = name.clone();
        while !owner.is_root() {
            owner = owner.base_name();
            let Some(k) = kept.get(&owner) else { continue };
            let age = now.saturating_sub(k.stored);
            if age >= u64::from(k.ttl) {
                return None;
            }
            let left = k.ttl - age as u32;
            let prefix: Vec<&[u8]> = name.iter().take(usize::from(name.num_labels() - owner.num_labels())).collect();
            // A name too long for the target is not synthesized (RFC 6672 §2.2 YXDOMAIN).
            let target = Name::from_labels(prefix).ok()?.append_domain(&k.target).ok()?;
            let mut records: Vec<Record> = k.records.clone();
            for r in &mut records {
                r.ttl = r.ttl.min(left);
            }
            let mut cname = Record::from_rdata(name.clone(), left, RData::CNAME(CNAME(target.clone())));
            cname.dns_class = records[0].dns_class;
            records.push(cname);
            return Some((records, fqdn_lower(&target)));
        }
        None
    }
}

/// True for the DNAME record type (39), which hickory keeps as unknown data.
pub fn is_dname(rtype: RecordType) -> bool {
    u16::from(rtype) == 39
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::resolver::tests::records;

    #[test]
    fn a_kept_dname_makes_the_cname_of_a_name_below_it_until_its_ttl_runs_out() {
        let dnames = Dnames::default();
        dnames.keep(&records("old.example. 100 IN DNAME new.example."), 0);
        let (made, target) = dnames.synthesize(&Name::from_str("a.b.old.example.").unwrap(), 10).expect("synthesized");
        assert_eq!(target, Name::from_str("a.b.new.example.").unwrap());
        assert_eq!(made.len(), 2);
        assert!(made.iter().all(|r| r.ttl == 90), "{made:?}");
        assert_eq!(made[1].record_type(), RecordType::CNAME);
        assert!(dnames.synthesize(&Name::from_str("old.example.").unwrap(), 10).is_none());
        assert!(dnames.synthesize(&Name::from_str("a.old.example.").unwrap(), 100).is_none());
    }
}
