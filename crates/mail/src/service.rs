//! Starting the relay from `[mail]`: the context, the listener's TLS, SPF, the queue and the
//! delivery worker. The binary binds the socket and runs the two futures.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use mamori_core::config::mail::MailConfig;
use mamori_core::sink::EventSink;
use mamori_core::tenant::Tenant;
use tokio::sync::Notify;

use crate::auth::SenderAuth;
use crate::context::{MailContext, SmtpSettings};
use crate::delivery::mx::MxResolver;
use crate::delivery::worker::{DeliverySettings, Worker};
use crate::events::MailLog;
use crate::metrics::MailMetrics;
use crate::policy::RelayPolicy;
use crate::quarantine::QuarantineStore;
use crate::queue::QueueStore;

/// Where the relay keeps its files and finds its certificate.
pub struct Paths {
    pub queue_dir: PathBuf,
    pub quarantine_dir: PathBuf,
    /// Configured certificate and key, already resolved.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Where a self-signed certificate is made when none is configured.
    pub self_signed_dir: PathBuf,
    /// What relative DKIM key paths are relative to (the config file's directory).
    pub config_dir: PathBuf,
}

/// Builds everything the relay needs. Must run inside a Tokio runtime.
pub fn build(
    mail: &MailConfig,
    tenants: &[Tenant],
    paths: &Paths,
    sink: Arc<dyn EventSink>,
    delivery: DeliverySettings,
    scanner: Option<Arc<mamori_scan::Engine>>,
) -> Result<(Arc<MailContext>, Arc<Worker>), String> {
    let queue = QueueStore::open(&paths.queue_dir).map_err(|e| format!("mail.queue_dir: {e}"))?;
    let quarantine = QuarantineStore::open(&paths.quarantine_dir).map_err(|e| format!("mail.quarantine_dir: {e}"))?;
    let (cert, key) = match &paths.tls {
        Some(pair) => pair.clone(),
        None => crate::tls::ensure_self_signed(&paths.self_signed_dir, &mail.hostname)?,
    };
    let tls = crate::tls::server_config(&cert, &key).map_err(|e| format!("mail.tls_cert: {e}"))?;
    let auth = crate::auth::authenticator(mail.resolver, std::time::Duration::from_secs(5))
        .map_err(|e| format!("mail.resolver: {e}"))?;
    let ctx = Arc::new(MailContext {
        settings: SmtpSettings::from_config(mail),
        policy: ArcSwap::from_pointee(RelayPolicy::new(mail, tenants)),
        queue,
        quarantine,
        dkim: crate::dkim_sign::DkimSigners::load(mail, &paths.config_dir)?,
        spam: spam_filter(mail)?,
        scanner: if mail.antivirus { scanner } else { None },
        tls: Some(tls),
        auth: Some(
            SenderAuth::new(auth, &mail.hostname).with_public_suffix_list(public_suffixes(mail, &paths.config_dir)?),
        ),
        log: MailLog::start(sink),
        metrics: MailMetrics::registered(),
        queued: Notify::new(),
    });
    let resolver = MxResolver::new(mail.resolver).map_err(|e| format!("mail.resolver: {e}"))?;
    let worker = Worker::new(ctx.clone(), delivery, resolver);
    Ok((ctx, worker))
}

/// The Public Suffix List of `mail.public_suffix_list`, or the embedded one.
fn public_suffixes(mail: &MailConfig, base: &std::path::Path) -> Result<crate::dmarc::PublicSuffixList, String> {
    let list = match &mail.public_suffix_list {
        Some(path) => crate::dmarc::PublicSuffixList::load(&base.join(path))
            .map_err(|e| format!("mail.public_suffix_list: {e}"))?,
        None => crate::dmarc::PublicSuffixList::embedded(),
    };
    tracing::info!(version = list.version(), "DMARC uses the Public Suffix List");
    Ok(list)
}

/// The anti-spam filter of `[mail.spam]`, asking its block lists through the relay's resolver.
pub fn spam_filter(mail: &MailConfig) -> Result<Option<crate::spam::SpamFilter>, String> {
    if !mail.spam.enabled {
        return Ok(None);
    }
    let dns = if mail.spam.dnsbl.is_empty() && mail.spam.uribl.is_empty() {
        None
    } else {
        Some(MxResolver::new(mail.resolver).map_err(|e| format!("mail.resolver: {e}"))?)
    };
    crate::spam::SpamFilter::build(&mail.spam, dns).map(Some)
}

/// The queue directory of a configuration: `queue_dir` under the data directory.
pub fn queue_dir(mail: &MailConfig, data_dir: &Path) -> PathBuf {
    under(data_dir, &mail.queue_dir)
}

/// The quarantine directory of a configuration: `quarantine_dir` under the data directory.
pub fn quarantine_dir(mail: &MailConfig, data_dir: &Path) -> PathBuf {
    under(data_dir, &mail.quarantine_dir)
}

fn under(data_dir: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { data_dir.join(p) }
}
