//! `[edge]`: the reverse proxy in front of municipal web sites, with the WAF. Service settings,
//! not part of the versioned configuration: a reload (`mamori reload`, SIGHUP) re-reads them.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::diagnostic::{FieldPath, Problem};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeConfig {
    /// Plain HTTP listener; not started when absent.
    #[serde(default = "default_http", skip_serializing_if = "Option::is_none")]
    pub http: Option<SocketAddr>,
    /// HTTPS listener (certificates per site, chosen by SNI); not started when absent or
    /// when no site has a certificate.
    #[serde(default = "default_https", skip_serializing_if = "Option::is_none")]
    pub https: Option<SocketAddr>,
    /// A client must send a request's headers within this many seconds (slowloris).
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// An origin must answer (headers) within this many seconds, or the client gets 504.
    #[serde(default = "default_origin_timeout")]
    pub origin_timeout_secs: u64,
    /// Larger request bodies get 413.
    #[serde(default = "default_max_request_body")]
    pub max_request_body_bytes: u64,
    /// Response bodies are held for the WAF's phase 4 up to this size; the rest passes
    /// uninspected (ModSecurity's `ProcessPartial`).
    #[serde(default = "default_max_inspected_response")]
    pub max_inspected_response_bytes: u64,
    /// Every origin is asked for its site's `health_check_path` this often.
    #[serde(default = "default_health_interval")]
    pub health_check_interval_secs: u64,
    /// Named rule sets (SecLang files, e.g. the OWASP CRS) that sites refer to.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rulesets: BTreeMap<String, RulesetConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<SiteConfig>,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        EdgeConfig {
            http: default_http(),
            https: default_https(),
            header_timeout_secs: default_header_timeout(),
            connect_timeout_secs: default_connect_timeout(),
            origin_timeout_secs: default_origin_timeout(),
            max_request_body_bytes: default_max_request_body(),
            max_inspected_response_bytes: default_max_inspected_response(),
            health_check_interval_secs: default_health_interval(),
            rulesets: BTreeMap::new(),
            sites: Vec::new(),
        }
    }
}

/// SecLang files loaded in order: `setup` (CRS's `crs-setup.conf`), then each site's
/// paranoia level, then `rules` (paths or `dir/*.conf` patterns, matches sorted by name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesetConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<PathBuf>,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WafMode {
    /// No rule evaluation.
    Off,
    /// Rules run and alerts are logged; nothing is blocked.
    Detect,
    /// Rules run, alerts are logged, and requests they deny get the block page.
    Block,
}

/// `X-Frame-Options` added to responses whose origin did not set it (clickjacking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameOptions {
    Deny,
    Sameorigin,
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// A short name for logs and metrics.
    pub name: String,
    /// The tenant (municipality) whose site this is: `organization.id` of its events.
    pub tenant: String,
    /// Host names the site answers to (`Host` and TLS SNI), without port. `*.example.jp`
    /// answers for every name under example.jp (not example.jp itself); an exact name wins
    /// over a wildcard, and a longer wildcard over a shorter one.
    pub hosts: Vec<String>,
    /// Origin servers (`http://host:port` or `https://host:port`), used in turn; ones failing
    /// health checks are skipped.
    pub origins: Vec<String>,
    /// CA certificates (PEM) that `https://` origins' certificates must chain to; when absent,
    /// the system's trusted roots. The name checked is the origin's host as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_ca: Option<PathBuf>,
    #[serde(default = "default_waf")]
    pub waf: WafMode,
    /// The name of a ruleset in `[edge.rulesets]`; needed unless `waf = "off"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruleset: Option<String>,
    /// CRS paranoia level, 1 (few false positives) to 4.
    #[serde(default = "default_paranoia")]
    pub paranoia: u8,
    /// Rule ids removed for this site only (`SecRuleRemoveById`), for false positives: ids
    /// (`942100`) or inclusive ranges (`"942100-942199"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_rules: Vec<RuleIds>,
    #[serde(default = "default_frame_options")]
    pub frame_options: FrameOptions,
    /// When set, `Content-Security-Policy: frame-ancestors VALUE` is added to responses whose
    /// origin sent no `frame-ancestors` (e.g. `'self'`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_ancestors: Option<String>,
    /// Certificate chain and private key (PEM) for the site's host names on the HTTPS listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    #[serde(default = "default_health_path")]
    pub health_check_path: String,
}

fn default_http() -> Option<SocketAddr> {
    Some(SocketAddr::from(([0, 0, 0, 0], 8080)))
}
fn default_https() -> Option<SocketAddr> {
    Some(SocketAddr::from(([0, 0, 0, 0], 8443)))
}
fn default_header_timeout() -> u64 {
    10
}
fn default_connect_timeout() -> u64 {
    5
}
fn default_origin_timeout() -> u64 {
    60
}
fn default_max_request_body() -> u64 {
    10 << 20
}
fn default_max_inspected_response() -> u64 {
    512 << 10
}
fn default_health_interval() -> u64 {
    5
}
fn default_waf() -> WafMode {
    WafMode::Block
}
fn default_paranoia() -> u8 {
    1
}
fn default_frame_options() -> FrameOptions {
    FrameOptions::Sameorigin
}
fn default_health_path() -> String {
    "/".into()
}

/// One rule id or an inclusive range of them, written `942100` or `"942100-942199"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleIds {
    pub first: u32,
    pub last: u32,
}

impl RuleIds {
    pub fn one(id: u32) -> RuleIds {
        RuleIds { first: id, last: id }
    }

    pub fn parse(s: &str) -> Result<RuleIds, String> {
        let num = |x: &str| x.trim().parse::<u32>().map_err(|_| format!("'{s}' is not a rule id or id range"));
        let ids = match s.split_once('-') {
            Some((a, b)) => RuleIds { first: num(a)?, last: num(b)? },
            None => RuleIds::one(num(s)?),
        };
        if ids.first > ids.last {
            return Err(format!("rule id range '{s}' ends before it starts"));
        }
        Ok(ids)
    }
}

/// SecLang's form: `942100` or `942100-942199`.
impl std::fmt::Display for RuleIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last { write!(f, "{}", self.first) } else { write!(f, "{}-{}", self.first, self.last) }
    }
}

impl Serialize for RuleIds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.first == self.last { s.serialize_u32(self.first) } else { s.serialize_str(&self.to_string()) }
    }
}

impl<'de> Deserialize<'de> for RuleIds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Id(u32),
            Text(String),
        }
        match Written::deserialize(d)? {
            Written::Id(id) => Ok(RuleIds::one(id)),
            Written::Text(t) => RuleIds::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

/// An origin as written in the configuration: `http://host:port` (port 80 when left out) or
/// `https://host:port` (port 443).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginAddr {
    /// `host:port`, as sent in the request line's authority.
    pub authority: String,
    /// Reached over TLS (`https://`).
    pub tls: bool,
}

impl OriginAddr {
    pub fn parse(s: &str) -> Result<OriginAddr, String> {
        let (tls, rest) = match s.split_once("://") {
            Some(("http", rest)) => (false, rest),
            Some(("https", rest)) => (true, rest),
            Some((scheme, _)) => {
                return Err(format!("origin '{s}': only http:// and https:// origins are supported, not {scheme}://"));
            }
            None => (false, s),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return Err(format!("origin '{s}' must be http(s)://host:port without a path"));
        }
        // `[v6]:port` or `host:port`; the port defaults to 80.
        let (host, port) = match rest.strip_prefix('[') {
            Some(v6) => {
                let (addr, after) = v6.split_once(']').ok_or_else(|| format!("origin '{s}': unclosed ["))?;
                (format!("[{addr}]"), after.strip_prefix(':'))
            }
            None => match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (rest.to_string(), None),
            },
        };
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0),
            None => Some(if tls { 443 } else { 80 }),
        };
        let Some(port) = port.filter(|_| host.len() > 2 || !host.starts_with('[')).filter(|_| !host.is_empty()) else {
            return Err(format!("origin '{s}': invalid host or port"));
        };
        let authority = format!("{host}:{port}");
        Ok(OriginAddr { authority, tls })
    }
}

/// A host name as sites list them: lower case, no port; `*.` may stand for the names under a
/// domain (`*.example.jp`).
pub fn valid_host(h: &str) -> bool {
    let h = h.strip_prefix("*.").filter(|rest| rest.contains('.')).unwrap_or(h);
    !h.is_empty()
        && h.len() <= 253
        && h.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        && !h.starts_with(['.', '-'])
}

/// Checks of `[edge]` that need no file access; `tenants` are the ids the file defines.
pub fn check(edge: &EdgeConfig, tenants: &[&str], root: &FieldPath) -> Vec<Problem> {
    let mut problems = Vec::new();
    let at = root.key("edge");
    if let (Some(a), Some(b)) = (edge.http, edge.https)
        && a == b
    {
        problems.push(Problem::new(at.key("https"), format!("{b} is already used by edge.http")));
    }
    if edge.max_request_body_bytes == 0 {
        problems.push(Problem::new(at.key("max_request_body_bytes"), "max_request_body_bytes must be at least 1"));
    }
    if edge.health_check_interval_secs == 0 {
        problems
            .push(Problem::new(at.key("health_check_interval_secs"), "health_check_interval_secs must be at least 1"));
    }
    for (name, rs) in &edge.rulesets {
        if rs.rules.is_empty() {
            problems.push(Problem::new(
                at.key("rulesets").key(name).key("rules"),
                "a ruleset needs at least one rule file",
            ));
        }
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut hosts: HashMap<&str, usize> = HashMap::new();
    for (i, site) in edge.sites.iter().enumerate() {
        let p = at.key("sites").index(i);
        if site.name.trim().is_empty() {
            problems.push(Problem::new(p.key("name"), "a site needs a name"));
        } else if let Some(prev) = names.insert(&site.name, i) {
            problems.push(Problem::new(
                p.key("name"),
                format!("site name '{}' is already used by edge.sites[{prev}]", site.name),
            ));
        }
        if !tenants.contains(&site.tenant.as_str()) {
            problems.push(Problem::new(p.key("tenant"), format!("unknown tenant '{}'", site.tenant)));
        }
        if site.hosts.is_empty() {
            problems.push(Problem::new(p.key("hosts"), "a site needs at least one host name"));
        }
        for (j, h) in site.hosts.iter().enumerate() {
            if !valid_host(h) {
                problems.push(Problem::new(
                    p.key("hosts").index(j),
                    format!(
                        "'{h}' is not a host name (lower case, without port; `*.domain` for every name under domain)"
                    ),
                ));
            } else if let Some(prev) = hosts.insert(h, i) {
                problems.push(Problem::new(
                    p.key("hosts").index(j),
                    format!("'{h}' is already a host of edge.sites[{prev}]"),
                ));
            }
        }
        if site.origins.is_empty() {
            problems.push(Problem::new(p.key("origins"), "a site needs at least one origin"));
        }
        for (j, o) in site.origins.iter().enumerate() {
            if let Err(e) = OriginAddr::parse(o) {
                problems.push(Problem::new(p.key("origins").index(j), e));
            }
        }
        match (&site.ruleset, site.waf) {
            (None, WafMode::Detect | WafMode::Block) => problems.push(Problem::new(
                p.key("ruleset"),
                "waf is on: name a ruleset from [edge.rulesets] (or set waf = \"off\")",
            )),
            (Some(r), _) if !edge.rulesets.contains_key(r) => {
                problems.push(Problem::new(p.key("ruleset"), format!("unknown ruleset '{r}'")))
            }
            _ => {}
        }
        if !(1..=4).contains(&site.paranoia) {
            problems.push(Problem::new(p.key("paranoia"), "paranoia must be 1, 2, 3 or 4"));
        }
        if let Some(fa) = &site.frame_ancestors
            && (fa.trim().is_empty() || fa.contains([';', ',', '\r', '\n']))
        {
            problems.push(Problem::new(p.key("frame_ancestors"), "frame_ancestors must be sources such as 'self'"));
        }
        match (&site.tls_cert, &site.tls_key) {
            (Some(_), None) => problems.push(Problem::new(p.key("tls_cert"), "tls_cert is set but tls_key is not")),
            (None, Some(_)) => problems.push(Problem::new(p.key("tls_key"), "tls_key is set but tls_cert is not")),
            _ => {}
        }
        if !site.health_check_path.starts_with('/') {
            problems.push(Problem::new(p.key("health_check_path"), "health_check_path must start with /"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(OriginAddr::parse("http://10.0.0.1:8080").unwrap().authority, "10.0.0.1:8080");
        assert_eq!(OriginAddr::parse("web.example.jp").unwrap().authority, "web.example.jp:80");
        assert_eq!(OriginAddr::parse("http://[::1]:81/").unwrap().authority, "[::1]:81");
        assert_eq!(OriginAddr::parse("[::1]").unwrap().authority, "[::1]:80");
        let tls = OriginAddr::parse("https://origin.example.jp").unwrap();
        assert_eq!((tls.authority.as_str(), tls.tls), ("origin.example.jp:443", true));
        assert!(OriginAddr::parse("ftp://x:1").is_err());
        assert!(OriginAddr::parse("http://x:0").is_err());
        assert!(OriginAddr::parse("http://x/a").is_err());
    }

    #[test]
    fn rule_ids_and_ranges() {
        assert_eq!(RuleIds::parse("942100").unwrap(), RuleIds::one(942100));
        assert_eq!(RuleIds::parse("942100-942199").unwrap(), RuleIds { first: 942100, last: 942199 });
        assert!(RuleIds::parse("942199-942100").is_err());
        assert!(RuleIds::parse("94x").is_err());
        assert_eq!(RuleIds { first: 1, last: 2 }.to_string(), "1-2");
    }

    #[test]
    fn wildcard_hosts() {
        assert!(valid_host("*.example.lg.jp"));
        assert!(!valid_host("*.jp"));
        assert!(!valid_host("a.*.jp"));
        assert!(!valid_host("*example.jp"));
    }
}
