//! mamori's Response Policy Zone engine: policy zones in order (the common ones first, then
//! the tenant's), the first zone with a matching trigger decides.

pub mod policy;
pub mod secondary;
pub mod trigger;

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record, RecordType};

pub use policy::{Action, Override, PolicyZone, Rule};
pub use trigger::Trigger;

/// A trigger that matched and what to do about it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub zone: Name,
    pub rule: Rule,
    /// The action after the zone's override; `None` when the zone is disabled (log only).
    pub action: Option<Action>,
    pub alert: bool,
    pub soa: Option<Record>,
    pub signal_nxdomain_ra: bool,
}

impl Hit {
    fn new(zone: &PolicyZone, rule: &Rule) -> Hit {
        let action = match &zone.override_action {
            None => Some(rule.action.clone()),
            Some(Override::Disabled) => None,
            Some(Override::Action(a)) => Some(a.clone()),
            Some(Override::Cname(target)) => Some(Action::Local(vec![Record::from_rdata(
                rule.owner.clone(),
                300,
                RData::CNAME(CNAME(target.clone())),
            )])),
        };
        Hit {
            zone: zone.name.clone(),
            rule: rule.clone(),
            action,
            alert: zone.alert,
            soa: zone.soa.clone(),
            signal_nxdomain_ra: zone.signal_nxdomain_ra,
        }
    }
}

/// The policy zones in force for one client, in order.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    zones: Vec<Arc<PolicyZone>>,
    tagged: bool,
}

impl PolicySet {
    pub fn new(zones: Vec<Arc<PolicyZone>>) -> PolicySet {
        let tagged = zones.iter().any(|z| z.tags != 0);
        PolicySet { zones, tagged }
    }

    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    pub fn zones(&self) -> &[Arc<PolicyZone>] {
        &self.zones
    }

    /// True when some zone applies only to clients with certain tags.
    pub fn has_tagged_zones(&self) -> bool {
        self.tagged
    }

    /// The zones that apply to a client with these tags (a bit per tag), in order.
    pub fn for_client(&self, client_tags: u64) -> Cow<'_, PolicySet> {
        if self.zones.iter().all(|z| z.applies_to(client_tags)) {
            return Cow::Borrowed(self);
        }
        Cow::Owned(PolicySet::new(self.zones.iter().filter(|z| z.applies_to(client_tags)).cloned().collect()))
    }

    /// The first zone's hit that acts; a hit in a disabled (log-only) zone lets the later
    /// zones decide, and is returned only when none does.
    fn first_hit<'a>(
        &'a self,
        zones: impl Iterator<Item = &'a Arc<PolicyZone>>,
        find: impl Fn(&PolicyZone) -> Option<&Rule>,
    ) -> Option<Hit> {
        let mut logged = None;
        for z in zones {
            if let Some(rule) = find(z) {
                let hit = Hit::new(z, rule);
                if hit.action.is_some() {
                    return Some(hit);
                }
                logged.get_or_insert(hit);
            }
        }
        logged
    }

    /// Before resolving: per zone, the client's address, then the query name.
    pub fn check_query(&self, client: IpAddr, qname: &Name) -> Option<Hit> {
        self.first_hit(self.zones.iter(), |z| z.match_client_ip(client).or_else(|| z.match_qname(qname)))
    }

    /// A name reached through a CNAME is checked like a query name.
    pub fn check_name(&self, name: &Name) -> Option<Hit> {
        self.first_hit(self.zones.iter(), |z| z.match_qname(name))
    }

    /// After resolving: the addresses in the answer.
    pub fn check_answer_ips(&self, answers: &[Record]) -> Option<Hit> {
        if !self.zones.iter().any(|z| z.has_response_ip_triggers()) {
            return None;
        }
        let ips: Vec<IpAddr> = answers.iter().filter_map(record_ip).collect();
        self.first_hit(self.zones.iter(), |z| ips.iter().find_map(|ip| z.match_response_ip(*ip)))
    }

    /// While resolving: the name servers of a zone on the way (names and addresses).
    pub fn check_name_servers(&self, names: &[Name], ips: &[IpAddr]) -> Option<Hit> {
        self.first_hit(self.zones.iter().filter(|z| z.has_ns_triggers()), |z| {
            names.iter().find_map(|n| z.match_nsdname(n)).or_else(|| ips.iter().find_map(|ip| z.match_nsip(*ip)))
        })
    }

    /// True when the answer depends on who asks, not only on the question.
    pub fn has_client_ip_triggers(&self) -> bool {
        self.zones.iter().any(|z| z.has_client_ip_triggers())
    }

    pub fn wants_name_servers(&self) -> bool {
        self.zones.iter().any(|z| z.has_ns_triggers())
    }
}

pub fn record_ip(r: &Record) -> Option<IpAddr> {
    match &r.data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
        _ => None,
    }
}

/// The local data of a hit as answer records for `qname`/`qtype`: owners become the query
/// name, `*.suffix` CNAME targets become `<qname>.suffix`. A CNAME answers every type.
pub fn local_answer(records: &[Record], qname: &Name, qtype: RecordType) -> Vec<Record> {
    let rename = |r: &Record| {
        let mut r = r.clone();
        r.name = qname.clone();
        if let RData::CNAME(CNAME(target)) = &r.data
            && target.is_wildcard()
            && let Ok(expanded) = qname.clone().append_domain(&target.base_name())
        {
            r.data = RData::CNAME(CNAME(expanded));
        }
        r
    };
    if let Some(c) = records.iter().find(|r| r.record_type() == RecordType::CNAME) {
        return vec![rename(c)];
    }
    records.iter().filter(|r| qtype == RecordType::ANY || r.record_type() == qtype).map(rename).collect()
}
