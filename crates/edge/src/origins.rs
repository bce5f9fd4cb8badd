//! A site's origin servers: used in turn, skipping those marked down by a failed request
//! (passive) or a failed health check (active); a health check that passes brings one back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Debug)]
pub struct Origin {
    /// `host:port`.
    pub authority: String,
    /// Reached over TLS (`https://`).
    pub tls: bool,
    up: AtomicBool,
}

impl Origin {
    pub fn new(authority: String, tls: bool) -> Origin {
        Origin { authority, tls, up: AtomicBool::new(true) }
    }

    /// `http://host:port` or `https://host:port`, to which the request target is appended.
    pub fn base_url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.authority)
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Returns whether this changed the state (to log transitions once).
    pub fn set_up(&self, up: bool) -> bool {
        self.up.swap(up, Ordering::Relaxed) != up
    }
}

#[derive(Debug)]
pub struct OriginPool {
    pub origins: Vec<Arc<Origin>>,
    next: AtomicUsize,
}

impl OriginPool {
    pub fn new(origins: Vec<Arc<Origin>>) -> OriginPool {
        OriginPool { origins, next: AtomicUsize::new(0) }
    }

    /// The next origin that is up, in turn. When every origin is down one is still tried:
    /// a failing origin may answer, an empty pool never does.
    pub fn pick(&self) -> Option<Arc<Origin>> {
        let n = self.origins.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.origins[(start + i) % n])
            .find(|o| o.is_up())
            .or_else(|| self.origins.get(start % n))
            .cloned()
    }

    /// Another origin that is up, for one retry after `failed` could not be reached.
    pub fn other_than(&self, failed: &Origin) -> Option<Arc<Origin>> {
        self.origins.iter().find(|o| o.is_up() && o.authority != failed.authority).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_skips_origins_that_are_down() {
        let pool = OriginPool::new(vec![
            Arc::new(Origin::new("a:1".into(), false)),
            Arc::new(Origin::new("b:1".into(), true)),
        ]);
        let picks: Vec<String> = (0..4).map(|_| pool.pick().unwrap().authority.clone()).collect();
        assert_eq!(picks, ["a:1", "b:1", "a:1", "b:1"]);
        pool.origins[0].set_up(false);
        assert!((0..4).all(|_| pool.pick().unwrap().authority == "b:1"));
        pool.origins[1].set_up(false);
        assert!(pool.pick().is_some(), "all down: still try one");
    }
}
