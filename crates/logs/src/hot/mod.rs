//! The hot tier: each day's events in column blocks ([`block`]), searchable within a second of
//! ingestion and kept for `hot_days`. Queries are evaluated on the columns by [`eval`], results
//! collected by [`search`] and [`aggregate`].

pub mod aggregate;
pub mod block;
pub mod compact;
pub mod eval;
pub mod leaves;
pub mod partition;
pub mod search;

/// The field that names an event's tenant.
pub const TENANT_FIELD: &str = "organization.id";

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use jiff::civil::Date;

use crate::error::LogError;
use partition::Partition;

/// The open partitions under `hot/`.
pub struct HotStore {
    root: PathBuf,
    partitions: RwLock<BTreeMap<Date, Arc<Partition>>>,
}

impl HotStore {
    /// Opens every partition present under `root`.
    pub fn open(root: &Path) -> Result<HotStore, LogError> {
        std::fs::create_dir_all(root).map_err(|e| LogError::io(root, e))?;
        let store = HotStore { root: root.to_path_buf(), partitions: RwLock::new(BTreeMap::new()) };
        store.rescan()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Picks up partitions created by another process (a read-only CLI next to a server) and
    /// reloads their readers.
    pub fn rescan(&self) -> Result<(), LogError> {
        for day in partition::list_days(&self.root) {
            match self.get(day) {
                Some(p) => p.refresh()?,
                None => {
                    if let Some(p) = Partition::open(&self.root, day, false)? {
                        self.partitions.write().unwrap_or_else(|e| e.into_inner()).insert(day, Arc::new(p));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, day: Date) -> Option<Arc<Partition>> {
        self.partitions.read().unwrap_or_else(|e| e.into_inner()).get(&day).cloned()
    }

    /// The partition of `day`, created if missing.
    pub fn get_or_create(&self, day: Date) -> Result<Arc<Partition>, LogError> {
        if let Some(p) = self.get(day) {
            return Ok(p);
        }
        let mut map = self.partitions.write().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = map.get(&day) {
            return Ok(p.clone());
        }
        let p = Arc::new(Partition::open(&self.root, day, true)?.expect("created"));
        map.insert(day, p.clone());
        Ok(p)
    }

    pub fn days(&self) -> Vec<Date> {
        self.partitions.read().unwrap_or_else(|e| e.into_inner()).keys().copied().collect()
    }

    pub fn all(&self) -> Vec<Arc<Partition>> {
        self.partitions.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Partitions that may hold events in `[from, to)`, newest first. A partition is chosen by
    /// the real time span of its events (column min/max), not only by its name, so events
    /// filed under another day (clock skew) are still found.
    pub fn overlapping(&self, from: Timestamp, to: Timestamp) -> Vec<Arc<Partition>> {
        let (lo, hi) = (from.as_microsecond(), to.as_microsecond());
        let mut out: Vec<Arc<Partition>> =
            self.all().into_iter().filter(|p| p.time_span().is_some_and(|(min, max)| min < hi && max >= lo)).collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.day));
        out
    }

    /// Whether the hot tier holds the events of an archived segment: `tenant`'s events of
    /// `day` from WAL position `lsn_from` on. A partition deleted by retention and recreated by
    /// late events holds only later positions, so older segments are still read from the
    /// archive.
    pub fn covers(&self, day: Date, tenant: &str, lsn_from: u64) -> bool {
        self.get(day).is_some_and(|p| p.holds(tenant) && p.min_lsn().is_some_and(|min| min <= lsn_from))
    }

    /// Deletes a whole partition from disk.
    pub fn remove(&self, day: Date) -> Result<(), LogError> {
        let removed = self.partitions.write().unwrap_or_else(|e| e.into_inner()).remove(&day);
        let dir = partition::partition_dir(&self.root, day);
        drop(removed);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| LogError::io(&dir, e))?;
        }
        Ok(())
    }
}

/// The UTC day an event is filed under. Events stamped more than a day in the future (a
/// device with a wrong clock) are filed under the day they arrived, so they cannot create
/// partitions that outlive retention.
pub fn filing_day(event_time: Option<Timestamp>, now: Timestamp) -> Date {
    let t = match event_time {
        Some(t) if t <= now + jiff::SignedDuration::from_hours(24) => t,
        _ => now,
    };
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}
