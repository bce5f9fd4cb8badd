//! How fast each name server answered (Unbound's infra cache, BIND's SRTT): a zone's servers
//! are asked fastest band first, a server that did not answer goes to the back until it
//! answers again. Servers within `BAND` of the fastest keep their order (a server is not
//! judged by noise).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

/// A server not heard from yet counts as this fast (milliseconds, Unbound's figure).
pub const UNKNOWN: u64 = 376;
/// Servers this much slower than the fastest are asked after the others (milliseconds).
const BAND: u64 = 400;
/// A timeout is remembered as a round trip this long at least, and at most (milliseconds).
const TIMEOUT_FLOOR: u64 = 1000;
const TIMEOUT_CEILING: u64 = 120_000;
/// What is known of a server is forgotten after this long (seconds; Unbound's
/// `infra-host-ttl`).
const KEEP: u64 = 900;

#[derive(Debug, Default)]
pub struct RoundTrips(Mutex<HashMap<IpAddr, (u64, u64)>>);

impl RoundTrips {
    fn known(&self, ip: IpAddr, now: u64) -> Option<u64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).filter(|(_, until)| *until > now).map(|(rtt, _)| *rtt)
    }

    /// An answer from `ip` after `millis`.
    pub fn answered(&self, ip: IpAddr, millis: u64, now: u64) {
        let smoothed = match self.known(ip, now) {
            Some(old) if old < TIMEOUT_FLOOR => (3 * old + millis) / 4,
            _ => millis,
        };
        self.set(ip, smoothed, now);
    }

    /// No answer from `ip` in time: its estimate doubles (at least `TIMEOUT_FLOOR`).
    pub fn timed_out(&self, ip: IpAddr, now: u64) {
        let old = self.known(ip, now).unwrap_or(UNKNOWN);
        self.set(ip, (old * 2).clamp(TIMEOUT_FLOOR, TIMEOUT_CEILING), now);
    }

    /// Sets what is known of `ip` (from a measurement, or a test).
    pub fn set(&self, ip: IpAddr, millis: u64, now: u64) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(ip, (millis, now + KEEP));
    }

    /// `servers` in the order to ask them: those within `BAND` of the fastest in their given
    /// order, then the slower ones fastest first.
    pub fn order(&self, servers: &[SocketAddr], now: u64) -> Vec<SocketAddr> {
        let times: Vec<u64> = servers.iter().map(|s| self.known(s.ip(), now).unwrap_or(UNKNOWN)).collect();
        let Some(best) = times.iter().copied().min() else { return Vec::new() };
        let mut fast = Vec::new();
        let mut slow = Vec::new();
        for (s, t) in servers.iter().zip(times) {
            if t <= best + BAND { fast.push(*s) } else { slow.push((t, *s)) }
        }
        slow.sort_by_key(|(t, _)| *t);
        fast.extend(slow.into_iter().map(|(_, s)| s));
        fast
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().expect("an address"), 53)
    }

    #[test]
    fn slow_and_silent_servers_are_asked_last_and_noise_changes_nothing() {
        let t = RoundTrips::default();
        let (a, b, c) = (addr("192.0.2.1"), addr("192.0.2.2"), addr("192.0.2.3"));
        assert_eq!(t.order(&[a, b, c], 0), [a, b, c]);
        t.set(a.ip(), 900, 0);
        assert_eq!(t.order(&[a, b, c], 0), [b, c, a], "900 ms is past the band of an unknown server");
        t.answered(b.ip(), 20, 0);
        t.answered(c.ip(), 300, 0);
        assert_eq!(t.order(&[a, b, c], 0), [b, c, a], "within the band the given order stays");
        t.timed_out(b.ip(), 0);
        assert_eq!(t.order(&[a, b, c], 0), [c, a, b]);
        // Forgotten after a while: all unknown again.
        assert_eq!(t.order(&[a, b, c], KEEP + 1), [a, b, c]);
    }
}
