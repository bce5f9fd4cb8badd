//! Finished authoritative answers, kept as wire messages per question (lower-cased name,
//! type, EDNS flag and size limit), so that a repeated question costs a map lookup and a copy
//! instead of a decode, a zone lookup and an encode. Filled by the full path on first use;
//! each zone snapshot has its own, so a reload starts empty and never serves old data.

pub mod wire;

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::{Arc, RwLock};

use rustc_hash::FxHasher;
use serde_json::Value;

pub use wire::{PlainQuery, plain_query};

/// Enough for every name of a large municipal zone with a few types each; past it, new
/// questions are answered by the full path (random misses must not grow memory forever).
const MAX_ENTRIES: usize = 400_000;
const SHARDS: usize = 32;

type Hasher = BuildHasherDefault<FxHasher>;

/// One finished answer and what the query log says about it.
pub struct CachedAnswer {
    /// The whole response; id, RD, CD and the question name's case are patched per query.
    wire: Box<[u8]>,
    pub rcode: &'static str,
    pub flags: &'static [&'static str],
    pub answers: Vec<Value>,
    pub resolved: Vec<String>,
}

impl CachedAnswer {
    pub fn new(
        wire: Vec<u8>,
        rcode: &'static str,
        authoritative: bool,
        truncated: bool,
        answers: Vec<Value>,
        resolved: Vec<String>,
    ) -> CachedAnswer {
        let flags: &'static [&'static str] = match (authoritative, truncated) {
            (true, true) => &["AA", "TC"],
            (true, false) => &["AA"],
            (false, true) => &["TC"],
            (false, false) => &[],
        };
        CachedAnswer { wire: wire.into_boxed_slice(), rcode, flags, answers, resolved }
    }

    /// The answer to `query` (in `packet`): the stored message with the query's id, RD and CD
    /// flags and the question name exactly as the client wrote it (RFC 1035 §7.3, 0x20 case).
    pub fn reply_to(&self, query: &PlainQuery, packet: &[u8]) -> Vec<u8> {
        let mut reply = self.wire.to_vec();
        reply[..2].copy_from_slice(&query.id.to_be_bytes());
        reply[2] = (reply[2] & !0x01) | u8::from(query.recursion_desired);
        reply[3] = (reply[3] & !0x10) | if query.checking_disabled { 0x10 } else { 0 };
        let name = 12..12 + query.name_len;
        reply[name.clone()].copy_from_slice(&packet[name]);
        reply
    }
}

pub struct AnswerCache {
    shards: Vec<RwLock<HashMap<Box<[u8]>, Arc<CachedAnswer>, Hasher>>>,
    hasher: Hasher,
}

impl Default for AnswerCache {
    fn default() -> Self {
        AnswerCache { shards: (0..SHARDS).map(|_| RwLock::default()).collect(), hasher: Hasher::default() }
    }
}

impl AnswerCache {
    fn shard(&self, key: &[u8]) -> &RwLock<HashMap<Box<[u8]>, Arc<CachedAnswer>, Hasher>> {
        &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    pub fn get(&self, key: &[u8]) -> Option<Arc<CachedAnswer>> {
        // A poisoned shard only means a panic elsewhere while inserting; its map is intact.
        let shard = self.shard(key).read().unwrap_or_else(|p| p.into_inner());
        shard.get(key).cloned()
    }

    pub fn insert(&self, key: &[u8], answer: CachedAnswer) {
        let mut shard = self.shard(key).write().unwrap_or_else(|p| p.into_inner());
        if shard.len() < MAX_ENTRIES / SHARDS {
            shard.insert(key.into(), Arc::new(answer));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Transport;

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
        cache.insert(q1.key(), CachedAnswer::new(first.clone(), "NOERROR", true, false, vec![], vec![]));
        let q2 = plain_query(&second, Transport::Udp, 1232).unwrap();
        let reply = cache.get(q2.key()).unwrap().reply_to(&q2, &second);
        assert_eq!(reply, second);
    }
}
