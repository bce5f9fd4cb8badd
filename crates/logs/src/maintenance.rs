//! Upkeep of the log store: archive closed days, delete hot data past its retention (only once
//! archived), expire archive segments past theirs.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::cold::{ArchivedDay, ColdStore};
use crate::error::LogError;
use crate::hot::HotStore;
use crate::indexer::{Indexer, IndexerTask};
use crate::retention::{RetentionPolicy, today};

/// Minutes after midnight UTC before a day counts as closed, for events in flight.
const CLOSE_GRACE_MINUTES: i64 = 10;

#[derive(Debug, Clone, Default, Serialize)]
pub struct MaintenanceReport {
    pub archived: Vec<ArchivedDay>,
    /// `(day, tenant)` pairs removed from the hot tier.
    pub hot_tenants_removed: Vec<(String, String)>,
    pub hot_partitions_removed: Vec<String>,
    pub archive_segments_expired: Vec<String>,
}

impl MaintenanceReport {
    pub fn is_empty(&self) -> bool {
        self.archived.iter().all(|a| a.segments == 0)
            && self.hot_tenants_removed.is_empty()
            && self.hot_partitions_removed.is_empty()
            && self.archive_segments_expired.is_empty()
    }
}

pub fn run(
    hot: &HotStore,
    cold: &ColdStore,
    indexer: &Indexer,
    policy: &RetentionPolicy,
    now: Timestamp,
) -> Result<MaintenanceReport, LogError> {
    let mut report = MaintenanceReport::default();
    let committed = indexer.committed_lsn();
    let closed_before = (now - CLOSE_GRACE_MINUTES.minutes()).to_zoned(jiff::tz::TimeZone::UTC).date();
    for day in hot.days() {
        if day < closed_before {
            let a = cold.archive_day(hot, day, committed)?;
            if a.segments > 0 {
                report.archived.push(a);
            }
        }
    }
    let horizon = today(now) - (policy.max_hot_days() as i64).days();
    for day in hot.days() {
        let Some(partition) = hot.get(day) else { continue };
        if !fully_archived(hot, cold, day) {
            continue;
        }
        if day < horizon {
            indexer.run_task(|reply| IndexerTask::RemovePartition { day, reply })?;
            report.hot_partitions_removed.push(day.to_string());
            continue;
        }
        for tenant in partition.tenants()? {
            if partition.holds(&tenant) && day < policy.hot_since(&tenant, now) {
                let t = tenant.clone();
                indexer.run_task(move |reply| IndexerTask::DeleteTenant { day, tenant: t, reply })?;
                report.hot_tenants_removed.push((day.to_string(), tenant));
            }
        }
    }
    report.archive_segments_expired = cold.expire(policy, now)?;
    Ok(report)
}

/// Whether every event of the day's partition is in the archive.
fn fully_archived(hot: &HotStore, cold: &ColdStore, day: Date) -> bool {
    let Some(p) = hot.get(day) else { return true };
    p.max_lsn().is_none_or(|m| cold.watermark(day) >= m)
}
