//! `[mail]`: the SMTP relay's listener, limits, queue, retry schedule and per-tenant routing.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::diagnostic::{FieldPath, Problem};
use crate::domain_map::{DomainMap, normalize_domain};
use crate::tenant::Tenant;

/// The mail relay. Not started when `listen` is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// The name the relay greets with and says EHLO as (RFC 5321 §4.1.1.1).
    #[serde(default = "default_hostname")]
    pub hostname: String,
    /// Largest message accepted (advertised as SIZE; larger ones get 552 5.3.4).
    #[serde(default = "default_max_message")]
    pub max_message_bytes: u64,
    /// Recipients per message (RFC 5321 §4.5.3.1.8 asks for at least 100).
    #[serde(default = "default_max_recipients")]
    pub max_recipients: usize,
    /// Simultaneous SMTP connections in all, and from one address outside the tenants' sender
    /// networks; more get `421 4.7.0` and are closed.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    #[serde(default = "default_max_connections_per_ip")]
    pub max_connections_per_ip: usize,
    /// Idle time allowed between commands (RFC 5321 §4.5.3.2.7: at least 5 minutes).
    #[serde(default = "default_command_timeout")]
    pub command_timeout_secs: u64,
    /// Idle time allowed inside DATA (RFC 5321 §4.5.3.2.5/6: at least 3 minutes per block).
    #[serde(default = "default_data_timeout")]
    pub data_timeout_secs: u64,
    /// PEM certificate chain and key for STARTTLS; a self-signed pair is generated in the data
    /// directory when both are absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// The queue; relative to the data directory. Default `mail/queue`.
    #[serde(default = "default_queue_dir")]
    pub queue_dir: PathBuf,
    /// Minutes to wait before each retry; the last value repeats (RFC 5321 §4.5.4.1 asks for
    /// at least 30 minutes between attempts after the first failures).
    #[serde(default = "default_retry_minutes")]
    pub retry_minutes: Vec<u64>,
    /// A message still undelivered after this long is returned to its sender (RFC 5321
    /// §4.5.4.1: 4-5 days).
    #[serde(default = "default_give_up_hours")]
    pub give_up_hours: u64,
    /// A sender whose message is still undelivered after this long is told once that it is
    /// delayed (RFC 3464 `Action: delayed`); 0 sends no such notice.
    #[serde(default = "default_delay_warning_hours")]
    pub delay_warning_hours: u64,
    /// A DNS server (`ip:port`) for MX lookups and SPF; the system resolver when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<SocketAddr>,
    /// A Public Suffix List (publicsuffix.org format) for DMARC's Organizational Domains, such
    /// as the one Debian's `publicsuffix` package keeps current; relative to the configuration
    /// file's directory. The copy built into mamori when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_suffix_list: Option<PathBuf>,
    /// Where mail to the bare `<postmaster>` goes (RFC 5321 §4.5.1 requires accepting it): an
    /// address in a routed tenant domain, e.g. the prefecture's own. Refused when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postmaster: Option<String>,
    /// The port outbound mail is delivered to at the MX hosts (25; tests change it).
    #[serde(default = "default_delivery_port")]
    pub delivery_port: u16,
    /// Quarantined messages (relative to the data directory). Default `mail/quarantine`.
    #[serde(default = "default_quarantine_dir")]
    pub quarantine_dir: PathBuf,
    /// Scan every message and attachment with the scanning engine (`[scan]`), both directions.
    #[serde(default = "default_true")]
    pub antivirus: bool,
    /// Anti-spam scoring of inbound mail, common to all tenants (thresholds are per tenant).
    #[serde(default)]
    pub spam: SpamConfig,
    /// Routing per tenant id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tenants: BTreeMap<String, MailTenant>,
}

/// `[mail.spam]`: what scores a message from the internet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpamConfig {
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// DNS block lists asked about the client's address (e.g. a local rbldnsd zone).
    #[serde(default)]
    pub dnsbl: Vec<String>,
    /// DNS block lists asked about the host names of the links in the body.
    #[serde(default)]
    pub uribl: Vec<String>,
    /// Senders (`user@domain`, `@domain` or `domain` with its subdomains) always scored as spam
    /// or never, for every tenant; a tenant's own lists come first.
    #[serde(default)]
    pub block_senders: Vec<String>,
    #[serde(default)]
    pub allow_senders: Vec<String>,
    /// Rules of the prefecture's own, added to the built-in ones.
    #[serde(default)]
    pub rules: Vec<SpamRule>,
}

impl Default for SpamConfig {
    fn default() -> Self {
        SpamConfig {
            enabled: true,
            dnsbl: Vec::new(),
            uribl: Vec::new(),
            block_senders: Vec::new(),
            allow_senders: Vec::new(),
            rules: Vec::new(),
        }
    }
}

/// One scoring rule: when `pattern` (a regular expression, case-insensitive) matches `target`,
/// `score` is added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpamRule {
    pub name: String,
    pub score: f64,
    /// `subject`, `body`, `url`, `from` or `header:NAME`.
    pub target: String,
    pub pattern: String,
}

/// What the relay does with a message a check has flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailAction {
    /// Deliver unchanged (the verdict is still logged).
    Deliver,
    /// Deliver with the tenant's subject tag and an `X-Mamori-Verdict` header.
    Tag,
    /// Keep it in the quarantine; nothing is delivered until an administrator releases it.
    Quarantine,
    /// Refuse it during the SMTP transaction (5xx), so the sending server keeps it.
    Reject,
}

/// What the relay does when DMARC fails for the author domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmarcAction {
    /// Do what the author domain publishes: `p=reject` rejects, `p=quarantine` quarantines,
    /// `p=none` delivers.
    Follow,
    /// Only tag, whatever the domain publishes.
    Tag,
    /// Quarantine on `p=quarantine` and `p=reject`.
    Quarantine,
    /// Record only.
    Ignore,
}

/// The content checks of one tenant's mail (inbound for its domains, outbound from its senders).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentPolicy {
    /// A message with malware: `quarantine` (the recipients are told) or `reject`.
    #[serde(default = "default_virus_action")]
    pub virus_action: MailAction,
    /// A message the engine calls suspicious (encrypted archive, disguised file name, a limit
    /// exceeded) or could not scan completely.
    #[serde(default = "default_suspicious_action")]
    pub suspicious_action: MailAction,
    #[serde(default = "default_dmarc_action")]
    pub dmarc_action: DmarcAction,
    /// Put in front of the subject of tagged mail.
    #[serde(default = "default_subject_tag")]
    pub subject_tag: String,
    /// Days a quarantined message is kept before it is deleted.
    #[serde(default = "default_quarantine_days")]
    pub quarantine_days: u32,
    /// Tell the recipients (of inbound mail; the sender of outbound mail) in Japanese and English
    /// that a message with malware was quarantined.
    #[serde(default = "default_true")]
    pub notify: bool,
    /// Spam scores from which inbound mail is tagged, quarantined, refused (no refusal when
    /// absent).
    #[serde(default = "default_spam_tag")]
    pub spam_tag_score: f64,
    #[serde(default = "default_spam_quarantine")]
    pub spam_quarantine_score: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spam_reject_score: Option<f64>,
    /// Advertising mail (未承諾広告, bulk mail with unsubscribe links) is its own class.
    #[serde(default = "default_advertising_action")]
    pub advertising_action: MailAction,
    /// This tenant's sender lists (see `[mail.spam]`), checked before the common ones.
    #[serde(default)]
    pub block_senders: Vec<String>,
    #[serde(default)]
    pub allow_senders: Vec<String>,
}

impl Default for ContentPolicy {
    fn default() -> Self {
        ContentPolicy {
            virus_action: default_virus_action(),
            suspicious_action: default_suspicious_action(),
            dmarc_action: default_dmarc_action(),
            subject_tag: default_subject_tag(),
            quarantine_days: default_quarantine_days(),
            notify: true,
            spam_tag_score: default_spam_tag(),
            spam_quarantine_score: default_spam_quarantine(),
            spam_reject_score: None,
            advertising_action: default_advertising_action(),
            block_senders: Vec::new(),
            allow_senders: Vec::new(),
        }
    }
}

fn default_virus_action() -> MailAction {
    MailAction::Quarantine
}
fn default_suspicious_action() -> MailAction {
    MailAction::Tag
}
fn default_dmarc_action() -> DmarcAction {
    DmarcAction::Follow
}
fn default_spam_tag() -> f64 {
    5.0
}
fn default_spam_quarantine() -> f64 {
    10.0
}
fn default_advertising_action() -> MailAction {
    MailAction::Tag
}
fn default_subject_tag() -> String {
    "【要注意】".into()
}
fn default_quarantine_days() -> u32 {
    30
}
fn default_true() -> bool {
    true
}
fn default_quarantine_dir() -> PathBuf {
    PathBuf::from("mail/quarantine")
}

/// One tenant's mail: where inbound mail for each of its domains goes, and who may send out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailTenant {
    /// Tenant domain (with its subdomains) → next hop `host[:port]` (port 25 when left out).
    #[serde(default)]
    pub routes: BTreeMap<String, String>,
    /// Networks allowed to send outbound mail for this tenant; the tenant's networks when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_networks: Option<Vec<IpNet>>,
    /// Anti-virus, DMARC and quarantine settings; the defaults when left out.
    #[serde(default)]
    pub content: ContentPolicy,
    /// DKIM keys outbound mail is signed with (RFC 6376), one per domain; a message is signed
    /// by the key whose domain is its From: domain or a parent of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dkim: Vec<DkimKey>,
    /// A copy of every inbound message as it arrived goes to this isolated archive
    /// (メール原本の隔離保管), through the queue like any message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveTarget>,
    /// The `rua=` addresses of the tenant's DMARC records (in its own domains): aggregate
    /// reports sent to them also become `mail.dmarc_report` events, one per reported source;
    /// the mail itself is delivered as usual.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dmarc_report_addresses: Vec<String>,
}

/// Where a tenant's original inbound mail is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveTarget {
    /// The archive's mailbox, e.g. `journal@archive.midori.example.jp`.
    pub address: String,
    /// The archive server (`host[:port]`), reached directly, never by MX.
    pub next_hop: String,
}

/// One DKIM signing key of a tenant domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimKey {
    /// The signing domain (`d=`): one of the tenant's domains.
    pub domain: String,
    /// The selector (`s=`); the public key is published at `SELECTOR._domainkey.DOMAIN`.
    pub selector: String,
    /// PEM private key, RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8); relative to the config file.
    pub key: PathBuf,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            listen: None,
            hostname: default_hostname(),
            max_message_bytes: default_max_message(),
            max_recipients: default_max_recipients(),
            max_connections: default_max_connections(),
            max_connections_per_ip: default_max_connections_per_ip(),
            command_timeout_secs: default_command_timeout(),
            data_timeout_secs: default_data_timeout(),
            tls_cert: None,
            tls_key: None,
            queue_dir: default_queue_dir(),
            retry_minutes: default_retry_minutes(),
            give_up_hours: default_give_up_hours(),
            delay_warning_hours: default_delay_warning_hours(),
            resolver: None,
            public_suffix_list: None,
            delivery_port: default_delivery_port(),
            postmaster: None,
            quarantine_dir: default_quarantine_dir(),
            antivirus: true,
            spam: SpamConfig::default(),
            tenants: BTreeMap::new(),
        }
    }
}

fn default_hostname() -> String {
    "localhost".into()
}
fn default_max_message() -> u64 {
    25 << 20
}
fn default_max_recipients() -> usize {
    100
}
fn default_max_connections() -> usize {
    1000
}
fn default_max_connections_per_ip() -> usize {
    // Postfix's smtpd_client_connection_count_limit.
    50
}
fn default_command_timeout() -> u64 {
    300
}
fn default_data_timeout() -> u64 {
    600
}
fn default_queue_dir() -> PathBuf {
    PathBuf::from("mail/queue")
}
fn default_retry_minutes() -> Vec<u64> {
    vec![5, 10, 30, 60, 120, 240]
}
fn default_give_up_hours() -> u64 {
    120
}
fn default_delay_warning_hours() -> u64 {
    4
}
fn default_delivery_port() -> u16 {
    25
}

/// A parsed next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    pub host: String,
    pub port: u16,
}

impl NextHop {
    /// `host`, `host:port`, `1.2.3.4:25`, `[2001:db8::1]:25`.
    pub fn parse(s: &str) -> Result<NextHop, String> {
        let s = s.trim();
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(NextHop { host: addr.ip().to_string(), port: addr.port() });
        }
        if let Ok(ip) = s.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
            return Ok(NextHop { host: ip.to_string(), port: 25 });
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("next hop '{s}': '{p}' is not a port"))?),
            None => (s, 25),
        };
        let host = normalize_domain(host).map_err(|e| format!("next hop '{s}': {e}"))?;
        if port == 0 {
            return Err(format!("next hop '{s}': port 0"));
        }
        Ok(NextHop { host, port })
    }
}

/// Checks `[mail]` against the tenants of the same file.
pub fn check(mail: &MailConfig, tenants: &[Tenant], root: &FieldPath) -> Vec<Problem> {
    let mut problems = Vec::new();
    let p = root.key("mail");
    if normalize_domain(&mail.hostname).is_err() || !mail.hostname.contains('.') && mail.hostname != "localhost" {
        problems
            .push(Problem::new(p.key("hostname"), format!("'{}' is not a fully qualified host name", mail.hostname)));
    }
    if !(1024..=1 << 30).contains(&mail.max_message_bytes) {
        problems
            .push(Problem::new(p.key("max_message_bytes"), "max_message_bytes must be between 1024 and 1073741824"));
    }
    if !(1..=10_000).contains(&mail.max_recipients) {
        problems.push(Problem::new(p.key("max_recipients"), "max_recipients must be between 1 and 10000"));
    }
    if mail.max_connections == 0
        || mail.max_connections_per_ip == 0
        || mail.max_connections_per_ip > mail.max_connections
    {
        problems.push(Problem::new(
            p.key("max_connections_per_ip"),
            "max_connections and max_connections_per_ip must be at least 1, the second not above the first",
        ));
    }
    for (key, v) in [("command_timeout_secs", mail.command_timeout_secs), ("data_timeout_secs", mail.data_timeout_secs)]
    {
        if !(1..=3600).contains(&v) {
            problems.push(Problem::new(p.key(key), format!("{key} must be between 1 and 3600")));
        }
    }
    match (&mail.tls_cert, &mail.tls_key) {
        (Some(_), None) => problems.push(Problem::new(p.key("tls_cert"), "tls_cert is set but tls_key is not")),
        (None, Some(_)) => problems.push(Problem::new(p.key("tls_key"), "tls_key is set but tls_cert is not")),
        _ => {}
    }
    if mail.retry_minutes.is_empty() || mail.retry_minutes.iter().any(|&m| m == 0 || m > 24 * 60) {
        problems.push(Problem::new(p.key("retry_minutes"), "retry_minutes needs at least one value, each 1 to 1440"));
    }
    if !(1..=24 * 30).contains(&mail.give_up_hours) {
        problems.push(Problem::new(p.key("give_up_hours"), "give_up_hours must be between 1 and 720"));
    }
    if mail.delay_warning_hours >= mail.give_up_hours && mail.delay_warning_hours != 0 {
        problems.push(Problem::new(
            p.key("delay_warning_hours"),
            "delay_warning_hours must be less than give_up_hours (or 0 for no delay notice)",
        ));
    }
    if mail.delivery_port == 0 {
        problems.push(Problem::new(p.key("delivery_port"), "delivery_port cannot be 0"));
    }
    for (i, r) in mail.spam.rules.iter().enumerate() {
        let rp = p.key("spam").key("rules").index(i);
        let target_ok = matches!(r.target.as_str(), "subject" | "body" | "url" | "from")
            || r.target.strip_prefix("header:").is_some_and(|h| !h.is_empty());
        if !target_ok {
            problems.push(Problem::new(
                rp.key("target"),
                format!("'{}' is not a target (subject, body, url, from, header:NAME)", r.target),
            ));
        }
        if !r.score.is_finite() {
            problems.push(Problem::new(rp.key("score"), "score must be a number"));
        }
    }
    let by_id: HashMap<&str, &Tenant> = tenants.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut routed: HashMap<String, String> = HashMap::new();
    for (id, t) in &mail.tenants {
        let tp = p.key("tenants").key(id);
        let Some(tenant) = by_id.get(id.as_str()) else {
            problems.push(Problem::new(tp, format!("there is no tenant '{id}' in [[tenants]]")));
            continue;
        };
        let c = &t.content;
        let cp = tp.key("content");
        if c.virus_action != MailAction::Quarantine && c.virus_action != MailAction::Reject {
            problems.push(Problem::new(cp.key("virus_action"), "virus_action must be quarantine or reject"));
        }
        let ordered = c.spam_tag_score <= c.spam_quarantine_score
            && c.spam_reject_score.is_none_or(|r| c.spam_quarantine_score <= r);
        if !ordered || !c.spam_tag_score.is_finite() || !c.spam_quarantine_score.is_finite() {
            problems.push(Problem::new(
                cp.key("spam_tag_score"),
                "spam scores must be finite and rise: tag <= quarantine <= reject",
            ));
        }
        if !(1..=3650).contains(&c.quarantine_days) {
            problems.push(Problem::new(cp.key("quarantine_days"), "quarantine_days must be between 1 and 3650"));
        }
        if c.subject_tag.chars().any(char::is_control) || c.subject_tag.chars().count() > 40 {
            problems.push(Problem::new(cp.key("subject_tag"), "subject_tag must be one line of at most 40 characters"));
        }
        let owned = DomainMap::new(tenant.domains.iter().map(|d| (d.clone(), ())));
        if let Some(a) = &t.archive {
            let ap = tp.key("archive");
            let domain_ok =
                a.address.rsplit_once('@').is_some_and(|(l, d)| !l.is_empty() && normalize_domain(d).is_ok());
            if !domain_ok {
                problems.push(Problem::new(ap.key("address"), format!("'{}' is not a mail address", a.address)));
            }
            if let Err(e) = NextHop::parse(&a.next_hop) {
                problems.push(Problem::new(ap.key("next_hop"), e));
            }
        }
        for (i, address) in t.dmarc_report_addresses.iter().enumerate() {
            let ap = tp.key("dmarc_report_addresses").index(i);
            match address.rsplit_once('@').map(|(l, d)| (l, normalize_domain(d))) {
                Some((l, Ok(d))) if !l.is_empty() && owned.lookup(&d).is_some() => {}
                Some((l, Ok(_))) if !l.is_empty() => problems.push(Problem::new(
                    ap,
                    format!("'{address}' is not in one of tenant '{id}''s domains (or their subdomains)"),
                )),
                _ => problems.push(Problem::new(ap, format!("'{address}' is not a mail address"))),
            }
        }
        for (i, k) in t.dkim.iter().enumerate() {
            let kp = tp.key("dkim").index(i);
            match normalize_domain(&k.domain) {
                Ok(d) if owned.lookup(&d).is_some() => {}
                Ok(_) => problems.push(Problem::new(
                    kp.key("domain"),
                    format!("'{}' is not one of tenant '{id}''s domains (or their subdomains)", k.domain),
                )),
                Err(e) => problems.push(Problem::new(kp.key("domain"), e)),
            }
            let selector_ok = !k.selector.is_empty()
                && k.selector.split('.').all(|l| {
                    !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            if !selector_ok {
                problems.push(Problem::new(kp.key("selector"), format!("'{}' is not a DKIM selector", k.selector)));
            }
        }
        for (domain, hop) in &t.routes {
            let rp = tp.key("routes").key(domain);
            match normalize_domain(domain) {
                Err(e) => problems.push(Problem::new(rp.clone(), e)),
                Ok(norm) => {
                    if owned.lookup(&norm).is_none() {
                        problems.push(Problem::new(
                            rp.clone(),
                            format!("'{domain}' is not one of tenant '{id}''s domains (or their subdomains)"),
                        ));
                    }
                    if let Some(prev) = routed.insert(norm, id.clone()) {
                        problems
                            .push(Problem::new(rp.clone(), format!("'{domain}' is already routed by tenant '{prev}'")));
                    }
                }
            }
            if let Err(e) = NextHop::parse(hop) {
                problems.push(Problem::new(rp, e));
            }
        }
    }
    problems
}
