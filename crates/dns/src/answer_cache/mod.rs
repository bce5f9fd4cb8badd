//! Finished answers, kept as wire messages per question (lower-cased name, type, EDNS flag and
//! size limit; the tenant too for recursive ones), so that a repeated question costs a map
//! lookup and a copy instead of a decode, a lookup and an encode. Filled by the full path on
//! first use; each snapshot has its own, so a reload (zones, policy zones) starts empty and
//! never serves old data. Recursive answers count their TTLs down and expire with the
//! shortest of them, as the resolver's cache does.

pub mod wire;

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::{Arc, RwLock};

use rustc_hash::FxHasher;

use crate::query_log::{AnswerLog, HeaderFlags, LoggedAnswers};

pub use wire::{PlainQuery, plain_query, ttl_fields};

/// Enough for every name of a large municipal zone with a few types each; past it, new
/// questions are answered by the full path (random misses must not grow memory forever).
const MAX_ENTRIES: usize = 400_000;
const SHARDS: usize = 32;

type Hasher = BuildHasherDefault<FxHasher>;
type Shard = RwLock<HashMap<Box<[u8]>, Arc<CachedAnswer>, Hasher>>;

/// One finished answer and what the query log says about it.
pub struct CachedAnswer {
    /// The whole response (id, RD, CD and the question name's case are patched per query),
    /// then the text of its answers for the query log: one allocation, so that a query reads
    /// both from neighbouring cache lines.
    bytes: Box<[u8]>,
    wire_len: usize,
    /// Where the log's answers end in the log text.
    answers_end: usize,
    pub rcode: &'static str,
    /// The answer's header flags for the log (RD is the query's).
    pub flags: HeaderFlags,
    /// For recursive answers: when stored (resolver clock, seconds), the TTL fields to count
    /// down, and how long the answer lives (its shortest TTL).
    aging: Option<Aging>,
    /// A heuristic finding about the question name (recursive answers), raised per query.
    pub finding: Option<crate::detect::Finding>,
}

struct Aging {
    stored: u64,
    lifetime: u32,
    ttls: Box<[(u32, u32)]>,
}

impl CachedAnswer {
    pub fn new(wire: Vec<u8>, rcode: &'static str, flags: HeaderFlags, log: AnswerLog) -> CachedAnswer {
        let (text, answers_end) = log.into_parts();
        let wire_len = wire.len();
        let mut bytes = wire;
        bytes.extend_from_slice(text.as_bytes());
        CachedAnswer {
            bytes: bytes.into_boxed_slice(),
            wire_len,
            answers_end,
            rcode,
            flags,
            aging: None,
            finding: None,
        }
    }

    fn wire(&self) -> &[u8] {
        &self.bytes[..self.wire_len]
    }

    /// The answer records as the query log writes them.
    pub fn log(&self) -> LoggedAnswers<'_> {
        LoggedAnswers::split(&self.bytes[self.wire_len..], self.answers_end)
    }

    /// A recursive answer stored at `now`: it ages and expires. `None` when the message's
    /// records cannot be walked or it would not live a second.
    pub fn aging(mut self, now: u64) -> Option<CachedAnswer> {
        let ttls = ttl_fields(self.wire())?;
        let lifetime = ttls.iter().map(|t| t.1).min()?;
        if lifetime == 0 {
            return None;
        }
        self.aging = Some(Aging { stored: now, lifetime, ttls: ttls.into_boxed_slice() });
        Some(self)
    }

    /// Lets the answer go at 90% of its lifetime, when the resolver would refresh it
    /// (prefetch): the question then reaches the resolver while it still has the answer.
    pub fn until_prefetch(mut self) -> CachedAnswer {
        if let Some(a) = &mut self.aging {
            a.lifetime -= a.lifetime / 10;
        }
        self
    }

    /// Seconds since stored, or `None` once expired (never for authoritative answers).
    pub fn age(&self, now: u64) -> Option<u32> {
        match &self.aging {
            None => Some(0),
            Some(a) => {
                let age = now.saturating_sub(a.stored);
                (age < u64::from(a.lifetime)).then_some(age as u32)
            }
        }
    }

    /// The answer to `query` (in `packet`): the stored message with the query's id, RD and CD
    /// flags and the question name exactly as the client wrote it (RFC 1035 §7.3, 0x20 case).
    pub fn reply_to(&self, query: &PlainQuery, packet: &[u8], age: u32) -> Vec<u8> {
        let mut reply = self.wire().to_vec();
        if let Some(aging) = self.aging.as_ref().filter(|_| age > 0) {
            for &(at, ttl) in aging.ttls.iter() {
                let at = at as usize;
                reply[at..at + 4].copy_from_slice(&ttl.saturating_sub(age).to_be_bytes());
            }
        }
        reply[..2].copy_from_slice(&query.id.to_be_bytes());
        reply[2] = (reply[2] & !0x01) | u8::from(query.recursion_desired);
        reply[3] = (reply[3] & !0x10) | if query.checking_disabled { 0x10 } else { 0 };
        let name = 12..12 + query.name_len;
        reply[name.clone()].copy_from_slice(&packet[name]);
        reply
    }
}

pub struct AnswerCache {
    shards: Vec<Shard>,
    hasher: Hasher,
}

impl Default for AnswerCache {
    fn default() -> Self {
        AnswerCache { shards: (0..SHARDS).map(|_| RwLock::default()).collect(), hasher: Hasher::default() }
    }
}

impl AnswerCache {
    fn shard(&self, key: &[u8]) -> &Shard {
        &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    pub fn get(&self, key: &[u8]) -> Option<Arc<CachedAnswer>> {
        // A poisoned shard only means a panic elsewhere while inserting; its map is intact.
        let shard = self.shard(key).read().unwrap_or_else(|p| p.into_inner());
        shard.get(key).cloned()
    }

    pub fn insert(&self, key: &[u8], answer: CachedAnswer) {
        let mut shard = self.shard(key).write().unwrap_or_else(|p| p.into_inner());
        // Full: start the shard over (answers past their TTL or never asked again go too).
        if shard.len() >= MAX_ENTRIES / SHARDS {
            shard.clear();
        }
        shard.insert(key.into(), Arc::new(answer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Transport;

    fn aa() -> HeaderFlags {
        HeaderFlags { authoritative: true, ..HeaderFlags::default() }
    }

    #[test]
    fn a_stored_answer_takes_the_id_flags_and_case_of_each_query() {
        let first = {
            let mut m = hickory_proto::op::Message::query();
            m.add_query(hickory_proto::op::Query::query(
                hickory_proto::rr::Name::from_ascii("www.example.jp.").unwrap(),
                hickory_proto::rr::RecordType::A,
            ));
            m.to_vec().unwrap()
        };
        let mut second = first.clone();
        second[0] = 0xab;
        second[2] |= 0x01;
        second[13] = b'W';
        let cache = AnswerCache::default();
        let q1 = plain_query(&first, Transport::Udp, 1232).unwrap();
        cache.insert(q1.key(), CachedAnswer::new(first.clone(), "NOERROR", aa(), AnswerLog::none()));
        let q2 = plain_query(&second, Transport::Udp, 1232).unwrap();
        let reply = cache.get(q2.key()).unwrap().reply_to(&q2, &second, 0);
        assert_eq!(reply, second);
    }

    #[test]
    fn recursive_answers_count_their_ttls_down_and_expire() {
        let mut m = hickory_proto::op::Message::query();
        let name = hickory_proto::rr::Name::from_ascii("a.example.").unwrap();
        m.add_query(hickory_proto::op::Query::query(name.clone(), hickory_proto::rr::RecordType::A));
        let query = m.to_vec().unwrap();
        m.metadata.message_type = hickory_proto::op::MessageType::Response;
        m.answers.push(hickory_proto::rr::Record::from_rdata(
            name,
            60,
            hickory_proto::rr::RData::A(hickory_proto::rr::rdata::A::new(192, 0, 2, 1)),
        ));
        m.set_edns(hickory_proto::op::Edns::new());
        let wire = m.to_vec().unwrap();
        let cached = CachedAnswer::new(wire.clone(), "NOERROR", aa(), AnswerLog::none()).aging(100).unwrap();
        assert_eq!(cached.age(110), Some(10));
        assert_eq!(cached.age(160), None);
        let q = plain_query(&query, Transport::Udp, 1232).unwrap();
        let reply = cached.reply_to(&q, &query, 10);
        let decoded = hickory_proto::op::Message::from_vec(&reply).unwrap();
        assert_eq!(decoded.answers[0].ttl, 50);
        assert!(decoded.edns.is_some(), "the OPT record is left alone");
    }
}
