//! Response rate limiting for UDP (as BIND's RRL, per client network): each client network
//! (an IPv4 /24 or IPv6 /56 by default) may get `responses_per_second` answers a second, with
//! a second's worth as burst. Past that, answers are dropped, except every `slip`-th, which
//! goes out empty with TC set so that a real client retries over TCP (where no limit applies,
//! and a spoofed source cannot follow). Keeps a reflection attack through mamori small.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use ipnet::IpNet;

const SHARDS: usize = 16;
/// Client networks remembered per shard; past that, those with full buckets are forgotten.
const MAX_PER_SHARD: usize = 16_384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Answer,
    /// An empty answer with TC.
    Slip,
    Drop,
}

#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub responses_per_second: u32,
    /// Every n-th limited answer goes out truncated; never with 0.
    pub slip: u32,
    pub ipv4_prefix: u8,
    pub ipv6_prefix: u8,
    /// Never limited.
    pub exempt: Vec<IpNet>,
}

struct Bucket {
    /// Thousandths of an answer.
    tokens: u64,
    /// Milliseconds since the limiter started.
    last: u64,
    limited: u32,
}

pub struct RateLimiter {
    settings: RateLimitSettings,
    start: Instant,
    shards: Vec<Mutex<HashMap<IpAddr, Bucket>>>,
}

impl RateLimiter {
    pub fn new(settings: RateLimitSettings) -> RateLimiter {
        RateLimiter { settings, start: Instant::now(), shards: (0..SHARDS).map(|_| Mutex::default()).collect() }
    }

    /// The client's network, as counted.
    fn network(&self, ip: IpAddr) -> IpAddr {
        let net = match ip {
            IpAddr::V4(_) => IpNet::new(ip, self.settings.ipv4_prefix.min(32)),
            IpAddr::V6(_) => IpNet::new(ip, self.settings.ipv6_prefix.min(128)),
        };
        net.map_or(ip, |n| n.trunc().addr())
    }

    /// Whether an answer to `ip` may go out now.
    pub fn check(&self, ip: IpAddr) -> Verdict {
        self.check_at(ip, self.start.elapsed().as_millis() as u64)
    }

    /// [`RateLimiter::check`] at `now` milliseconds.
    pub fn check_at(&self, ip: IpAddr, now: u64) -> Verdict {
        let ip = crate::server::unmap(ip);
        if self.settings.exempt.iter().any(|n| n.contains(&ip)) {
            return Verdict::Answer;
        }
        let rate = u64::from(self.settings.responses_per_second.max(1));
        let capacity = rate * 1000;
        let key = self.network(ip);
        let shard = {
            use std::hash::BuildHasher;
            (rustc_hash::FxBuildHasher.hash_one(key) as usize) % SHARDS
        };
        let mut map = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_PER_SHARD && !map.contains_key(&key) {
            map.retain(|_, b| b.tokens.saturating_add(now.saturating_sub(b.last).saturating_mul(rate)) < capacity);
            if map.len() >= MAX_PER_SHARD {
                // Every network is busy: the newcomer is not tracked (answered).
                return Verdict::Answer;
            }
        }
        let bucket = map.entry(key).or_insert(Bucket { tokens: capacity, last: now, limited: 0 });
        bucket.tokens =
            bucket.tokens.saturating_add(now.saturating_sub(bucket.last).saturating_mul(rate)).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1000 {
            bucket.tokens -= 1000;
            return Verdict::Answer;
        }
        bucket.limited = bucket.limited.wrapping_add(1);
        let slip = self.settings.slip;
        if slip > 0 && bucket.limited.is_multiple_of(slip) { Verdict::Slip } else { Verdict::Drop }
    }
}

/// The empty truncated answer to `packet` (its header and question, QR and TC set).
pub fn truncated_reply(packet: &[u8]) -> Option<Vec<u8>> {
    use crate::answer_cache::wire::{skip_name, u16_at};
    if packet.len() < 12 || packet[2] & 0x80 != 0 || u16_at(packet, 4)? != 1 {
        return None;
    }
    let end = skip_name(packet, 12)? + 4;
    let mut out = packet.get(..end)?.to_vec();
    out[2] = (out[2] | 0x80 | 0x02) & !0x04; // QR, TC; AA clear
    out[3] = 0; // rcode NOERROR
    out[6..12].fill(0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(slip: u32) -> RateLimiter {
        RateLimiter::new(RateLimitSettings {
            responses_per_second: 5,
            slip,
            ipv4_prefix: 24,
            ipv6_prefix: 56,
            exempt: vec!["192.0.2.0/24".parse().unwrap()],
        })
    }

    #[test]
    fn a_burst_is_limited_per_network_and_refills_with_time() {
        let l = limiter(2);
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let same_net: IpAddr = "198.51.100.200".parse().unwrap();
        let verdicts: Vec<Verdict> = (0..9).map(|i| l.check_at(if i % 2 == 0 { a } else { same_net }, 0)).collect();
        assert_eq!(verdicts[..5], [Verdict::Answer; 5]);
        assert_eq!(verdicts[5..], [Verdict::Drop, Verdict::Slip, Verdict::Drop, Verdict::Slip]);
        assert_eq!(l.check_at("203.0.113.1".parse().unwrap(), 0), Verdict::Answer, "another network");
        assert_eq!(l.check_at(a, 200), Verdict::Answer, "one answer's worth after 200 ms");
        assert_eq!(l.check_at(a, 200), Verdict::Drop);
        assert_eq!(l.check_at("192.0.2.9".parse().unwrap(), 0), Verdict::Answer);
        assert_eq!(l.check_at(a, u64::MAX / 2), Verdict::Answer, "a long idle time refills without overflow");
        let never = limiter(0);
        assert!((0..20).map(|_| never.check_at(a, 0)).all(|v| v != Verdict::Slip));
    }

    #[test]
    fn the_truncated_reply_keeps_id_and_question() {
        let mut m = hickory_proto::op::Message::query();
        m.metadata.id = 99;
        m.add_query(hickory_proto::op::Query::query(
            hickory_proto::rr::Name::from_ascii("example.jp.").unwrap(),
            hickory_proto::rr::RecordType::A,
        ));
        let packet = m.to_vec().unwrap();
        let reply = truncated_reply(&packet).unwrap();
        let back = hickory_proto::op::Message::from_vec(&reply).unwrap();
        assert_eq!(back.metadata.id, 99);
        assert!(back.metadata.truncation);
        assert_eq!(back.queries.len(), 1);
        assert!(back.answers.is_empty());
        for cut in 0..packet.len() {
            let _ = truncated_reply(&packet[..cut]);
        }
    }
}
