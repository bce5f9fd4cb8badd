//! Putting a configuration revision into force in the running services, without restarting
//! a listener or dropping a connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arc_swap::ArcSwap;
use jiff::Timestamp;
use mamori_collect::{CollectContext, CollectPolicy};
use mamori_core::Event;
use mamori_core::managed::ManagedConfig;
use mamori_logs::{LogStore, RetentionPolicy};
use mamori_store::Revision;

/// The `organization.id` of mamori's own events (configuration changes): they concern the
/// whole prefecture, so only all-tenant roles see them.
pub const SYSTEM_TENANT: &str = "mamori";

/// Holds the configuration in force and pushes changes to the services.
pub struct Applier {
    pub managed: Arc<ArcSwap<ManagedConfig>>,
    pub revision: AtomicI64,
    collect: Option<Arc<CollectContext>>,
    logs: Arc<LogStore>,
    timezone: jiff::tz::TimeZone,
    max_message_bytes: usize,
}

impl Applier {
    pub fn new(
        managed: ManagedConfig,
        collect: Option<Arc<CollectContext>>,
        logs: Arc<LogStore>,
        timezone: jiff::tz::TimeZone,
        max_message_bytes: usize,
    ) -> Applier {
        Applier {
            managed: Arc::new(ArcSwap::from_pointee(managed)),
            revision: AtomicI64::new(0),
            collect,
            logs,
            timezone,
            max_message_bytes,
        }
    }

    pub fn current_revision(&self) -> i64 {
        self.revision.load(Ordering::Acquire)
    }

    /// Applies `config` as revision `rev`, and records that as an event so the SOC sees every
    /// configuration change in the same place as everything else.
    pub fn apply(&self, rev: &Revision, config: &ManagedConfig) {
        let directory = Arc::new(config.directory());
        if let Some(collect) = &self.collect {
            collect.set_policy(CollectPolicy::new(directory, self.timezone.clone(), self.max_message_bytes));
        }
        self.logs.set_retention(RetentionPolicy::from_managed(config));
        self.managed.store(Arc::new(config.clone()));
        let previous = self.revision.swap(rev.number, Ordering::AcqRel);
        tracing::info!(revision = rev.number, previous, author = %rev.author, source = %rev.source, "configuration revision applied");
        let mut event = Event::new(Timestamp::now(), "mamori.config");
        event.set_tenant(SYSTEM_TENANT);
        event.event.action = Some("revision_applied".into());
        event.event.kind = Some("state".into());
        event.message = Some(format!(
            "設定リビジョン {} を適用しました (configuration revision {} applied): {} by {} ({})",
            rev.number, rev.number, rev.reason, rev.author, rev.source
        ));
        event.extra.insert(
            "mamori".into(),
            serde_json::json!({"config": {"revision": rev.number, "previous": previous, "author": rev.author, "source": rev.source, "reason": rev.reason}}),
        );
        let sink = self.logs.sink();
        tokio::spawn(async move {
            if let Err(e) = sink.submit(&[event]).await {
                tracing::warn!(error = %e, "could not log the configuration change event");
            }
        });
    }
}
