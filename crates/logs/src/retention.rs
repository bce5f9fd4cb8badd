//! How long each tenant's events stay searchable (hot) and archived (cold).

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use mamori_core::managed::ManagedConfig;

/// Retention per tenant, derived from the managed configuration on every change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub default_hot_days: u32,
    pub default_archive_years: u32,
    pub tenants: HashMap<String, (u32, u32)>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy { default_hot_days: 90, default_archive_years: 5, tenants: HashMap::new() }
    }
}

impl RetentionPolicy {
    pub fn from_managed(config: &ManagedConfig) -> Self {
        RetentionPolicy {
            default_hot_days: config.logs.hot_days,
            default_archive_years: config.logs.archive_years,
            tenants: config
                .tenants
                .iter()
                .map(|t| {
                    let r = config.retention_for(&t.id);
                    (t.id.clone(), (r.hot_days, r.archive_years))
                })
                .collect(),
        }
    }

    pub fn hot_days(&self, tenant: &str) -> u32 {
        self.tenants.get(tenant).map_or(self.default_hot_days, |r| r.0)
    }

    pub fn archive_years(&self, tenant: &str) -> u32 {
        self.tenants.get(tenant).map_or(self.default_archive_years, |r| r.1)
    }

    /// The longest hot retention of any tenant: a partition older than this holds nobody.
    pub fn max_hot_days(&self) -> u32 {
        self.tenants.values().map(|r| r.0).chain([self.default_hot_days]).max().unwrap_or(self.default_hot_days)
    }

    /// The first day `tenant`'s events are still hot on; older days are archive-only.
    pub fn hot_since(&self, tenant: &str, now: Timestamp) -> Date {
        today(now) - (self.hot_days(tenant) as i64).days()
    }

    /// The first day `tenant`'s archive keeps; older segments expire.
    pub fn archive_since(&self, tenant: &str, now: Timestamp) -> Date {
        today(now).saturating_sub((self.archive_years(tenant) as i64).years())
    }
}

pub fn today(now: Timestamp) -> Date {
    now.to_zoned(jiff::tz::TimeZone::UTC).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_tenant_overrides() {
        let mut p = RetentionPolicy::default();
        p.tenants.insert("aoba".into(), (30, 7));
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        assert_eq!(p.hot_since("aoba", now).to_string(), "2026-10-22");
        assert_eq!(p.hot_since("other", now).to_string(), "2026-08-23");
        assert_eq!(p.archive_since("aoba", now).to_string(), "2019-11-21");
        assert_eq!(p.archive_since("other", now).to_string(), "2021-11-21");
        assert_eq!(p.max_hot_days(), 90);
    }
}
