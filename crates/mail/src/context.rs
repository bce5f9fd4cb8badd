//! What every SMTP session and the delivery worker share.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use mamori_core::config::mail::MailConfig;
use tokio::sync::Notify;

use crate::auth::SenderAuth;
use crate::events::MailLog;
use crate::metrics::MailMetrics;
use crate::policy::RelayPolicy;
use crate::quarantine::QuarantineStore;
use crate::queue::QueueStore;

/// Limits and names of the SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub hostname: String,
    pub max_message_bytes: u64,
    pub max_recipients: usize,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub command_timeout: Duration,
    pub data_timeout: Duration,
}

impl SmtpSettings {
    pub fn from_config(c: &MailConfig) -> SmtpSettings {
        SmtpSettings {
            hostname: c.hostname.clone(),
            max_message_bytes: c.max_message_bytes,
            max_recipients: c.max_recipients,
            max_connections: c.max_connections,
            max_connections_per_ip: c.max_connections_per_ip,
            command_timeout: Duration::from_secs(c.command_timeout_secs.max(1)),
            data_timeout: Duration::from_secs(c.data_timeout_secs.max(1)),
        }
    }
}

pub struct MailContext {
    pub settings: SmtpSettings,
    /// Swapped whole when a configuration revision changes tenants.
    pub policy: ArcSwap<RelayPolicy>,
    pub queue: QueueStore,
    pub quarantine: QuarantineStore,
    /// Tenants' DKIM keys for outbound mail.
    pub dkim: crate::dkim_sign::DkimSigners,
    /// Anti-spam scoring of mail from the internet; absent when `[mail.spam]` is off.
    pub spam: Option<crate::spam::SpamFilter>,
    /// The scanning engine for every message and attachment; absent when anti-virus is off.
    pub scanner: Option<Arc<mamori_scan::Engine>>,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Absent: SPF, DKIM and DMARC are not evaluated (tests that need no DNS).
    pub auth: Option<SenderAuth>,
    pub log: MailLog,
    pub metrics: MailMetrics,
    /// Wakes the delivery worker when a message was queued.
    pub queued: Notify,
}
