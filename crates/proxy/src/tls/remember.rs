//! Hosts tunnelled without decryption for a while because decrypting them failed for a reason
//! that will not go away by itself: the terminal rejects the mamori CA (certificate pinning),
//! or the origin wants a client certificate. Kept per tenant: one municipality's terminals
//! without the CA do not switch inspection off for another.
//!
//! A terminal that rejects the certificate says so with a TLS alert; one that merely hangs up
//! mid-handshake may be a browser whose user cancelled, so hang-ups count only when they
//! repeat: `HANG_UPS` of them within `HANG_UP_WINDOW`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// More than this many remembered hosts and the expired ones are swept out.
const SWEEP_AT: usize = 10_000;
/// Abandoned handshakes to one host that make it a pinning host.
pub const HANG_UPS: u32 = 3;
const HANG_UP_WINDOW: Duration = Duration::from_secs(300);

type Key = (Option<String>, String);

pub struct Remembered {
    ttl: Duration,
    /// Until when, and why.
    hosts: Mutex<HashMap<Key, (Instant, &'static str)>>,
    /// Hang-ups so far and when the first of them was.
    hang_ups: Mutex<HashMap<Key, (Instant, u32)>>,
}

impl Remembered {
    pub fn new(ttl: Duration) -> Remembered {
        Remembered { ttl, hosts: Mutex::new(HashMap::new()), hang_ups: Mutex::new(HashMap::new()) }
    }

    /// Why `host` is tunnelled, while it is remembered.
    pub fn get(&self, tenant: Option<&str>, host: &str) -> Option<&'static str> {
        let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if hosts.is_empty() {
            return None;
        }
        hosts
            .get(&(tenant.map(str::to_string), host.to_string()))
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, why)| *why)
    }

    pub fn insert(&self, tenant: Option<&str>, host: &str, why: &'static str) {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if hosts.len() >= SWEEP_AT {
            hosts.retain(|_, (until, _)| *until > now);
        }
        if hosts.len() < SWEEP_AT {
            hosts.insert((tenant.map(str::to_string), host.to_string()), (now + self.ttl, why));
        }
    }

    /// Counts a handshake the terminal abandoned without an alert; true once they add up to
    /// pinning (the count then starts again).
    pub fn hang_up(&self, tenant: Option<&str>, host: &str) -> bool {
        let mut counts = self.hang_ups.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if counts.len() >= SWEEP_AT {
            counts.retain(|_, (first, _)| now.duration_since(*first) < HANG_UP_WINDOW);
            if counts.len() >= SWEEP_AT {
                return false;
            }
        }
        let entry = counts.entry((tenant.map(str::to_string), host.to_string())).or_insert((now, 0));
        if now.duration_since(entry.0) >= HANG_UP_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 < HANG_UPS {
            return false;
        }
        counts.remove(&(tenant.map(str::to_string), host.to_string()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hang_ups_count_per_tenant_and_host_until_they_add_up() {
        let r = Remembered::new(Duration::from_secs(60));
        for _ in 1..HANG_UPS {
            assert!(!r.hang_up(Some("midori"), "a.example"));
            assert!(!r.hang_up(Some("aoba"), "a.example"));
            assert!(!r.hang_up(Some("midori"), "b.example"));
        }
        assert!(r.hang_up(Some("midori"), "a.example"));
        assert!(!r.hang_up(Some("midori"), "a.example"), "counting starts again");
        assert!(r.hang_up(Some("aoba"), "a.example"));
    }
}
