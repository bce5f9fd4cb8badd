//! One policy zone: its triggers, each with the action its records spell (RPZ draft §5): a
//! CNAME to `.` is NXDOMAIN, to `*.` NODATA, to `rpz-passthru.` PASSTHRU, to `rpz-drop.` DROP,
//! to `rpz-tcp-only.` TCP-only; anything else is local data answered in place of the real one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use hickory_proto::rr::{Name, RData, Record, RecordType};
use ipnet::IpNet;

use super::trigger::{Trigger, classify};
use crate::zone::{fqdn_lower, master};

/// The TTL of policy records written without one.
const DEFAULT_TTL: u32 = 3600;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    NxDomain,
    NoData,
    Passthru,
    Drop,
    TcpOnly,
    /// Records to answer with; owners are rewritten to the query name, and a CNAME target
    /// `*.suffix` becomes `<qname>.suffix`.
    Local(Vec<Record>),
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::NxDomain => "nxdomain",
            Action::NoData => "nodata",
            Action::Passthru => "passthru",
            Action::Drop => "drop",
            Action::TcpOnly => "tcp-only",
            Action::Local(_) => "local-data",
        }
    }
}

/// `rpz-action-override` (Unbound) / `policy` (BIND): one action for every trigger of a zone.
#[derive(Debug, Clone, PartialEq)]
pub enum Override {
    Action(Action),
    /// Log the hit but answer as if there were none.
    Disabled,
    /// Answer with a CNAME to this host (the block page).
    Cname(Name),
}

impl Override {
    pub fn parse(action: &str, cname: Option<&str>) -> Result<Override, String> {
        Ok(match action.to_ascii_lowercase().as_str() {
            "nxdomain" => Override::Action(Action::NxDomain),
            "nodata" => Override::Action(Action::NoData),
            "passthru" => Override::Action(Action::Passthru),
            "drop" => Override::Action(Action::Drop),
            "tcp-only" => Override::Action(Action::TcpOnly),
            "disabled" => Override::Disabled,
            "cname" => {
                let target = cname.ok_or("the cname override needs a target name")?;
                Override::Cname(Name::from_ascii(target).map(|n| fqdn_lower(&n)).map_err(|e| format!("{target}: {e}"))?)
            }
            other => return Err(format!("unknown RPZ action override '{other}'")),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub trigger: Trigger,
    /// The owner name as written in the policy zone, for logs.
    pub owner: Name,
    pub action: Action,
}

#[derive(Debug, Default)]
pub struct PolicyZone {
    pub name: Name,
    /// Hits raise alert events (command-and-control lists) besides the query log.
    pub alert: bool,
    pub override_action: Option<Override>,
    /// Clear RA in NXDOMAIN answers made by this zone, so a client can tell them from real
    /// ones (Unbound's `rpz-signal-nxdomain-ra`).
    pub signal_nxdomain_ra: bool,
    /// The zone's SOA: Unbound adds it to local-data answers for client-IP triggers.
    pub soa: Option<Record>,
    qname: HashMap<Name, Rule>,
    qname_wild: HashMap<Name, Rule>,
    nsdname: HashMap<Name, Rule>,
    nsdname_wild: HashMap<Name, Rule>,
    client_ip: Vec<(IpNet, Rule)>,
    response_ip: Vec<(IpNet, Rule)>,
    nsip: Vec<(IpNet, Rule)>,
    /// Names that exist in the trigger namespace (owners and their ancestors), for the
    /// closest-encloser rule of wildcard triggers (RFC 4592, as Unbound applies it).
    existing: std::collections::HashSet<Name>,
    /// A wildcard also covers names below other triggers (compiled domain lists, where every
    /// entry blocks its whole subtree).
    deep_wildcards: bool,
    pub rule_count: usize,
    /// The client tags this zone applies to, a bit per tag; every client when 0.
    pub tags: u64,
}

impl PolicyZone {
    pub fn load(path: &Path, name: &Name) -> Result<PolicyZone, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        PolicyZone::parse(&text, name, Some(path))
    }

    /// Reads a policy zone in master format. Records at the apex (SOA, NS) are the zone's own;
    /// a bad trigger is an error with its line.
    pub fn parse(text: &str, name: &Name, path: Option<&Path>) -> Result<PolicyZone, String> {
        let name = fqdn_lower(name);
        let file = path.map_or_else(|| name.to_string(), |p| p.display().to_string());
        let parsed = master::parse_with_default_ttl(text, &name, path, Some(DEFAULT_TTL))?;
        let (zone, skipped) = compile(&name, parsed.into_iter().map(|p| (p.line, p.record)), &file, true)?;
        debug_assert!(skipped.is_empty());
        Ok(zone)
    }

    /// A policy zone from the records of a zone transfer. A record outside the zone or a bad
    /// trigger is left out (a primary's mistake in one trigger does not drop the whole
    /// policy); what was left out is returned, one line each.
    pub fn from_records(name: &Name, records: impl IntoIterator<Item = Record>) -> (PolicyZone, Vec<String>) {
        let name = fqdn_lower(name);
        let file = name.to_string();
        match compile(&name, records.into_iter().map(|r| (0, r)), &file, false) {
            Ok(compiled) => compiled,
            Err(e) => (PolicyZone { name, ..Default::default() }, vec![e]),
        }
    }

    /// True when this zone applies to a client with these tags (a bit per tag).
    pub fn applies_to(&self, client_tags: u64) -> bool {
        self.tags == 0 || self.tags & client_tags != 0
    }

    /// A zone built from a plain list of domains (a threat-intelligence feed): each domain and
    /// everything below it gets `action`.
    pub fn from_domains(name: &Name, domains: impl IntoIterator<Item = Name>, action: Action) -> PolicyZone {
        let mut zone = PolicyZone { name: fqdn_lower(name), deep_wildcards: true, ..Default::default() };
        for d in domains {
            let d = fqdn_lower(&d);
            zone.insert(Rule { trigger: Trigger::Qname(d.clone()), owner: d.clone(), action: action.clone() });
            zone.insert(Rule { trigger: Trigger::QnameWildcard(d.clone()), owner: d, action: action.clone() });
        }
        zone
    }

    fn insert(&mut self, rule: Rule) {
        self.rule_count += 1;
        if let Trigger::Qname(n) | Trigger::QnameWildcard(n) | Trigger::NsName(n) | Trigger::NsNameWildcard(n) =
            &rule.trigger
        {
            let mut n = n.clone();
            while self.existing.insert(n.clone()) && !n.is_root() {
                n = n.base_name();
            }
        }
        match rule.trigger.clone() {
            Trigger::Qname(n) => drop(self.qname.insert(n, rule)),
            Trigger::QnameWildcard(n) => drop(self.qname_wild.insert(n, rule)),
            Trigger::NsName(n) => drop(self.nsdname.insert(n, rule)),
            Trigger::NsNameWildcard(n) => drop(self.nsdname_wild.insert(n, rule)),
            Trigger::ClientIp(net) => self.client_ip.push((net, rule)),
            Trigger::ResponseIp(net) => self.response_ip.push((net, rule)),
            Trigger::NsIp(net) => self.nsip.push((net, rule)),
        }
    }

    pub fn match_qname(&self, qname: &Name) -> Option<&Rule> {
        self.match_name(&self.qname, &self.qname_wild, qname)
    }

    pub fn match_nsdname(&self, ns: &Name) -> Option<&Rule> {
        self.match_name(&self.nsdname, &self.nsdname_wild, ns)
    }

    pub fn match_client_ip(&self, ip: IpAddr) -> Option<&Rule> {
        longest_prefix(&self.client_ip, ip)
    }

    pub fn match_response_ip(&self, ip: IpAddr) -> Option<&Rule> {
        longest_prefix(&self.response_ip, ip)
    }

    pub fn match_nsip(&self, ip: IpAddr) -> Option<&Rule> {
        longest_prefix(&self.nsip, ip)
    }

    pub fn has_client_ip_triggers(&self) -> bool {
        !self.client_ip.is_empty()
    }

    pub fn has_response_ip_triggers(&self) -> bool {
        !self.response_ip.is_empty()
    }

    pub fn has_ns_triggers(&self) -> bool {
        !(self.nsdname.is_empty() && self.nsdname_wild.is_empty() && self.nsip.is_empty())
    }

    /// An exact trigger first, then the wildcard at the closest existing ancestor (the
    /// closest encloser); with deep wildcards any ancestor's wildcard.
    fn match_name<'a>(
        &self,
        exact: &'a HashMap<Name, Rule>,
        wild: &'a HashMap<Name, Rule>,
        name: &Name,
    ) -> Option<&'a Rule> {
        let name = fqdn_lower(name);
        if let Some(r) = exact.get(&name) {
            return Some(r);
        }
        if wild.is_empty() {
            return None;
        }
        let mut parent = name;
        while !parent.is_root() {
            parent = parent.base_name();
            if let Some(r) = wild.get(&parent) {
                return Some(r);
            }
            if !self.deep_wildcards && self.existing.contains(&parent) {
                return None;
            }
        }
        None
    }
}

/// The triggers of a zone's records, grouped by owner. `strict`: a bad record is an error
/// (with its line); otherwise it is left out and described in the second value.
fn compile(
    name: &Name,
    records: impl Iterator<Item = (usize, Record)>,
    file: &str,
    strict: bool,
) -> Result<(PolicyZone, Vec<String>), String> {
    let mut skipped = Vec::new();
    let mut by_owner: Vec<(Name, usize, Vec<Record>)> = Vec::new();
    let mut soa = None;
    let mut index: HashMap<Name, usize> = HashMap::new();
    let place = |line: usize| if line > 0 { format!("{file}:{line}") } else { file.to_string() };
    for (line, record) in records {
        let owner = fqdn_lower(&record.name);
        if owner == *name {
            if record.record_type() == RecordType::SOA {
                soa = Some(record);
            }
            continue;
        }
        if !name.zone_of(&owner) {
            let e = format!("{}: {owner} lies outside the policy zone {name}", place(line));
            if strict {
                return Err(e);
            }
            skipped.push(e);
            continue;
        }
        let i = *index.entry(owner.clone()).or_insert_with(|| {
            by_owner.push((owner.clone(), line, Vec::new()));
            by_owner.len() - 1
        });
        by_owner[i].2.push(record);
    }
    let mut zone = PolicyZone { name: name.clone(), soa, ..Default::default() };
    // Counted by iterating: num_labels() leaves out a leading `*` (RFC 4034 §3.1.3).
    let origin_labels = name.iter().count();
    for (owner, line, records) in by_owner {
        let labels: Vec<String> = owner
            .iter()
            .take(owner.iter().count() - origin_labels)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let trigger = match classify(&labels) {
            Ok(t) => t,
            Err(e) => {
                let e = format!("{}: {owner}: {e}", place(line));
                if strict {
                    return Err(e);
                }
                skipped.push(e);
                continue;
            }
        };
        let action = action_of(records);
        zone.insert(Rule { trigger, owner, action });
    }
    Ok((zone, skipped))
}

fn longest_prefix(rules: &[(IpNet, Rule)], ip: IpAddr) -> Option<&Rule> {
    let ip = crate::server::unmap(ip);
    rules.iter().filter(|(net, _)| net.contains(&ip)).max_by_key(|(net, _)| net.prefix_len()).map(|(_, r)| r)
}

/// The action spelled by the records of one trigger. With several CNAMEs (a zone error),
/// the first one written counts.
fn action_of(records: Vec<Record>) -> Action {
    if let Some(RData::CNAME(target)) = records.iter().find(|r| r.record_type() == RecordType::CNAME).map(|r| &r.data) {
        let t = fqdn_lower(&target.0).to_ascii();
        return match t.as_str() {
            "." => Action::NxDomain,
            "*." => Action::NoData,
            "rpz-passthru." => Action::Passthru,
            "rpz-drop." => Action::Drop,
            "rpz-tcp-only." => Action::TcpOnly,
            _ => Action::Local(records.into_iter().filter(|r| r.record_type() == RecordType::CNAME).take(1).collect()),
        };
    }
    Action::Local(records)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    const ZONE: &str = "$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\na CNAME .\n*.a TXT \"wild\"\nb.a CNAME *.\nc.a CNAME rpz-passthru.\ndrop CNAME rpz-drop.\ntcp CNAME rpz-tcp-only.\n32.1.2.0.192.rpz-client-ip CNAME .\n";

    fn zone() -> PolicyZone {
        PolicyZone::parse(ZONE, &Name::from_str("rpz.example.").unwrap(), None).unwrap()
    }

    fn qname(z: &PolicyZone, n: &str) -> Option<Action> {
        z.match_qname(&Name::from_str(n).unwrap()).map(|r| r.action.clone())
    }

    #[test]
    fn actions_and_closest_encloser_wildcards() {
        let z = zone();
        assert_eq!(qname(&z, "a."), Some(Action::NxDomain));
        assert!(matches!(qname(&z, "x.a."), Some(Action::Local(_))));
        assert!(matches!(qname(&z, "x.y.a."), Some(Action::Local(_))));
        assert_eq!(qname(&z, "b.a."), Some(Action::NoData));
        assert_eq!(qname(&z, "x.b.a."), None, "b.a exists: the wildcard of a. does not reach below it");
        assert_eq!(qname(&z, "c.a."), Some(Action::Passthru));
        assert_eq!(qname(&z, "drop."), Some(Action::Drop));
        assert_eq!(qname(&z, "tcp."), Some(Action::TcpOnly));
        assert_eq!(qname(&z, "other."), None);
        assert!(z.match_client_ip("192.0.2.1".parse().unwrap()).is_some());
        assert!(z.match_client_ip("192.0.2.2".parse().unwrap()).is_none());
    }

    #[test]
    fn domain_lists_block_whole_subtrees() {
        let names = ["evil.example.", "a.b.evil.example."].map(|n| Name::from_str(n).unwrap());
        let z = PolicyZone::from_domains(&Name::from_str("intel.").unwrap(), names, Action::NxDomain);
        assert_eq!(qname(&z, "evil.example."), Some(Action::NxDomain));
        assert_eq!(qname(&z, "x.b.evil.example."), Some(Action::NxDomain));
        assert_eq!(qname(&z, "notevil.example."), None);
    }
}
