//! Alert routing: every stored alert also goes to the configured channels (`[[detect.channels]]`):
//! a webhook (JSON POST), e-mail (SMTP) or syslog (RFC 5424 over UDP or TCP).
//!
//! Each channel has a thread and a bounded queue of its own: routing only enqueues, so a slow or
//! dead destination never holds up detection or ingestion; a full queue drops the alert (it is
//! still in the log store) and counts it. Repeats of the same alert (rule, tenant, host) within
//! the de-duplication window are sent once per channel. A reloaded configuration starts a new
//! router ([`Router::start`], refused when a channel cannot be built) which takes over the
//! de-duplication memory of the channels that did not change ([`Router::take_over`]); the old
//! channels' threads deliver what they already hold, then end. Secrets (webhook tokens, SMTP passwords)
//! are never logged: errors name the channel, not its settings.

mod smtp;
mod syslog;
mod webhook;

use std::sync::LazyLock;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use mamori_core::config::detect::{AlertChannel, ChannelKind};
use mamori_core::config::monitor::AlertLevel;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use rustc_hash::FxHashMap;
use serde_json::Value;

/// Alerts waiting per channel at most.
const QUEUE: usize = 1024;
/// Attempts per alert before it is given up (counted as failed).
const ATTEMPTS: u32 = 4;

type Labels = Vec<(&'static str, String)>;

struct Metrics {
    /// By channel and outcome: sent, failed, deduplicated, below_level, queue_full.
    routed: Family<Labels, Counter>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let m = Metrics { routed: Family::default() };
    mamori_core::metrics::register(
        "detect_alerts_routed",
        "Alerts handed to a channel, by channel and outcome (sent, failed, deduplicated, queue_full)",
        m.routed.clone(),
    );
    m
});

fn count(channel: &str, outcome: &'static str) {
    METRICS.routed.get_or_create(&vec![("channel", channel.to_string()), ("outcome", outcome.to_string())]).inc();
}

/// The level of an alert event (`rule.x_level`).
pub fn alert_level(alert: &Value) -> AlertLevel {
    AlertLevel::from_sigma(alert.pointer("/rule/x_level").and_then(Value::as_str))
}

/// Delivers one alert; the error is for the log (no secrets in it).
trait Deliver: Send {
    fn deliver(&mut self, alert: &Value) -> Result<(), String>;
}

struct Channel {
    config: AlertChannel,
    queue: SyncSender<Value>,
    /// De-duplication key → when it was last sent.
    recent: FxHashMap<String, Timestamp>,
}

/// The channels of `[detect]`.
pub struct Router {
    channels: Vec<Channel>,
    window: SignedDuration,
}

impl Router {
    /// Starts a thread per channel; refused (no thread started) when a channel cannot be built,
    /// e.g. an e-mail channel with `tls = "starttls"` whose `ca_file` does not load. The error
    /// names the channel, never its secrets.
    pub fn start(channels: &[AlertChannel], dedup_secs: u64) -> Result<Router, String> {
        let built = build(channels)?;
        let mut out = Vec::new();
        for (c, deliver) in built {
            let (tx, rx) = sync_channel::<Value>(QUEUE);
            let name = c.name.clone();
            std::thread::Builder::new()
                .name(format!("alerts-{}", c.name))
                .spawn(move || run(name, deliver, rx))
                .map_err(|e| format!("channel {}: cannot start its thread: {e}", c.name))?;
            out.push(Channel { config: c.clone(), queue: tx, recent: FxHashMap::default() });
        }
        Ok(Router { channels: out, window: SignedDuration::from_secs(dedup_secs.min(i64::MAX as u64 / 2) as i64) })
    }

    /// Takes over the de-duplication memory of `old`'s channels that this router has unchanged
    /// (same name and settings): a reload does not send again what was just sent. A changed
    /// channel (another URL, server, level, ...) starts with an empty memory.
    pub fn take_over(&mut self, old: &mut Router) {
        for c in &mut self.channels {
            if let Some(o) = old.channels.iter_mut().find(|o| o.config == c.config) {
                c.recent = std::mem::take(&mut o.recent);
            }
        }
    }

    /// The names of the channels, for messages.
    pub fn names(&self) -> Vec<&str> {
        self.channels.iter().map(|c| c.config.name.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// Hands the alerts to their channels without waiting.
    pub fn route(&mut self, alerts: &[Value], now: Timestamp) {
        for alert in alerts {
            let level = alert_level(alert);
            let tenant = alert.pointer("/organization/id").and_then(Value::as_str).unwrap_or_default();
            let key = dedup_key(alert);
            for c in &mut self.channels {
                if level < c.config.min_level
                    || (!c.config.tenants.is_empty() && !c.config.tenants.iter().any(|t| t == tenant))
                {
                    continue;
                }
                if c.recent.get(&key).is_some_and(|last| now - self.window < *last) {
                    count(&c.config.name, "deduplicated");
                    continue;
                }
                match c.queue.try_send(alert.clone()) {
                    Ok(()) => {
                        if c.recent.len() > 100_000 {
                            let window = self.window;
                            c.recent.retain(|_, last| now - window < *last);
                        }
                        c.recent.insert(key.clone(), now);
                    }
                    Err(TrySendError::Full(_)) => {
                        count(&c.config.name, "queue_full");
                        tracing::warn!(channel = %c.config.name, "alert channel is behind: an alert was not sent (it is stored)");
                    }
                    Err(TrySendError::Disconnected(_)) => count(&c.config.name, "failed"),
                }
            }
        }
    }
}

/// Whether every channel can be built (what [`Router::start`] would refuse), without starting
/// anything: for checking a configuration before it is applied.
pub fn check(channels: &[AlertChannel]) -> Result<(), String> {
    build(channels).map(|_| ())
}

fn build(channels: &[AlertChannel]) -> Result<Vec<(&AlertChannel, Box<dyn Deliver>)>, String> {
    let mut built = Vec::new();
    for c in channels {
        let deliver: Box<dyn Deliver> = match c.kind {
            ChannelKind::Webhook => Box::new(webhook::Webhook::new(c)),
            ChannelKind::Email => Box::new(smtp::Smtp::new(c).map_err(|e| format!("channel {}: {e}", c.name))?),
            ChannelKind::Syslog => Box::new(syslog::Syslog::new(c)),
        };
        built.push((c, deliver));
    }
    Ok(built)
}

/// Repeats of one finding: the same rule, tenant and host (and monitor group).
fn dedup_key(alert: &Value) -> String {
    let s = |p: &str| alert.pointer(p).map(Value::to_string).unwrap_or_default();
    format!("{}|{}|{}|{}", s("/rule/id"), s("/organization/id"), s("/host/name"), s("/detect/monitor/group"))
}

/// A channel's thread: deliver with retries and backoff; the queue fills meanwhile.
fn run(name: String, mut deliver: Box<dyn Deliver>, rx: Receiver<Value>) {
    while let Ok(alert) = rx.recv() {
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            match deliver.deliver(&alert) {
                Ok(()) => {
                    count(&name, "sent");
                    break;
                }
                Err(e) if attempt == ATTEMPTS => {
                    count(&name, "failed");
                    tracing::warn!(channel = %name, error = %e, attempts = ATTEMPTS, "alert not delivered; given up (it is stored)");
                }
                Err(e) => {
                    tracing::debug!(channel = %name, error = %e, attempt, "alert not delivered yet; retrying");
                    std::thread::sleep(delay);
                    delay *= 2;
                }
            }
        }
    }
}

/// A one-line summary for subjects and syslog messages.
fn summary(alert: &Value) -> String {
    let get = |p: &str| alert.pointer(p).and_then(Value::as_str).unwrap_or("-");
    format!(
        "[mamori {}] {} (tenant {}, host {})",
        alert_level(alert).as_str(),
        get("/rule/name"),
        get("/organization/id"),
        get("/host/name")
    )
}

#[cfg(test)]
mod tests;
