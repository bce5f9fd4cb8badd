//! The web filter's versioned configuration (`[web]` in `mamori.toml`): lists and categories
//! common to every tenant, and each tenant's own. Changing it makes a revision like any other
//! policy change.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ipnet::IpNet;
use mamori_urlfilter::Entry;
use serde::{Deserialize, Serialize};

use crate::config::diagnostic::{FieldPath, Problem};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebConfig {
    /// A squidGuard/UT1-format directory of categories (one subdirectory each, with `domains`,
    /// `urls`, `expressions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories_dir: Option<PathBuf>,
    /// Threat-intelligence feeds, blocked for every tenant whatever its allow lists say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threat_feeds: Vec<ThreatFeed>,
    /// Lists and categories of every tenant.
    #[serde(default)]
    pub common: WebPolicy,
    /// Each tenant's additions, by tenant id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tenants: BTreeMap<String, WebPolicy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreatFeed {
    pub name: String,
    pub path: PathBuf,
    /// `plain` (domains, URLs, addresses), `hosts` or `csv`.
    #[serde(default = "default_feed_format")]
    pub format: String,
}

fn default_feed_format() -> String {
    "plain".into()
}

/// Block and allow lists and categories, for all tenants (`[web.common]`) or one
/// (`[web.tenants.ID]`, added to the common ones). An entry is a domain (covering its
/// subdomains), a URL prefix (`example.jp/forum/`), an address or a network; expressions go in
/// `block_regex`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebPolicy {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Readable, but no posting or uploads (bulletin boards, social networks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_only: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block_regex: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block_categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_only_categories: Vec<String>,
    /// Only the allow lists pass.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_only: bool,
    /// The tenant's own proxies, whose `X-Forwarded-For` names the terminal (tenants only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<IpNet>,
    /// Shown on the block page; the common one is the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helpdesk: Option<String>,
    /// Decrypt HTTPS (`CONNECT`) to filter full URLs and scan downloads; the terminals must
    /// trust the mamori CA (`mamori ca export`). A tenant's value overrides the common one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_inspect: Option<bool>,
    /// The tenant gets a CA of its own instead of the common one (tenants only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tls_own_ca: bool,
    /// Never decrypted, only tunnelled (banking, medical, government sites); added to the
    /// common ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_bypass_domains: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_bypass_categories: Vec<String>,
    /// Scan downloads for malware (default true when the scanning engine runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_downloads: Option<bool>,
    /// Scan request bodies (uploads) too (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_uploads: Option<bool>,
    /// What happens when a body cannot be scanned (engine error, larger than
    /// `proxy.scan_max_bytes`) or is only suspicious: `open` passes it, `closed` blocks it.
    /// Default `open`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_failure: Option<String>,
}

impl WebConfig {
    pub fn validate(&self, path: &FieldPath, tenant_ids: &[&str], problems: &mut Vec<Problem>) {
        for (i, feed) in self.threat_feeds.iter().enumerate() {
            let p = path.key("threat_feeds").index(i);
            if !matches!(feed.format.as_str(), "plain" | "hosts" | "csv") {
                problems.push(Problem::new(p.key("format"), format!("'{}' is not plain, hosts or csv", feed.format)));
            }
            if feed.name.trim().is_empty() {
                problems.push(Problem::new(p.key("name"), "a threat feed needs a name"));
            }
        }
        self.common.validate(&path.key("common"), problems);
        if self.common.tls_own_ca {
            problems.push(Problem::new(
                path.key("common").key("tls_own_ca"),
                "a CA of its own belongs to a tenant: put it under [web.tenants.ID]",
            ));
        }
        if !self.common.trusted_proxies.is_empty() {
            problems.push(Problem::new(
                path.key("common").key("trusted_proxies"),
                "trusted proxies belong to a tenant: put them under [web.tenants.ID]",
            ));
        }
        for (id, t) in &self.tenants {
            let p = path.key("tenants").key(id);
            if !tenant_ids.contains(&id.as_str()) {
                problems.push(Problem::new(p.clone(), format!("no tenant with id '{id}'")));
            }
            t.validate(&p, problems);
            for (i, net) in t.trusted_proxies.iter().enumerate() {
                if net.trunc() != *net {
                    problems.push(Problem::new(
                        p.key("trusted_proxies").index(i),
                        format!("{net} has host bits set; did you mean {}?", net.trunc()),
                    ));
                }
            }
        }
    }
}

impl WebPolicy {
    fn validate(&self, path: &FieldPath, problems: &mut Vec<Problem>) {
        for (key, list) in [("block", &self.block), ("allow", &self.allow), ("read_only", &self.read_only)] {
            for (i, e) in list.iter().enumerate() {
                if let Err(err) = Entry::guess(e) {
                    problems.push(Problem::new(path.key(key).index(i), err.to_string()));
                }
            }
        }
        for (i, e) in self.block_regex.iter().enumerate() {
            if let Err(err) = Entry::regex(e) {
                problems.push(Problem::new(path.key("block_regex").index(i), err.to_string()));
            }
        }
        for (i, e) in self.tls_bypass_domains.iter().enumerate() {
            if let Err(err) = Entry::guess(e) {
                problems.push(Problem::new(path.key("tls_bypass_domains").index(i), err.to_string()));
            }
        }
        if let Some(f) = &self.scan_failure
            && f != "open"
            && f != "closed"
        {
            problems.push(Problem::new(path.key("scan_failure"), format!("'{f}' is not open or closed")));
        }
        for (key, list) in [
            ("block_categories", &self.block_categories),
            ("read_only_categories", &self.read_only_categories),
            ("tls_bypass_categories", &self.tls_bypass_categories),
        ] {
            for (i, c) in list.iter().enumerate() {
                if c.is_empty() || c.contains(['/', '\\']) || c.starts_with('.') {
                    problems.push(Problem::new(path.key(key).index(i), format!("'{c}' is not a category name")));
                }
            }
        }
    }
}
