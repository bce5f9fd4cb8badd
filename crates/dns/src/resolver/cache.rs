//! The answer cache: whole answers (with their CNAME chain) per name and type, counted down
//! from the smallest TTL in them; negative answers for the SOA's negative TTL (RFC 2308 §5),
//! NXDOMAIN for every type of the name (RFC 2308 §5: "the name does not exist").

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// Seconds on some monotonic scale; the replay runner moves its own forward.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> u64;
    /// The same in milliseconds, for what is timed finer than TTLs.
    fn now_millis(&self) -> u64 {
        self.now() * 1000
    }
}

pub struct SystemClock(Instant);

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        self.0.elapsed().as_secs()
    }
    fn now_millis(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A clock moved by hand (milliseconds inside).
#[derive(Default)]
pub struct ManualClock(pub AtomicU64);

impl ManualClock {
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }

    pub fn advance_millis(&self, millis: u64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst) / 1000
    }
    fn now_millis(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A resolved answer as the cache keeps and returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub rcode: ResponseCode,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    /// Address records of the names in the other sections (glue), as the server sent them.
    pub additional: Vec<Record>,
    /// What DNSSEC validation found.
    pub security: super::validate::Security,
}

impl Answer {
    /// The CNAMEs up to a policy trigger met during resolution.
    pub fn hit(chain: Vec<Record>) -> Answer {
        Answer {
            rcode: ResponseCode::NoError,
            answers: chain,
            authority: vec![],
            additional: vec![],
            security: Default::default(),
        }
    }
}

struct Entry {
    stored: u64,
    ttl: u32,
    answer: Answer,
}

pub struct Cache {
    entries: Mutex<HashMap<(Name, RecordType), Entry>>,
    max_entries: usize,
    /// TTLs above this are cut (RFC 8767 §4 suggests 7 days at most).
    max_ttl: u32,
    /// Negative answers are kept at most this long (RFC 2308 §5: 1-3 hours).
    max_negative_ttl: u32,
}

impl Cache {
    pub fn new(max_entries: usize) -> Cache {
        Cache { entries: Mutex::new(HashMap::new()), max_entries, max_ttl: 86_400, max_negative_ttl: 3_600 }
    }

    pub fn get(&self, name: &Name, qtype: RecordType, now: u64) -> Option<Answer> {
        self.get_aged(name, qtype, now).map(|(a, _)| a)
    }

    /// The answer and whether it is in the last tenth of its TTL (due for a prefetch).
    pub fn get_aged(&self, name: &Name, qtype: RecordType, now: u64) -> Option<(Answer, bool)> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let name = crate::zone::fqdn_lower(name);
        for key in [(name.clone(), qtype), (name, RecordType::ZERO)] {
            let Some(entry) = entries.get(&key) else { continue };
            let age = now.saturating_sub(entry.stored);
            if age >= u64::from(entry.ttl) {
                entries.remove(&key);
                continue;
            }
            let age = age as u32;
            let mut answer = entry.answer.clone();
            for r in answer.answers.iter_mut().chain(answer.authority.iter_mut()).chain(answer.additional.iter_mut()) {
                r.ttl = r.ttl.saturating_sub(age);
            }
            let due = entry.ttl - age <= entry.ttl / 10;
            return Some((answer, due));
        }
        None
    }

    pub fn insert(&self, name: &Name, qtype: RecordType, answer: &Answer, now: u64) {
        let negative = answer.answers.is_empty() || answer.rcode == ResponseCode::NXDomain;
        let ttl = if negative {
            // RFC 2308 §5: without an SOA a negative answer is not cached.
            let Some(ttl) = answer.authority.iter().find_map(negative_ttl) else { return };
            ttl.min(self.max_negative_ttl)
        } else {
            // As Unbound's message cache: the answer lives as long as its shortest record, in
            // whichever section; each record keeps its own TTL.
            let all = answer.answers.iter().chain(&answer.authority).chain(&answer.additional);
            all.map(|r| r.ttl).min().unwrap_or(0).min(self.max_ttl)
        };
        if ttl == 0 || !matches!(answer.rcode, ResponseCode::NoError | ResponseCode::NXDomain) {
            return;
        }
        let key_type = if answer.rcode == ResponseCode::NXDomain { RecordType::ZERO } else { qtype };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.max_entries {
            entries.retain(|_, e| now.saturating_sub(e.stored) < u64::from(e.ttl));
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        let mut answer = answer.clone();
        // RFC 2308 §5: a negative answer's records live as long as it; any TTL is cut at the
        // cache's maximum.
        let cap = if negative { ttl } else { self.max_ttl };
        for r in answer.answers.iter_mut().chain(answer.authority.iter_mut()).chain(answer.additional.iter_mut()) {
            r.ttl = r.ttl.min(cap);
        }
        entries.insert((crate::zone::fqdn_lower(name), key_type), Entry { stored: now, ttl, answer });
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// RFC 2308 §5: the lesser of the SOA's TTL and its MINIMUM field.
fn negative_ttl(r: &Record) -> Option<u32> {
    match &r.data {
        RData::SOA(soa) => Some(r.ttl.min(soa.minimum)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::rr::rdata::{A, SOA};

    use super::*;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    #[test]
    fn ttls_count_down_and_expire() {
        let cache = Cache::new(100);
        let a = Record::from_rdata(name("a.example."), 60, RData::A(A::new(192, 0, 2, 1)));
        let answer = Answer {
            rcode: ResponseCode::NoError,
            answers: vec![a],
            authority: vec![],
            additional: vec![],
            security: Default::default(),
        };
        cache.insert(&name("a.example."), RecordType::A, &answer, 100);
        assert_eq!(cache.get(&name("A.example."), RecordType::A, 110).unwrap().answers[0].ttl, 50);
        assert!(cache.get(&name("a.example."), RecordType::AAAA, 110).is_none());
        assert!(cache.get(&name("a.example."), RecordType::A, 160).is_none());
    }

    #[test]
    fn nxdomain_is_cached_for_every_type_with_the_soa_minimum() {
        let cache = Cache::new(100);
        let soa = SOA::new(name("ns.example."), name("h.example."), 1, 2, 3, 4, 30);
        let soa = Record::from_rdata(name("example."), 3600, RData::SOA(soa));
        let answer = Answer {
            rcode: ResponseCode::NXDomain,
            answers: vec![],
            authority: vec![soa],
            additional: vec![],
            security: Default::default(),
        };
        cache.insert(&name("x.example."), RecordType::A, &answer, 0);
        let hit = cache.get(&name("x.example."), RecordType::MX, 10).unwrap();
        assert_eq!(hit.rcode, ResponseCode::NXDomain);
        assert_eq!(hit.authority[0].ttl, 20);
        assert!(cache.get(&name("x.example."), RecordType::MX, 30).is_none());
    }
}
