//! Throttling of failed logins, per username and per source address, so that passwords cannot
//! be guessed at speed. Only failures count; a key with too many failures in the window is
//! locked out for a while, during which even the right password is refused (otherwise the
//! lockout would tell a guesser when it hit).
//!
//! Kept in memory: a restart clears it, which costs an attacker a restart they cannot cause.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::settings::LoginLimit;

/// Beyond this many tracked keys, idle ones are dropped, so a flood of made-up usernames
/// cannot grow the table without bound.
const MAX_KEYS: usize = 50_000;

#[derive(Default)]
struct Entry {
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

struct Table {
    limit: LoginLimit,
    entries: HashMap<String, Entry>,
}

impl Table {
    fn new(limit: LoginLimit) -> Self {
        Table { limit, entries: HashMap::new() }
    }

    fn locked(&self, key: &str, now: Instant) -> Option<Duration> {
        let until = self.entries.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Records a failure; true when it starts a lockout.
    fn fail(&mut self, key: &str, now: Instant) -> bool {
        if self.entries.len() >= MAX_KEYS && !self.entries.contains_key(key) {
            self.prune(now);
        }
        let limit = self.limit;
        let entry = self.entries.entry(key.to_owned()).or_default();
        while entry.failures.front().is_some_and(|t| now.duration_since(*t) > limit.window) {
            entry.failures.pop_front();
        }
        entry.failures.push_back(now);
        if entry.failures.len() >= limit.failures as usize {
            entry.failures.clear();
            entry.locked_until = Some(now + limit.lockout);
            return true;
        }
        false
    }

    fn clear(&mut self, key: &str) {
        self.entries.remove(key);
    }

    fn prune(&mut self, now: Instant) {
        let limit = self.limit;
        self.entries.retain(|_, e| {
            e.locked_until.is_some_and(|u| u > now)
                || e.failures.back().is_some_and(|t| now.duration_since(*t) <= limit.window)
        });
        // Still full of live entries: an attack from very many addresses. Forget the oldest
        // half rather than grow; the per-username limit still holds.
        if self.entries.len() >= MAX_KEYS {
            let mut ages: Vec<(Instant, String)> =
                self.entries.iter().map(|(k, e)| (e.failures.back().copied().unwrap_or(now), k.clone())).collect();
            ages.sort();
            for (_, k) in ages.into_iter().take(MAX_KEYS / 2) {
                self.entries.remove(&k);
            }
        }
    }
}

/// The lockouts a failed attempt started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lockouts {
    /// The account is now locked.
    pub user: bool,
    /// The source address is now locked.
    pub ip: bool,
}

impl Lockouts {
    pub fn any(self) -> bool {
        self.user || self.ip
    }
}

/// Failed-login bookkeeping for usernames and source addresses.
pub struct LoginLimiter {
    users: Mutex<Table>,
    ips: Mutex<Table>,
}

impl LoginLimiter {
    pub fn new(per_user: LoginLimit, per_ip: LoginLimit) -> Self {
        LoginLimiter { users: Mutex::new(Table::new(per_user)), ips: Mutex::new(Table::new(per_ip)) }
    }

    /// How long the username or the address is still locked out, if it is.
    pub fn locked(&self, username: &str, ip: Option<&str>) -> Option<Duration> {
        let now = Instant::now();
        let user = lock(&self.users).locked(&user_key(username), now);
        let ip = ip.and_then(|ip| lock(&self.ips).locked(ip, now));
        user.max(ip)
    }

    /// Records a failed attempt (a wrong password or a wrong second factor). Returns which
    /// lockouts it started, so that they can be audited.
    pub fn failed(&self, username: &str, ip: Option<&str>) -> Lockouts {
        let now = Instant::now();
        let user = lock(&self.users).fail(&user_key(username), now);
        let ip = ip.is_some_and(|ip| lock(&self.ips).fail(ip, now));
        Lockouts { user, ip }
    }

    /// Forgets the failures of a username after a successful login. The address keeps its
    /// count: one valid account must not reset the budget for guessing others.
    pub fn succeeded(&self, username: &str) {
        lock(&self.users).clear(&user_key(username));
    }
}

/// Usernames are compared case-insensitively here so that `Admin` and `admin` share a budget.
fn user_key(username: &str) -> String {
    username.to_lowercase()
}

fn lock(m: &Mutex<Table>) -> std::sync::MutexGuard<'_, Table> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(failures: u32) -> LoginLimit {
        LoginLimit { failures, window: Duration::from_secs(60), lockout: Duration::from_secs(120) }
    }

    #[test]
    fn locks_after_the_limit_and_success_resets_the_user() {
        let l = LoginLimiter::new(limit(3), limit(10));
        for _ in 0..2 {
            l.failed("Taro", Some("192.0.2.1"));
        }
        assert!(l.locked("taro", Some("192.0.2.1")).is_none());
        l.succeeded("taro");
        for _ in 0..2 {
            l.failed("taro", Some("192.0.2.1"));
        }
        assert!(l.locked("taro", None).is_none());
        assert_eq!(l.failed("taro", None), Lockouts { user: true, ip: false });
        let left = l.locked("TARO", None).expect("locked");
        assert!(left > Duration::from_secs(100));
        assert!(l.locked("hanako", Some("192.0.2.9")).is_none());
    }

    #[test]
    fn address_limit_spans_usernames() {
        let l = LoginLimiter::new(limit(100), limit(3));
        for name in ["a", "b", "c"] {
            l.failed(name, Some("198.51.100.7"));
        }
        assert!(l.locked("d", Some("198.51.100.7")).is_some());
        assert!(l.locked("d", Some("198.51.100.8")).is_none());
    }

    #[test]
    fn table_stays_bounded() {
        let mut t = Table::new(limit(5));
        let now = Instant::now();
        for i in 0..(MAX_KEYS + 10) {
            t.fail(&format!("k{i}"), now);
        }
        assert!(t.entries.len() <= MAX_KEYS);
    }
}
