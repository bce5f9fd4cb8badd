//! The configuration file, `mamori.toml`.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::attribution::LogSender;
use crate::tenant::Tenant;
use crate::web::WebConfig;

pub use super::mail::MailConfig;

/// The whole file. Unknown keys are errors (reported all at once by the loader).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub mamori: General,
    #[serde(default)]
    pub api: ApiConfig,
    #[serde(default)]
    pub collect: CollectConfig,
    #[serde(default)]
    pub logs: LogsConfig,
    #[serde(default)]
    pub scan: ScanConfig,
    #[serde(default)]
    pub tenants: Vec<Tenant>,
    #[serde(default)]
    pub proxy: ProxyConfig,
    #[serde(default)]
    pub web: WebConfig,
    #[serde(default)]
    pub mail: MailConfig,
    #[serde(default)]
    pub edge: super::edge::EdgeConfig,
    #[serde(default)]
    pub dns: super::dns::DnsConfig,
    #[serde(default)]
    pub detect: super::detect::DetectConfig,
}

/// The forward web proxy's listener; its lists and policies are in `[web]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// Not started when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// Let sources outside every tenant network browse (with the common policy).
    #[serde(default)]
    pub allow_unassigned: bool,
    /// A client must send a request's headers within this many seconds.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Largest request body (uploads) accepted; larger ones get 413.
    #[serde(default = "default_max_request_body")]
    pub max_request_body_bytes: u64,
    /// Bodies are held for the malware scan up to this size; beyond it the tenant's
    /// `scan_failure` decides.
    #[serde(default = "default_scan_max")]
    pub scan_max_bytes: u64,
    /// A DNS server (`ip:port`) for origins' names; the system resolver when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<SocketAddr>,
    /// Plain-HTTP origins spoken to in HTTP/2 with prior knowledge (h2c): host names (with
    /// their subdomains) or addresses, optionally with `:port`. A plain origin cannot offer
    /// HTTP/2 itself, so it is named here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub h2c_origins: Vec<String>,
    /// More CA certificates (PEM) trusted for origins under TLS inspection, besides the
    /// public roots (a private PKI, tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_extra_ca: Option<PathBuf>,
    /// Minted host certificates kept for reuse.
    #[serde(default = "default_leaf_cache")]
    pub tls_leaf_cache: usize,
    /// A host whose terminal rejected the mamori CA (certificate pinning) is tunnelled
    /// without decryption for this long.
    #[serde(default = "default_pin_bypass")]
    pub tls_pin_bypass_minutes: u64,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            listen: None,
            allow_unassigned: false,
            header_timeout_secs: default_header_timeout(),
            connect_timeout_secs: default_connect_timeout(),
            max_request_body_bytes: default_max_request_body(),
            scan_max_bytes: default_scan_max(),
            resolver: None,
            h2c_origins: Vec::new(),
            tls_extra_ca: None,
            tls_leaf_cache: default_leaf_cache(),
            tls_pin_bypass_minutes: default_pin_bypass(),
        }
    }
}

fn default_max_request_body() -> u64 {
    100 << 20
}
fn default_scan_max() -> u64 {
    32 << 20
}
fn default_leaf_cache() -> usize {
    1000
}
fn default_pin_bypass() -> u64 {
    60
}

fn default_header_timeout() -> u64 {
    10
}
fn default_connect_timeout() -> u64 {
    10
}

/// The malware scanning engine and its ICAP listener for proxies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanConfig {
    /// ICAP server (RFC 3507) for Squid's `icap_service`; not started when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icap: Option<SocketAddr>,
    /// ClamAV databases (.cvd, .cld, .hdb, .ndb, .ldb, ...) and SHA-256 lists: directories or files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clamav_db: Vec<PathBuf>,
    /// YARA rules: directories (searched recursively) or files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PathBuf>,
    /// A signature source released longer ago than this raises an alarm.
    #[serde(default = "default_signature_age")]
    pub max_signature_age_hours: u64,
    /// A running clamd (`unix:/run/clamav/clamd.ctl` or `host:port`) asked as a second engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clamd: Option<String>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            icap: None,
            clamav_db: Vec::new(),
            rules: Vec::new(),
            max_signature_age_hours: default_signature_age(),
            clamd: None,
        }
    }
}

fn default_signature_age() -> u64 {
    24
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct General {
    /// Where everything mamori keeps lives; relative paths are relative to the config file.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Zone for timestamps that carry none (RFC 3164 syslog).
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Shown in the console and reports, e.g. "みどり県 自治体情報セキュリティクラウド".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Default for General {
    fn default() -> Self {
        General { data_dir: default_data_dir(), timezone: default_timezone(), name: None }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_timezone() -> String {
    "Asia/Tokyo".into()
}

/// The REST API (and, later, the console) listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiConfig {
    #[serde(default = "default_true")]
    pub enabled: bool,
    #[serde(default = "default_api_listen")]
    pub listen: SocketAddr,
    /// PEM certificate chain and key to serve HTTPS; plain HTTP when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Largest accepted request body (log ingestion batches), in bytes.
    #[serde(default = "default_api_body_limit")]
    pub max_body_bytes: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            enabled: true,
            listen: default_api_listen(),
            tls_cert: None,
            tls_key: None,
            max_body_bytes: default_api_body_limit(),
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_api_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8400))
}
fn default_api_body_limit() -> usize {
    32 << 20
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectConfig {
    #[serde(default)]
    pub syslog: SyslogConfig,
    /// Log senders outside their tenant's networks.
    #[serde(default)]
    pub senders: Vec<LogSender>,
}

/// Syslog receivers. A listener left out is not started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyslogConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<SocketAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<SocketAddr>,
    /// Syslog over TLS (RFC 5425).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<SocketAddr>,
    /// PEM files for the TLS listener; a self-signed pair is generated in the data directory
    /// when both are absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Messages longer than this are truncated and flagged.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: usize,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        SyslogConfig {
            udp: None,
            tcp: None,
            tls: None,
            tls_cert: None,
            tls_key: None,
            max_message_bytes: default_max_message(),
        }
    }
}

fn default_max_message() -> usize {
    64 * 1024
}

/// The log store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogsConfig {
    /// Days an event stays in the searchable index.
    #[serde(default = "default_hot_days")]
    pub hot_days: u32,
    /// Years an event stays in the compressed archive.
    #[serde(default = "default_archive_years")]
    pub archive_years: u32,
    /// The requirement is at least 5 years; a shorter archive must be asked for explicitly.
    #[serde(default)]
    pub allow_archive_below_5_years: bool,
    /// Size at which a write-ahead log segment is closed and a new one begun.
    #[serde(default = "default_wal_segment_mb")]
    pub wal_segment_mb: u64,
    /// How often indexed events become searchable.
    #[serde(default = "default_commit_interval_ms")]
    pub commit_interval_ms: u64,
    /// Receivers push back once free space on the data disk falls below this.
    #[serde(default = "default_min_free_disk_mb")]
    pub min_free_disk_mb: u64,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            hot_days: default_hot_days(),
            archive_years: default_archive_years(),
            allow_archive_below_5_years: false,
            wal_segment_mb: default_wal_segment_mb(),
            commit_interval_ms: default_commit_interval_ms(),
            min_free_disk_mb: default_min_free_disk_mb(),
        }
    }
}

fn default_hot_days() -> u32 {
    90
}
fn default_archive_years() -> u32 {
    5
}
fn default_wal_segment_mb() -> u64 {
    64
}
fn default_commit_interval_ms() -> u64 {
    1000
}
fn default_min_free_disk_mb() -> u64 {
    256
}
