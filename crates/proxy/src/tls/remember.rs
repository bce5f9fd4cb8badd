//! Hosts tunnelled without decryption for a while because decrypting them failed for a reason
//! that will not go away by itself: the terminal rejects the mamori CA (certificate pinning),
//! or the origin wants a client certificate. Kept per tenant: one municipality's terminals
//! without the CA do not switch inspection off for another.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// More than this many remembered hosts and the expired ones are swept out.
const SWEEP_AT: usize = 10_000;

/// By tenant and host: until when, and why.
type Hosts = HashMap<(Option<String>, String), (Instant, &'static str)>;

pub struct Remembered {
    ttl: Duration,
    hosts: Mutex<Hosts>,
}

impl Remembered {
    pub fn new(ttl: Duration) -> Remembered {
        Remembered { ttl, hosts: Mutex::new(HashMap::new()) }
    }

    /// Why `host` is tunnelled, while it is remembered.
    pub fn get(&self, tenant: Option<&str>, host: &str) -> Option<&'static str> {
        let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
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
}
