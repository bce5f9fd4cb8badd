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

/// What the applier needs to rebuild the web proxy's lists for a revision.
#[derive(Clone)]
pub struct ProxyHook {
    /// Relative list paths are relative to the configuration file's directory.
    pub base: std::path::PathBuf,
    pub allow_unassigned: bool,
}

/// Holds the configuration in force and pushes changes to the services.
pub struct Applier {
    mail: std::sync::Mutex<Option<(Arc<mamori_mail::MailContext>, mamori_core::config::mail::MailConfig)>>,
    proxy: std::sync::Mutex<Option<(Arc<mamori_proxy::ProxyContext>, ProxyHook)>>,
    detect: std::sync::Mutex<Option<super::detect_service::DetectHandle>>,
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
            mail: std::sync::Mutex::new(None),
            proxy: std::sync::Mutex::new(None),
            detect: std::sync::Mutex::new(None),
            managed: Arc::new(ArcSwap::from_pointee(managed)),
            revision: AtomicI64::new(0),
            collect,
            logs,
            timezone,
            max_message_bytes,
        }
    }

    /// Lets later revisions reach the running web proxy.
    pub fn attach_proxy(&self, context: Arc<mamori_proxy::ProxyContext>, hook: ProxyHook) {
        *self.proxy.lock().unwrap_or_else(|e| e.into_inner()) = Some((context, hook));
    }

    /// Lets revisions' monitor rules reach live detection.
    pub fn attach_detect(&self, handle: super::detect_service::DetectHandle) {
        *self.detect.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }

    /// Lets later revisions reach the running mail relay.
    pub fn attach_mail(&self, context: Arc<mamori_mail::MailContext>, config: mamori_core::config::mail::MailConfig) {
        *self.mail.lock().unwrap_or_else(|e| e.into_inner()) = Some((context, config));
    }

    /// The relay's rules follow the revision's tenants (networks and domains).
    fn apply_mail(&self, config: &ManagedConfig) {
        if let Some((context, mail)) = self.mail.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            context.policy.store(Arc::new(mamori_mail::RelayPolicy::new(mail, &config.tenants)));
        }
    }

    /// Compiles the revision's lists off the async threads and swaps them in; while that runs,
    /// and if it fails, the previous lists stay in force.
    fn apply_proxy(&self, rev: i64, config: &ManagedConfig) {
        let Some((context, hook)) = self.proxy.lock().unwrap_or_else(|e| e.into_inner()).clone() else { return };
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            match mamori_proxy::build_state(&config, &hook.base, hook.allow_unassigned) {
                Ok((state, _)) => {
                    context.state.store(Arc::new(state));
                    tracing::info!(revision = rev, "web filter lists of the revision in force");
                }
                Err(e) => tracing::error!(revision = rev, error = %e, "the web filter keeps its previous lists"),
            }
        });
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
        self.apply_proxy(rev.number, config);
        self.apply_mail(config);
        if let Some(d) = self.detect.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            d.apply(config);
        }
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
