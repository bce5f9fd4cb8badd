//! How many SMTP connections are open, in all and per client address, so that one sender (or a
//! botnet) cannot take every session. The tenants' own sender networks are limited only by the
//! total: their mail servers legitimately open many connections.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Connections {
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One open connection; closing it (dropping this) frees its place.
pub struct Slot {
    owner: Arc<Connections>,
    ip: IpAddr,
}

/// Why a connection was not let in.
#[derive(Debug, PartialEq, Eq)]
pub enum Full {
    Total,
    PerAddress,
}

impl Connections {
    /// A place for a connection from `ip`; `per_ip` is `None` for a tenant's sender.
    pub fn enter(self: &Arc<Self>, ip: IpAddr, total: usize, per_ip: Option<usize>) -> Result<Slot, Full> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.0 >= total {
            return Err(Full::Total);
        }
        let mine = open.1.get(&ip).copied().unwrap_or(0);
        if per_ip.is_some_and(|limit| mine >= limit) {
            return Err(Full::PerAddress);
        }
        open.0 += 1;
        *open.1.entry(ip).or_default() += 1;
        Ok(Slot { owner: self.clone(), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().unwrap_or_else(|e| e.into_inner());
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_and_freed() {
        let c = Arc::new(Connections::default());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let s1 = c.enter(a, 3, Some(2)).unwrap();
        let _s2 = c.enter(a, 3, Some(2)).unwrap();
        assert_eq!(c.enter(a, 3, Some(2)).err(), Some(Full::PerAddress));
        let _s3 = c.enter(b, 3, None).unwrap();
        assert_eq!(c.enter(b, 3, None).err(), Some(Full::Total));
        drop(s1);
        assert!(c.enter(a, 3, Some(2)).is_ok());
        assert!(c.open.lock().unwrap().1.len() <= 2);
    }
}
