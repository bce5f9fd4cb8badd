//! `[detect]`: live evaluation of Sigma rules on every event the log store accepts, and where
//! alerts go. Service settings, read at start and again on `mamori reload` (SIGHUP: rules,
//! pipeline, placeholders, channels and `dedup_secs`; `enabled` and `queue_batches` take a
//! restart), except `[detect.monitor]` (threshold, absence and suppression rules), which is
//! versioned like tenants (see [`super::monitor`]). Channels hold secrets (webhook tokens, SMTP
//! passwords), so they stay out of revisions, which the API shows and diffs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::diagnostic::{FieldPath, Problem};
pub use super::monitor::{AlertLevel, MonitorConfig};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectConfig {
    /// Evaluate ingested events (when `rules` names any).
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Sigma rule files or directories (searched recursively), relative to the config file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PathBuf>,
    /// Values of `%name%` placeholders for Sigma's `expand` modifier (SigmaHQ's placeholder
    /// rules: `Admins_Workstations = ["ADM-PC*"]`); a rule naming an undefined one is not loaded.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub placeholders: std::collections::BTreeMap<String, Vec<String>>,
    /// A THOR-format log source map replacing the built-in Windows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_pipeline: Option<PathBuf>,
    /// Batches of events waiting for evaluation at most; beyond it batches are left
    /// unevaluated, counted and logged (ingestion never waits for detection).
    #[serde(default = "default_queue_batches")]
    pub queue_batches: usize,
    /// Threshold, absence and suppression rules (versioned: changes become revisions).
    #[serde(default, skip_serializing_if = "MonitorConfig::is_empty")]
    pub monitor: MonitorConfig,
    /// Where alerts are sent besides the log store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<AlertChannel>,
    /// The same alert (rule, tenant, host) is sent once per channel within this window.
    #[serde(default = "default_dedup_secs")]
    pub dedup_secs: u64,
}

/// One destination of alerts.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertChannel {
    /// Names it in logs and metrics.
    pub name: String,
    pub kind: ChannelKind,
    /// Alerts below this level are not sent here.
    #[serde(default)]
    pub min_level: AlertLevel,
    /// Only these tenants' alerts; empty: every tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    /// webhook: the URL the alert is POSTed to as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// webhook: sent as `Authorization: Bearer TOKEN` (never logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// email: the SMTP server (`host:port`); syslog: the receiver (`host:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// email: envelope and header sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// email: recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// email: SMTP AUTH PLAIN user and password (never logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// syslog: `udp` (default) or `tcp` (octet-counted frames, RFC 6587).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// email: `starttls` (STARTTLS required, RFC 3207, the server's certificate verified),
    /// `opportunistic` (the default: STARTTLS when offered, not verified) or `none` (plain, e.g.
    /// a relay on the same host). A password is sent only after verified TLS or with `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    /// email: PEM CA certificates the server's certificate is verified against (`tls =
    /// "starttls"`); the public roots when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<std::path::PathBuf>,
}

/// Secrets stay out of debug output (and so out of logs).
impl std::fmt::Debug for AlertChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &Option<String>| s.as_ref().map(|_| "<hidden>");
        f.debug_struct("AlertChannel")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("min_level", &self.min_level)
            .field("tenants", &self.tenants)
            .field("url", &self.url)
            .field("token", &hidden(&self.token))
            .field("server", &self.server)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("protocol", &self.protocol)
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Webhook,
    Email,
    Syslog,
}

/// Problems of the channels: the fields each kind needs.
pub fn check(config: &DetectConfig, tenants: &[&str], root: &FieldPath) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in config.channels.iter().enumerate() {
        let p = root.key("detect").key("channels").index(i);
        if c.name.trim().is_empty() || !names.insert(c.name.as_str()) {
            problems.push(Problem::new(p.key("name"), "each channel needs a name of its own"));
        }
        for t in &c.tenants {
            if !tenants.contains(&t.as_str()) {
                problems.push(Problem::new(p.key("tenants"), format!("no tenant with id '{t}'")));
            }
        }
        let mut need = |field: &str, present: bool| {
            if !present {
                problems
                    .push(Problem::new(p.key(field), format!("a {:?} channel needs {field}", c.kind).to_lowercase()));
            }
        };
        match c.kind {
            ChannelKind::Webhook => {
                need("url", c.url.as_deref().is_some_and(|u| u.starts_with("http://") || u.starts_with("https://")))
            }
            ChannelKind::Email => {
                need("server", c.server.is_some());
                need("from", c.from.is_some());
                need("to", !c.to.is_empty());
                need("tls", matches!(c.tls.as_deref(), None | Some("starttls" | "opportunistic" | "none")));
                if c.username.is_some() && matches!(c.tls.as_deref(), None | Some("opportunistic")) {
                    problems.push(Problem::new(
                        p.key("tls"),
                        "a password is sent only over verified TLS: set tls = \"starttls\" (or \"none\" for a relay on the same host)",
                    ));
                }
            }
            ChannelKind::Syslog => {
                need("server", c.server.is_some());
                need("protocol", matches!(c.protocol.as_deref(), None | Some("udp") | Some("tcp")));
            }
        }
    }
    problems
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            enabled: default_enabled(),
            rules: Vec::new(),
            placeholders: Default::default(),
            windows_pipeline: None,
            queue_batches: default_queue_batches(),
            monitor: MonitorConfig::default(),
            channels: Vec::new(),
            dedup_secs: default_dedup_secs(),
        }
    }
}

fn default_enabled() -> bool {
    true
}

fn default_queue_batches() -> usize {
    4096
}

fn default_dedup_secs() -> u64 {
    300
}
