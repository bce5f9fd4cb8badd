//! The part of the configuration that is versioned: tenants, log senders and retention
//! defaults. Every change to it, from the file, the API or a rollback, becomes a numbered
//! revision in the control-plane store.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attribution::{LogSender, TenantDirectory};
use crate::config::diagnostic::{FieldPath, Problem};
use crate::config::monitor::MonitorConfig;
use crate::config::schema::ConfigFile;
use crate::domain_map::normalize_domain;
use crate::tenant::{Tenant, check_tenant_id};
use crate::web::WebConfig;

/// The requirement: logs are kept at least this long (ログは最低5年分保存できること).
pub const MIN_ARCHIVE_YEARS: u32 = 5;

/// Retention defaults applying to tenants without overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionDefaults {
    pub hot_days: u32,
    pub archive_years: u32,
    #[serde(default)]
    pub allow_archive_below_5_years: bool,
}

impl Default for RetentionDefaults {
    fn default() -> Self {
        RetentionDefaults { hot_days: 90, archive_years: MIN_ARCHIVE_YEARS, allow_archive_below_5_years: false }
    }
}

/// The versioned configuration. Its serialized form mirrors the file (`logs`, `collect.senders`,
/// `tenants`) so that problem paths read the same in both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManagedConfig {
    pub logs: RetentionDefaults,
    #[serde(default)]
    pub collect: ManagedCollect,
    #[serde(default)]
    pub tenants: Vec<Tenant>,
    /// The web filter's lists and policies.
    #[serde(default, skip_serializing_if = "is_default")]
    pub web: WebConfig,
    /// Threshold, absence and suppression rules (`[detect.monitor]` in the file).
    #[serde(default, skip_serializing_if = "is_default")]
    pub detect: ManagedDetect,
}

/// The versioned part of `[detect]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManagedDetect {
    #[serde(default, skip_serializing_if = "is_default")]
    pub monitor: MonitorConfig,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManagedCollect {
    #[serde(default)]
    pub senders: Vec<LogSender>,
}

/// Effective retention for one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveRetention {
    pub hot_days: u32,
    pub archive_years: u32,
}

impl ManagedConfig {
    pub fn from_file(file: &ConfigFile) -> Self {
        ManagedConfig {
            logs: RetentionDefaults {
                hot_days: file.logs.hot_days,
                archive_years: file.logs.archive_years,
                allow_archive_below_5_years: file.logs.allow_archive_below_5_years,
            },
            collect: ManagedCollect { senders: file.collect.senders.clone() },
            tenants: file.tenants.clone(),
            web: file.web.clone(),
            detect: ManagedDetect { monitor: file.detect.monitor.clone() },
        }
    }

    pub fn tenant(&self, id: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id == id)
    }

    pub fn directory(&self) -> TenantDirectory {
        TenantDirectory::new(self.tenants.clone(), &self.collect.senders)
    }

    pub fn retention_for(&self, tenant: &str) -> EffectiveRetention {
        let over = self.tenant(tenant).map(|t| t.retention).unwrap_or_default();
        EffectiveRetention {
            hot_days: over.hot_days.unwrap_or(self.logs.hot_days),
            archive_years: over.archive_years.unwrap_or(self.logs.archive_years),
        }
    }

    /// Every problem, with the path of the field it is about.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let root = FieldPath::root();
        self.validate_retention(&root, &mut problems);
        self.validate_tenants(&root, &mut problems);
        for (i, sender) in self.collect.senders.iter().enumerate() {
            let path = root.key("collect").key("senders").index(i);
            check_network(&path.key("network"), &sender.network, &mut problems);
            if self.tenant(&sender.tenant).is_none() {
                problems.push(Problem::new(path.key("tenant"), format!("no tenant with id '{}'", sender.tenant)));
            }
        }
        problems
    }

    fn validate_retention(&self, root: &FieldPath, problems: &mut Vec<Problem>) {
        let logs = root.key("logs");
        check_retention_values(
            self.logs.hot_days,
            self.logs.archive_years,
            self.logs.allow_archive_below_5_years,
            &logs,
            problems,
        );
        for (i, t) in self.tenants.iter().enumerate() {
            let r = self.retention_for(&t.id);
            if t.retention.is_empty() {
                continue;
            }
            let path = root.key("tenants").index(i).key("retention");
            check_retention_values(r.hot_days, r.archive_years, self.logs.allow_archive_below_5_years, &path, problems);
        }
    }

    fn validate_tenants(&self, root: &FieldPath, problems: &mut Vec<Problem>) {
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        let mut domains: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut networks: Vec<(IpNet, usize, usize)> = Vec::new();
        for (i, t) in self.tenants.iter().enumerate() {
            let path = root.key("tenants").index(i);
            if let Err(e) = check_tenant_id(&t.id) {
                problems.push(Problem::new(path.key("id"), e));
            }
            if let Some(first) = ids.insert(&t.id, i) {
                problems.push(Problem::new(
                    path.key("id"),
                    format!("tenant id '{}' is also used by tenants[{first}]", t.id),
                ));
            }
            if t.name_ja.trim().is_empty() {
                problems.push(Problem::new(path.key("name_ja"), "the Japanese name must not be empty"));
            }
            if t.name_en.trim().is_empty() {
                problems.push(Problem::new(path.key("name_en"), "the English name must not be empty"));
            }
            for (j, net) in t.networks.iter().enumerate() {
                check_network(&path.key("networks").index(j), net, problems);
                networks.push((*net, i, j));
            }
            for (j, d) in t.domains.iter().enumerate() {
                let dpath = path.key("domains").index(j);
                match normalize_domain(d) {
                    Err(e) => problems.push(Problem::new(dpath, e)),
                    Ok(norm) => {
                        if let Some((ti, tj)) = domains.insert(norm, (i, j))
                            && ti != i
                        {
                            problems.push(Problem::new(
                                dpath,
                                format!(
                                    "domain '{d}' is also claimed by tenant '{}' (tenants[{ti}].domains[{tj}])",
                                    self.tenants[ti].id
                                ),
                            ));
                        }
                    }
                }
            }
            for (j, c) in t.contacts.iter().enumerate() {
                let cpath = path.key("contacts").index(j);
                if c.name.trim().is_empty() {
                    problems.push(Problem::new(cpath.key("name"), "a contact needs a name"));
                }
                if let Some(email) = &c.email
                    && !is_plausible_email(email)
                {
                    problems.push(Problem::new(cpath.key("email"), format!("'{email}' is not an e-mail address")));
                }
            }
        }
        problems.extend(overlapping_networks(&self.tenants, networks, root));
        let ids: Vec<&str> = self.tenants.iter().map(|t| t.id.as_str()).collect();
        self.web.validate(&root.key("web"), &ids, problems);
        self.detect.monitor.validate(&root.key("detect").key("monitor"), &ids, problems);
    }

    /// The canonical JSON stored in a revision.
    pub fn to_canonical_json(&self) -> String {
        serde_json::to_string(self).expect("managed config serializes")
    }

    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("stored configuration is unreadable: {e}"))
    }

    /// The TOML a person would write for this configuration; used to show diffs.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// What changed from `old` to `self`: one line per changed field, then a unified diff of the
    /// TOML rendering.
    pub fn diff_from(&self, old: &ManagedConfig) -> String {
        let mut out = String::new();
        for change in self.changes_from(old) {
            let _ = writeln!(out, "{change}");
        }
        if out.is_empty() {
            return "no changes\n".into();
        }
        out.push('\n');
        let (a, b) = (old.to_toml(), self.to_toml());
        let text = similar::TextDiff::from_lines(&a, &b);
        let _ = write!(out, "{}", text.unified_diff().context_radius(3).header("before", "after"));
        out
    }

    /// Field-level changes, with tenants keyed by id rather than position.
    pub fn changes_from(&self, old: &ManagedConfig) -> Vec<String> {
        let mut out = Vec::new();
        let keyed = |c: &ManagedConfig| -> Value {
            let mut v = serde_json::to_value(c).expect("serializes");
            let tenants: serde_json::Map<String, Value> =
                c.tenants.iter().map(|t| (t.id.clone(), serde_json::to_value(t).expect("serializes"))).collect();
            v["tenants"] = Value::Object(tenants);
            v
        };
        json_changes("", &keyed(old), &keyed(self), &mut out);
        out
    }
}

fn check_retention_values(
    hot_days: u32,
    archive_years: u32,
    allow_short: bool,
    path: &FieldPath,
    problems: &mut Vec<Problem>,
) {
    if !(2..=3660).contains(&hot_days) {
        problems
            .push(Problem::new(path.key("hot_days"), format!("hot_days must be between 2 and 3660, not {hot_days}")));
    }
    if archive_years == 0 || archive_years > 100 {
        problems.push(Problem::new(
            path.key("archive_years"),
            format!("archive_years must be between 1 and 100, not {archive_years}"),
        ));
    } else if archive_years < MIN_ARCHIVE_YEARS && !allow_short {
        problems.push(Problem::new(
            path.key("archive_years"),
            format!(
                "archive_years {archive_years} is below the required {MIN_ARCHIVE_YEARS} years; set logs.allow_archive_below_5_years = true if this is intended"
            ),
        ));
    }
}

fn check_network(path: &FieldPath, net: &IpNet, problems: &mut Vec<Problem>) {
    if net.trunc() != *net {
        problems
            .push(Problem::new(path.clone(), format!("'{net}' has host bits set; did you mean '{}'?", net.trunc())));
    }
}

fn is_plausible_email(s: &str) -> bool {
    match s.rsplit_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace),
        None => false,
    }
}

/// Networks of different tenants must not overlap: an address belongs to exactly one tenant.
fn overlapping_networks(tenants: &[Tenant], mut nets: Vec<(IpNet, usize, usize)>, root: &FieldPath) -> Vec<Problem> {
    let mut problems = Vec::new();
    nets.sort_by_key(|a| (a.0.network(), a.0.prefix_len()));
    // Stack of enclosing networks: CIDR blocks are nested or disjoint.
    let mut open: Vec<(IpNet, usize, usize)> = Vec::new();
    for (net, ti, tj) in nets {
        let net = net.trunc();
        while let Some((top, _, _)) = open.last() {
            if top.contains(&net.network()) && std::mem::discriminant(top) == std::mem::discriminant(&net) {
                break;
            }
            open.pop();
        }
        if let Some(&(outer, oi, oj)) = open.iter().rev().find(|(_, oi, _)| *oi != ti) {
            problems.push(Problem::new(
                root.key("tenants").index(ti).key("networks").index(tj),
                format!(
                    "network {net} overlaps {outer} of tenant '{}' (tenants[{oi}].networks[{oj}]); an address must belong to one tenant",
                    tenants[oi].id
                ),
            ));
        }
        open.push((net, ti, tj));
    }
    problems
}

fn json_changes(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    let join = |k: &str| {
        if path.is_empty() { k.to_string() } else { format!("{path}.{k}") }
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => json_changes(&join(k), va, vb, out),
                    None => out.push(format!("- {}: {}", join(k), compact(va))),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(format!("+ {}: {}", join(k), compact(vb)));
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("~ {path}: {} → {}", compact(a), compact(b))),
    }
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 { format!("{}…", s.chars().take(200).collect::<String>()) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::NetworkModel;

    fn tenant(id: &str, nets: &[&str]) -> Tenant {
        Tenant {
            id: id.into(),
            name_ja: "町".into(),
            name_en: "Town".into(),
            network_model: NetworkModel::Beta,
            networks: nets.iter().map(|n| n.parse().unwrap()).collect(),
            domains: vec![format!("{id}.example.jp")],
            contacts: vec![],
            retention: Default::default(),
        }
    }

    fn config(tenants: Vec<Tenant>) -> ManagedConfig {
        ManagedConfig { tenants, ..Default::default() }
    }

    #[test]
    fn overlapping_networks_of_different_tenants_are_refused() {
        let c = config(vec![tenant("a", &["10.0.0.0/8"]), tenant("b", &["10.1.0.0/16", "192.168.0.0/24"])]);
        let p = c.validate();
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path.to_string(), "tenants[1].networks[0]");
        assert!(p[0].message.contains("overlaps 10.0.0.0/8 of tenant 'a'"));
    }

    #[test]
    fn disjoint_and_same_tenant_nesting_is_fine() {
        let c = config(vec![
            tenant("a", &["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"]),
            tenant("b", &["11.0.0.0/8", "2001:db9::/32"]),
        ]);
        assert!(c.validate().is_empty(), "{:?}", c.validate());
    }

    #[test]
    fn retention_below_five_years_needs_explicit_consent() {
        let mut c = config(vec![tenant("a", &[])]);
        c.tenants[0].retention.archive_years = Some(3);
        let p = c.validate();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path.to_string(), "tenants[0].retention.archive_years");
        c.logs.allow_archive_below_5_years = true;
        assert!(c.validate().is_empty());
    }

    #[test]
    fn duplicate_ids_domains_and_unknown_sender_tenants() {
        let mut c = config(vec![tenant("a", &[]), tenant("a", &[])]);
        c.collect.senders.push(LogSender {
            network: "192.0.2.1/32".parse().unwrap(),
            tenant: "zz".into(),
            description: None,
        });
        let msgs: Vec<String> = c.validate().iter().map(|p| p.to_string()).collect();
        assert!(msgs.iter().any(|m| m.starts_with("tenants[1].id: tenant id 'a' is also used")), "{msgs:?}");
        assert!(
            msgs.iter().any(|m| m.starts_with("tenants[1].domains[0]: domain 'a.example.jp' is also claimed")),
            "{msgs:?}"
        );
        assert!(msgs.iter().any(|m| m.starts_with("collect.senders[0].tenant: no tenant with id 'zz'")), "{msgs:?}");
    }

    #[test]
    fn diff_names_tenants_by_id() {
        let old = config(vec![tenant("a", &["10.0.0.0/8"]), tenant("b", &[])]);
        let mut new = old.clone();
        new.tenants.remove(0);
        new.tenants[0].networks.push("10.9.0.0/16".parse().unwrap());
        new.logs.hot_days = 30;
        let changes = new.changes_from(&old);
        assert!(changes.iter().any(|c| c.starts_with("- tenants.a:")), "{changes:?}");
        assert!(changes.iter().any(|c| c.starts_with("~ tenants.b.networks:")), "{changes:?}");
        assert!(changes.contains(&"~ logs.hot_days: 90 → 30".to_string()), "{changes:?}");
        assert!(new.diff_from(&old).contains("-hot_days = 90"));
    }
}
