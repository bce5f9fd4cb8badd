//! The syslog receivers and what they share.
//!
//! Each receiver is a tokio task that takes an already bound socket, an `Arc<CollectContext>`
//! and a `CancellationToken`, and returns once the token is cancelled and what it had read is
//! stored. A configuration reload calls [`CollectContext::set_policy`]; listeners keep running
//! and connections stay open.
//!
//! ```no_run
//! # async fn example(sink: std::sync::Arc<dyn mamori_core::EventSink>,
//! #                  directory: std::sync::Arc<mamori_core::TenantDirectory>) -> std::io::Result<()> {
//! use mamori_collect::receiver::{self, CollectContext, CollectPolicy};
//! use tokio_util::sync::CancellationToken;
//!
//! let policy = CollectPolicy::new(directory, mamori_collect::syslog::default_timezone(), 64 * 1024);
//! let ctx = CollectContext::new(sink, policy);
//! let shutdown = CancellationToken::new();
//! let udp = tokio::net::UdpSocket::bind("0.0.0.0:514").await?;
//! let tcp = tokio::net::TcpListener::bind("0.0.0.0:514").await?;
//! tokio::spawn(receiver::udp::serve(udp, ctx.clone(), shutdown.clone()));
//! tokio::spawn(receiver::tcp::serve(tcp, ctx.clone(), shutdown.clone()));
//! # Ok(()) }
//! ```

mod attribute;
mod stream;
mod submit;
pub mod tcp;
pub mod tls;
pub mod udp;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use jiff::tz::TimeZone;
use mamori_core::config::SyslogConfig;
use mamori_core::{EventSink, TenantDirectory};

use attribute::UnassignedAlarms;
pub use attribute::{alarm_event, attribute};

/// What a configuration reload can change without restarting a listener.
#[derive(Debug)]
pub struct CollectPolicy {
    /// Tenants and log senders, for attribution by sender address.
    pub directory: Arc<TenantDirectory>,
    /// Zone for timestamps without an offset.
    pub timezone: TimeZone,
    /// Longer messages are cut and flagged. A TCP/TLS connection keeps the limit it started
    /// with; new connections and UDP pick up a change at once.
    pub max_message_bytes: usize,
}

impl CollectPolicy {
    pub fn new(directory: Arc<TenantDirectory>, timezone: TimeZone, max_message_bytes: usize) -> Self {
        CollectPolicy { directory, timezone, max_message_bytes }
    }

    /// From `[collect.syslog]`; `timezone` is `[mamori] timezone`, already resolved.
    pub fn from_config(directory: Arc<TenantDirectory>, config: &SyslogConfig, timezone: TimeZone) -> Self {
        CollectPolicy::new(directory, timezone, config.max_message_bytes)
    }
}

/// Tuning of the receivers; the defaults suit a prefecture's SOC.
#[derive(Debug, Clone)]
pub struct ReceiverOptions {
    /// A batch is handed to the sink once it holds this many events...
    pub batch_max_events: usize,
    /// ...or once its first event has waited this long.
    pub batch_max_delay: Duration,
    /// First and longest wait between retries when the sink refuses a batch.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// Memory for UDP datagrams waiting for the sink; beyond it datagrams are dropped (UDP
    /// senders cannot be slowed down) and the drops counted and alarmed.
    pub udp_queue_bytes: usize,
    /// A TLS client that has not finished its handshake by then is disconnected.
    pub tls_handshake_timeout: Duration,
}

impl Default for ReceiverOptions {
    fn default() -> Self {
        ReceiverOptions {
            batch_max_events: 1000,
            batch_max_delay: Duration::from_millis(5),
            retry_initial: Duration::from_millis(50),
            retry_max: Duration::from_secs(5),
            udp_queue_bytes: 64 << 20,
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Everything the receivers share: the sink, the swappable policy, the alarm memory.
pub struct CollectContext {
    sink: Arc<dyn EventSink>,
    policy: ArcSwap<CollectPolicy>,
    options: ReceiverOptions,
    alarms: UnassignedAlarms,
}

impl CollectContext {
    pub fn new(sink: Arc<dyn EventSink>, policy: CollectPolicy) -> Arc<Self> {
        Self::with_options(sink, policy, ReceiverOptions::default())
    }

    pub fn with_options(sink: Arc<dyn EventSink>, policy: CollectPolicy, options: ReceiverOptions) -> Arc<Self> {
        Arc::new(CollectContext {
            sink,
            policy: ArcSwap::from_pointee(policy),
            options,
            alarms: UnassignedAlarms::default(),
        })
    }

    /// Swaps in a new policy (configuration reload); takes effect for the next batch.
    pub fn set_policy(&self, policy: CollectPolicy) {
        self.policy.store(Arc::new(policy));
    }

    pub fn policy(&self) -> Arc<CollectPolicy> {
        self.policy.load_full()
    }

    pub fn options(&self) -> &ReceiverOptions {
        &self.options
    }
}
