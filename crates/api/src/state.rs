//! What every handler shares: the control-plane store, the configuration in force, the log
//! store and the hooks the binary gives the API.

use std::sync::Arc;

use arc_swap::ArcSwap;
use mamori_control::{ChangeError, ConfigService};
use mamori_core::{ManagedConfig, TenantDirectory};
use mamori_store::{ControlStore, Revision};
use serde_json::Value;

use crate::auth::rate_limit::LoginLimiter;
use crate::backend::LogBackend;
use crate::settings::ApiSettings;

/// Called after the API recorded a new configuration revision, so the binary can hand it to
/// the running services (collect receivers, retention). Runs on a blocking thread.
pub type OnChange = Arc<dyn Fn(&Revision, &ManagedConfig) + Send + Sync>;

/// Reports the state of the running components for `GET /api/v1/status`, as a JSON object
/// keyed by component name (`{"syslog_udp": {"state": "running", ...}, ...}`). Must be cheap:
/// it is called on every status request.
pub trait StatusProvider: Send + Sync + 'static {
    fn components(&self) -> Value;
}

impl<F> StatusProvider for F
where
    F: Fn() -> Value + Send + Sync + 'static,
{
    fn components(&self) -> Value {
        self()
    }
}

/// The managed configuration in force, with the tenant directory built from it once per
/// change (never per request).
pub struct Current {
    /// The revision it came from; `None` before the first revision was recorded.
    pub revision: Option<i64>,
    pub config: ManagedConfig,
    pub directory: TenantDirectory,
}

impl Current {
    pub fn new(revision: Option<i64>, config: ManagedConfig) -> Self {
        let directory = config.directory();
        Current { revision, config, directory }
    }
}

/// Shared state of the API; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn ControlStore>,
    config: ConfigService,
    logs: Arc<dyn LogBackend>,
    current: ArcSwap<Current>,
    /// Serialises read-modify-write changes made through the API, so two administrators
    /// editing different tenants at once do not see spurious conflicts. Changes from other
    /// places (file reload, CLI) are still caught by the store's optimistic check.
    change_lock: tokio::sync::Mutex<()>,
    on_change: OnChange,
    status: Arc<dyn StatusProvider>,
    /// The mail relay's quarantine, set by the binary once the relay runs.
    quarantine: std::sync::OnceLock<Arc<dyn crate::mail_quarantine::QuarantineAccess>>,
    settings: ApiSettings,
    limiter: LoginLimiter,
    /// Argon2 takes 19 MiB and tens of milliseconds per hash: a flood of logins run all at
    /// once would exhaust memory, so at most this many run at a time and the rest queue.
    password_slots: tokio::sync::Semaphore,
}

/// Builds an [`AppState`].
pub struct AppStateBuilder {
    store: Arc<dyn ControlStore>,
    logs: Arc<dyn LogBackend>,
    settings: ApiSettings,
    on_change: OnChange,
    status: Arc<dyn StatusProvider>,
    current: Option<(Option<i64>, ManagedConfig)>,
}

impl AppStateBuilder {
    pub fn settings(mut self, settings: ApiSettings) -> Self {
        self.settings = settings;
        self
    }

    pub fn on_change(mut self, f: impl Fn(&Revision, &ManagedConfig) + Send + Sync + 'static) -> Self {
        self.on_change = Arc::new(f);
        self
    }

    pub fn status(mut self, provider: impl StatusProvider) -> Self {
        self.status = Arc::new(provider);
        self
    }

    /// The configuration in force, when the caller already has it (the binary does, from
    /// `ConfigService::offer_file`). Without it, [`AppStateBuilder::build`] reads the latest
    /// revision from the store.
    pub fn current(mut self, revision: Option<i64>, config: ManagedConfig) -> Self {
        self.current = Some((revision, config));
        self
    }

    /// Builds the state. Blocking when the configuration is read from the store: call it at
    /// start-up, before serving.
    pub fn build(self) -> Result<AppState, ChangeError> {
        let config = ConfigService::new(self.store.clone());
        let (revision, managed) = match self.current {
            Some(c) => c,
            None => match config.current()? {
                Some((r, c)) => (Some(r.number), c),
                None => (None, ManagedConfig::default()),
            },
        };
        let limiter = LoginLimiter::new(self.settings.login_per_user, self.settings.login_per_ip);
        Ok(AppState {
            inner: Arc::new(Inner {
                store: self.store,
                config,
                logs: self.logs,
                current: ArcSwap::from_pointee(Current::new(revision, managed)),
                change_lock: tokio::sync::Mutex::new(()),
                on_change: self.on_change,
                status: self.status,
                quarantine: std::sync::OnceLock::new(),
                settings: self.settings,
                limiter,
                password_slots: tokio::sync::Semaphore::new(password_slots()),
            }),
        })
    }
}

/// Concurrent password hashes: one per core, at least two.
fn password_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

impl AppState {
    /// Starts building the state over the control-plane store and the log store.
    pub fn builder(store: Arc<dyn ControlStore>, logs: Arc<dyn LogBackend>) -> AppStateBuilder {
        AppStateBuilder {
            store,
            logs,
            settings: ApiSettings::default(),
            on_change: Arc::new(|_, _| {}),
            status: Arc::new(|| Value::Object(Default::default())),
            current: None,
        }
    }

    pub fn store(&self) -> &Arc<dyn ControlStore> {
        &self.inner.store
    }

    pub fn config_service(&self) -> &ConfigService {
        &self.inner.config
    }

    pub fn logs(&self) -> &Arc<dyn LogBackend> {
        &self.inner.logs
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.inner.settings
    }

    /// Failed-login bookkeeping, shared by the API's and the console's logins.
    pub fn limiter(&self) -> &LoginLimiter {
        &self.inner.limiter
    }

    /// Waits for a turn to hash or verify a password.
    pub async fn password_slot(&self) -> tokio::sync::SemaphorePermit<'_> {
        // The semaphore is never closed, so acquiring cannot fail.
        match self.inner.password_slots.acquire().await {
            Ok(permit) => permit,
            Err(_) => unreachable!("the password semaphore is never closed"),
        }
    }

    pub fn status_provider(&self) -> &Arc<dyn StatusProvider> {
        &self.inner.status
    }

    /// Gives the API the mail relay's quarantine (once; later calls are ignored).
    pub fn set_quarantine(&self, q: Arc<dyn crate::mail_quarantine::QuarantineAccess>) {
        let _ = self.inner.quarantine.set(q);
    }

    pub fn quarantine(&self) -> Option<&Arc<dyn crate::mail_quarantine::QuarantineAccess>> {
        self.inner.quarantine.get()
    }

    /// The configuration in force.
    pub fn current(&self) -> Arc<Current> {
        self.inner.current.load_full()
    }

    /// Replaces the configuration the API works from, without calling `on_change`. The binary
    /// calls this when a revision came from elsewhere (file reload, CLI), so that reads through
    /// the API show it.
    pub fn set_current(&self, revision: Option<i64>, config: ManagedConfig) {
        self.inner.current.store(Arc::new(Current::new(revision, config)));
    }

    pub fn change_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.change_lock
    }

    /// Puts a revision recorded through the API in force: swaps it in (the store already has
    /// it, so the API's reads must show it whatever happens next) and tells the binary.
    pub(crate) fn apply(&self, revision: &Revision, config: ManagedConfig) {
        self.set_current(Some(revision.number), config);
        (self.inner.on_change)(revision, &self.current().config);
    }
}
