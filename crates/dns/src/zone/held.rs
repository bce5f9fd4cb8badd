//! A zone the resolver holds a copy of, read from its file and, when it has primaries, kept
//! current by SOA checks and transfers as a secondary does (RFC 1034 §4.3.5, RFC 1995,
//! RFC 5936), the way policy zones are (`rpz::secondary`, whose transfer code this shares).
//! Until a first version is held the zone has none, and the resolver says so (SERVFAIL) or
//! goes to the zone's servers instead, as configured.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record};

use super::Zone;
use crate::resolver::upstream::Upstream;
use crate::rpz::secondary::{LookedUp, Transferred, apply_delta, deltas_apply, fetch_newer, write_zone};

/// Wait after a failed check when the zone has no SOA to say its retry interval.
const DEFAULT_RETRY: u64 = 60;

/// What a held zone's ZONEMD (RFC 8976) must show before a version is put in force.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZonemdPolicy {
    /// Check the digest; a version whose digest does not match is not used.
    pub check: bool,
    /// A version without ZONEMD is not used either.
    pub reject_absence: bool,
    /// Failures are logged, and the version used all the same.
    pub permissive: bool,
}

impl ZonemdPolicy {
    /// `Err` when the records may not be put in force.
    fn verify(&self, name: &Name, records: &[Record]) -> Result<(), String> {
        if !self.check {
            return Ok(());
        }
        let failure = match super::zonemd::check(name, records) {
            super::zonemd::Verdict::Verified | super::zonemd::Verdict::Unsupported => return Ok(()),
            super::zonemd::Verdict::Absent if !self.reject_absence => return Ok(()),
            super::zonemd::Verdict::Absent => "the zone has no ZONEMD".to_string(),
            super::zonemd::Verdict::Failed(why) => why,
        };
        if self.permissive {
            tracing::warn!(zone = %name, "ZONEMD: {failure}; used all the same (permissive)");
            return Ok(());
        }
        Err(format!("ZONEMD: {failure}"))
    }
}

#[derive(Debug)]
pub struct HeldZone {
    pub name: Name,
    pub primaries: Vec<SocketAddr>,
    /// Primaries given by host name, with their ports; looked up before each check.
    pub primary_hosts: Vec<(Name, u16)>,
    /// Their addresses as last looked up.
    looked_up: LookedUp,
    /// Who else may send NOTIFY.
    pub notifiers: crate::rpz::secondary::Notifiers,
    /// Rewritten after each transfer.
    pub file: Option<PathBuf>,
    pub zonemd: ZonemdPolicy,
    current: ArcSwapOption<Zone>,
    held: Mutex<Held>,
}

#[derive(Debug)]
struct Held {
    records: Vec<Record>,
    next_check: u64,
}

impl HeldZone {
    /// The zone from `records` (its file; none yet when empty), checked with its primaries at
    /// `now` when it has no SOA, else after the SOA's refresh interval. A file that does not
    /// make a zone is an error.
    pub fn new(
        name: &Name,
        primaries: Vec<SocketAddr>,
        file: Option<PathBuf>,
        records: Vec<Record>,
        now: u64,
    ) -> Result<HeldZone, String> {
        let name = super::fqdn_lower(name);
        let records = in_zone_only(&name, records);
        let current =
            if records.is_empty() { None } else { Some(Arc::new(Zone::from_records(&name, records.clone())?)) };
        let next_check = match soa_of(&records) {
            Some(soa) => now + interval(soa.refresh),
            None => now,
        };
        Ok(HeldZone {
            name,
            primaries,
            primary_hosts: Vec::new(),
            looked_up: LookedUp::default(),
            notifiers: Default::default(),
            file,
            zonemd: ZonemdPolicy::default(),
            current: ArcSwapOption::new(current),
            held: Mutex::new(Held { records, next_check }),
        })
    }

    /// Checks the ZONEMD of what is held as `policy` says from now on; the version read at
    /// start is dropped when it fails (the zone is then as if never loaded).
    pub fn with_zonemd(mut self, policy: ZonemdPolicy) -> HeldZone {
        self.zonemd = policy;
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if self.current.load().is_some()
            && let Err(e) = policy.verify(&self.name, &held.records)
        {
            tracing::warn!(zone = %self.name, error = %e, "the zone file is not used");
            self.current.store(None);
        }
        drop(held);
        self
    }

    /// The version in force, if one is held.
    pub fn zone(&self) -> Option<Arc<Zone>> {
        self.current.load_full()
    }

    /// True when the primaries are to be asked at `now`.
    pub fn due(&self, now: u64) -> bool {
        self.next_check().is_some_and(|n| n <= now)
    }

    /// When the primaries are asked next (`None` without primaries).
    pub fn next_check(&self) -> Option<u64> {
        self.has_primaries().then(|| self.held.lock().unwrap_or_else(|e| e.into_inner()).next_check)
    }

    /// A NOTIFY from a primary: check at once.
    pub fn check_now(&self) {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).next_check = 0;
    }

    /// True when `ip` may send NOTIFY for the zone: a primary, or allowed to notify.
    pub fn is_primary(&self, ip: IpAddr) -> bool {
        self.all_primaries().iter().any(|p| p.ip() == ip) || self.notifiers.allows(ip)
    }

    pub fn has_primaries(&self) -> bool {
        !self.primaries.is_empty() || !self.primary_hosts.is_empty()
    }

    /// The addresses the primaries given by host name were last looked up at.
    pub fn set_looked_up(&self, servers: Vec<SocketAddr>) {
        self.looked_up.set(servers);
    }

    /// The primaries by address, then those looked up.
    pub fn all_primaries(&self) -> Vec<SocketAddr> {
        self.looked_up.after(&self.primaries)
    }

    /// Asks the primaries for the SOA and transfers a newer version; true when one was put
    /// in force. On failure the next check is after the SOA's retry interval.
    pub async fn refresh(&self, upstream: &dyn Upstream, now: u64) -> Result<bool, String> {
        let (soa, retry, refresh, mut records) = {
            let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            let soa = soa_of(&held.records).cloned();
            let retry = soa.as_ref().map_or(DEFAULT_RETRY, |s| interval(s.retry));
            let refresh = soa.as_ref().map_or(DEFAULT_RETRY, |s| interval(s.refresh));
            (soa, retry, refresh, held.records.clone())
        };
        let primaries = self.all_primaries();
        let mut result = fetch_newer(upstream, &self.name, &primaries, None, soa.as_ref()).await;
        if let Ok(Some((Transferred::Incremental(deltas), _))) = &result
            && !deltas_apply(&records, deltas)
        {
            // The changes do not fit the copy held: the whole zone instead.
            tracing::info!(zone = %self.name, "IXFR does not match the zone held, trying AXFR");
            result = fetch_newer(upstream, &self.name, &primaries, None, None).await;
        }
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let transferred = match result {
            Err(e) => {
                held.next_check = now + retry;
                return Err(e);
            }
            Ok(None) | Ok(Some((Transferred::UpToDate, _))) => {
                held.next_check = now + refresh;
                return Ok(false);
            }
            Ok(Some((t, _))) => t,
        };
        let records = match transferred {
            Transferred::Full(full) => full,
            Transferred::Incremental(deltas) => {
                for d in &deltas {
                    apply_delta(&mut records, d);
                }
                records
            }
            Transferred::UpToDate => unreachable!("handled above"),
        };
        let records = in_zone_only(&self.name, records);
        if let Err(e) = self.zonemd.verify(&self.name, &records) {
            held.next_check = now + retry;
            return Err(format!("the transferred zone is not used: {e}"));
        }
        let zone = match Zone::from_records(&self.name, records.clone()) {
            Ok(z) => z,
            Err(e) => {
                held.next_check = now + retry;
                return Err(format!("the transferred zone is not usable: {e}"));
            }
        };
        held.next_check = now + soa_of(&records).map_or(refresh, |s| interval(s.refresh));
        // Saved before it answers, so that whoever sees the new data finds the file current.
        if let Some(file) = &self.file
            && let Err(e) = write_zone(file, &records)
        {
            tracing::warn!(zone = %self.name, file = %file.display(), error = %e, "the transferred zone is not saved");
        }
        self.current.store(Some(Arc::new(zone)));
        held.records = records;
        Ok(true)
    }
}

fn soa_of(records: &[Record]) -> Option<&SOA> {
    records.iter().find_map(|r| match &r.data {
        RData::SOA(s) => Some(s),
        _ => None,
    })
}

/// A SOA timer as a wait in seconds (at least 5 s, at most a day).
fn interval(seconds: i32) -> u64 {
    u64::try_from(seconds).unwrap_or(0).clamp(5, 86_400)
}

/// The records of `records` at or below `zone`: others are ignored with a warning, as BIND
/// ("ignoring out-of-zone data") and Unbound load such a file, rather than refused.
fn in_zone_only(zone: &Name, records: Vec<Record>) -> Vec<Record> {
    let before = records.len();
    let kept: Vec<Record> = records.into_iter().filter(|r| zone.zone_of(&super::fqdn_lower(&r.name))).collect();
    if kept.len() < before {
        tracing::warn!(%zone, ignored = before - kept.len(), "out-of-zone records of a held zone are ignored");
    }
    kept
}
