//! The events a command reads from the log store: a query, a time range and tenants. Shared by
//! `mamori logs search` and `mamori hunt`, so both read their arguments the same way.

use anyhow::Context as _;
use clap::Args;
use jiff::Timestamp;
use mamori_logs::TenantScope;

#[derive(Args, Debug, Clone)]
pub struct EventRange {
    /// The query, e.g. 'source.ip:10.1.0.0/16 AND event.dataset:syslog'. Empty: everything.
    #[arg(default_value = "")]
    pub query: String,
    /// Start of the range (RFC 3339 or relative such as now-7d). Default: --last.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the range (default now).
    #[arg(long)]
    pub to: Option<String>,
    /// Length of the range ending now when --from is not given (e.g. 15m, 24h, 30d).
    #[arg(long, default_value = "24h")]
    pub last: String,
    /// Only these tenants; repeat for several.
    #[arg(long = "tenant")]
    pub tenants: Vec<String>,
}

impl EventRange {
    /// `(from, to)` against `now`.
    pub fn times(&self, now: Timestamp) -> anyhow::Result<(Timestamp, Timestamp)> {
        let to = match &self.to {
            Some(t) => super::logs_cmd::parse_time(t, now).context("--to")?,
            None => now,
        };
        let from = match &self.from {
            Some(f) => super::logs_cmd::parse_time(f, now).context("--from")?,
            None => super::logs_cmd::parse_time(&format!("now-{}", self.last), now).context("--last")?,
        };
        Ok((from, to))
    }

    /// The parsed query; an error shows where it went wrong.
    pub fn parsed_query(&self, now: Timestamp) -> anyhow::Result<mamori_query::Query> {
        mamori_query::parse(&self.query, now).map_err(|e| anyhow::anyhow!("{}", e.render(&self.query)))
    }

    pub fn scope(&self) -> TenantScope {
        if self.tenants.is_empty() { TenantScope::All } else { TenantScope::Only(self.tenants.clone()) }
    }
}
