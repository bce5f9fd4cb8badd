//! Policy zones transferred from primary servers, as a secondary keeps a zone (RFC 1034
//! §4.3.5, RFC 1995, RFC 5936): every refresh interval of the zone's SOA (its retry interval
//! after a failure, at once after a NOTIFY from a primary) the primaries are asked for the SOA;
//! a newer serial brings an IXFR from the serial held (an AXFR when there is none, or when the
//! primary offers no IXFR). The records held are kept, so that an IXFR's differences apply to
//! them, and written to the zone's file when it has one, so that a restart starts from the
//! newest version. Transfer requests are signed with the zone's TSIG key when it has one, and
//! the primary's answer must then be signed with it too.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::policy::{Override, PolicyZone};
use crate::resolver::upstream::Upstream;
use crate::tsig;

/// Shortest wait between two checks, whatever the SOA says (a zero refresh would spin).
const MIN_INTERVAL: u64 = 5;
/// Longest wait between two checks, whatever the SOA says.
const MAX_INTERVAL: u64 = 86_400;
/// Wait after a failed check when the zone has no SOA to say its retry interval.
const DEFAULT_RETRY: u64 = 60;

/// How the policy zone is compiled from its records (the same for every version).
#[derive(Debug, Clone, Default)]
pub struct ZoneSettings {
    pub alert: bool,
    pub override_action: Option<Override>,
    pub signal_nxdomain_ra: bool,
    pub tags: u64,
}

impl ZoneSettings {
    pub fn apply(&self, zone: &mut PolicyZone) {
        zone.alert = self.alert;
        zone.override_action = self.override_action.clone();
        zone.signal_nxdomain_ra = self.signal_nxdomain_ra;
        zone.tags = self.tags;
    }
}

/// Who besides the primaries may send NOTIFY for a zone (BIND's and Unbound's
/// `allow-notify`): addresses, and host names looked up with the primaries.
#[derive(Debug, Default)]
pub struct Notifiers {
    pub addresses: Vec<IpAddr>,
    pub hosts: Vec<(Name, u16)>,
    looked_up: Mutex<Vec<IpAddr>>,
}

impl Notifiers {
    pub fn new(addresses: Vec<IpAddr>, hosts: Vec<(Name, u16)>) -> Notifiers {
        Notifiers { addresses, hosts, looked_up: Mutex::default() }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = crate::server::unmap(ip);
        self.addresses.iter().any(|a| crate::server::unmap(*a) == ip)
            || self.looked_up.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|a| crate::server::unmap(*a) == ip)
    }

    /// The addresses the host names were last looked up at.
    pub fn set_looked_up(&self, servers: Vec<SocketAddr>) {
        *self.looked_up.lock().unwrap_or_else(|e| e.into_inner()) = servers.iter().map(SocketAddr::ip).collect();
    }
}

/// The addresses of servers given by host name, as last looked up (each lookup replaces them);
/// shared by policy zones and held zones.
#[derive(Debug, Default)]
pub struct LookedUp(Mutex<Vec<SocketAddr>>);

impl LookedUp {
    pub fn set(&self, servers: Vec<SocketAddr>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = servers;
    }

    /// `by_address`, then the looked-up addresses not among them.
    pub fn after(&self, by_address: &[SocketAddr]) -> Vec<SocketAddr> {
        let mut out = by_address.to_vec();
        for s in self.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            if !out.contains(s) {
                out.push(*s);
            }
        }
        out
    }
}

/// A policy zone with primaries.
#[derive(Debug)]
pub struct Secondary {
    pub name: Name,
    pub primaries: Vec<SocketAddr>,
    /// Primaries given by host name, with their ports; looked up before each check.
    pub primary_hosts: Vec<(Name, u16)>,
    /// Their addresses as last looked up.
    looked_up: LookedUp,
    /// Who else may send NOTIFY.
    pub notifiers: Notifiers,
    pub key: Option<tsig::Key>,
    /// Rewritten after each transfer.
    pub file: Option<PathBuf>,
    pub settings: ZoneSettings,
    held: Mutex<Held>,
}

#[derive(Debug)]
struct Held {
    /// Every record of the version in force, the apex SOA included when there is one.
    records: Vec<Record>,
    /// The compiled version in force (the one the policy sets hold).
    zone: Arc<PolicyZone>,
    /// When the primaries are asked next (the resolver's clock, seconds).
    next_check: u64,
}

/// What one check brought.
#[derive(Debug)]
pub enum Refreshed {
    /// The primary has nothing newer.
    Current,
    /// A new version: the compiled zone it replaces and the new one.
    Changed { old: Arc<PolicyZone>, new: Arc<PolicyZone>, serial: u32, incremental: bool },
}

impl Secondary {
    /// A secondary holding `records` (from its file; none when it has no file yet), checked at
    /// `now` when it has no SOA, else after the SOA's refresh interval.
    pub fn new(
        name: &Name,
        primaries: Vec<SocketAddr>,
        key: Option<tsig::Key>,
        file: Option<PathBuf>,
        settings: ZoneSettings,
        records: Vec<Record>,
        now: u64,
    ) -> (Secondary, Arc<PolicyZone>) {
        let name = crate::zone::fqdn_lower(name);
        let zone = Arc::new(compile(&name, &records, &settings));
        let next_check = match soa_of(&records) {
            Some(soa) => now + interval(soa.refresh),
            None => now,
        };
        let held = Mutex::new(Held { records, zone: zone.clone(), next_check });
        let secondary = Secondary {
            name,
            primaries,
            primary_hosts: Vec::new(),
            looked_up: LookedUp::default(),
            notifiers: Notifiers::default(),
            key,
            file,
            settings,
            held,
        };
        (secondary, zone)
    }

    /// The compiled version in force.
    pub fn zone(&self) -> Arc<PolicyZone> {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).zone.clone()
    }

    pub fn serial(&self) -> Option<u32> {
        soa_of(&self.held.lock().unwrap_or_else(|e| e.into_inner()).records).map(|s| s.serial)
    }

    pub fn next_check(&self) -> u64 {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).next_check
    }

    /// A NOTIFY from a primary: check at once.
    pub fn check_now(&self) {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).next_check = 0;
    }

    /// The addresses the primaries given by host name were last looked up at.
    pub fn set_looked_up(&self, servers: Vec<SocketAddr>) {
        self.looked_up.set(servers);
    }

    /// The primaries by address, then those looked up.
    pub fn all_primaries(&self) -> Vec<SocketAddr> {
        self.looked_up.after(&self.primaries)
    }

    /// True when a NOTIFY for this zone from `ip` (signed with `key`, if any) is to be heeded:
    /// it comes from a primary, and carries the zone's key when it has one.
    pub fn accepts_notify(&self, ip: IpAddr, key: Option<&str>) -> bool {
        let from_primary =
            self.all_primaries().iter().any(|p| crate::server::unmap(p.ip()) == crate::server::unmap(ip))
                || self.notifiers.allows(ip);
        let keyed = match &self.key {
            Some(k) => key == Some(k.name.as_str()),
            None => true,
        };
        from_primary && keyed
    }

    /// Takes over what `previous` (the same zone in the snapshot being replaced) holds when
    /// it is newer than what this one read from its file: the compiled zones to swap.
    pub fn adopt(&self, previous: &Secondary) -> Option<(Arc<PolicyZone>, Arc<PolicyZone>)> {
        if previous.name != self.name
            || previous.primaries != self.primaries
            || previous.primary_hosts != self.primary_hosts
        {
            return None;
        }
        let theirs = previous.held.lock().unwrap_or_else(|e| e.into_inner());
        let mut ours = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let newer = match (soa_of(&theirs.records), soa_of(&ours.records)) {
            (Some(t), Some(o)) => serial_newer(t.serial, o.serial),
            (Some(_), None) => true,
            (None, _) => false,
        };
        ours.next_check = ours.next_check.min(theirs.next_check);
        if !newer {
            return None;
        }
        ours.records = theirs.records.clone();
        let new = Arc::new(compile(&self.name, &ours.records, &self.settings));
        let old = std::mem::replace(&mut ours.zone, new.clone());
        Some((old, new))
    }

    /// Asks the primaries for the SOA and transfers a newer version. On failure the next check
    /// is after the SOA's retry interval.
    pub async fn refresh(&self, upstream: &dyn Upstream, now: u64) -> Result<Refreshed, String> {
        let (held_soa, retry, refresh, records) = {
            let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            let soa = soa_of(&held.records).cloned();
            let retry = soa.as_ref().map_or(DEFAULT_RETRY, |s| interval(s.retry));
            let refresh = soa.as_ref().map_or(DEFAULT_RETRY, |s| interval(s.refresh));
            (soa, retry, refresh, held.records.clone())
        };
        let mut result = self.check(upstream, held_soa.as_ref()).await;
        if let Ok(Some((Transferred::Incremental(deltas), _))) = &result
            && !deltas_apply(&records, deltas)
        {
            // The changes do not fit the version held: the whole zone instead.
            tracing::info!(zone = %self.name, "IXFR does not match the policy zone held, trying AXFR");
            result = self.check(upstream, None).await;
        }
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Err(e) => {
                held.next_check = now + retry;
                Err(e)
            }
            Ok(None) => {
                held.next_check = now + refresh;
                Ok(Refreshed::Current)
            }
            Ok(Some((transferred, incremental))) => {
                let records = match transferred {
                    Transferred::Full(records) => records,
                    Transferred::Incremental(deltas) => {
                        let mut records = held.records.clone();
                        for d in &deltas {
                            apply_delta(&mut records, d);
                        }
                        records
                    }
                    Transferred::UpToDate => {
                        held.next_check = now + refresh;
                        return Ok(Refreshed::Current);
                    }
                };
                let soa = soa_of(&records).cloned();
                let serial = soa.as_ref().map_or(0, |s| s.serial);
                held.next_check = now + soa.as_ref().map_or(refresh, |s| interval(s.refresh));
                let (mut zone, skipped) = PolicyZone::from_records(&self.name, records.iter().cloned());
                for s in skipped.iter().take(20) {
                    tracing::warn!(zone = %self.name, "a record of the transferred policy zone is left out: {s}");
                }
                self.settings.apply(&mut zone);
                let new = Arc::new(zone);
                let old = std::mem::replace(&mut held.zone, new.clone());
                held.records = records;
                if let Some(file) = &self.file
                    && let Err(e) = write_zone(file, &held.records)
                {
                    tracing::warn!(zone = %self.name, file = %file.display(), error = %e, "the transferred policy zone is not saved");
                }
                Ok(Refreshed::Changed { old, new, serial, incremental })
            }
        }
    }

    async fn check(&self, upstream: &dyn Upstream, held: Option<&SOA>) -> Result<Option<(Transferred, bool)>, String> {
        fetch_newer(upstream, &self.name, &self.all_primaries(), self.key.as_ref(), held).await
    }
}

/// The newer version from the first primary that has one, or `None` when the primaries
/// have the serial held (or older).
pub(crate) async fn fetch_newer(
    upstream: &dyn Upstream,
    name: &Name,
    primaries: &[SocketAddr],
    key: Option<&tsig::Key>,
    held: Option<&SOA>,
) -> Result<Option<(Transferred, bool)>, String> {
    let mut errors = Vec::new();
    for &primary in primaries {
        let serial = match soa_serial(upstream, primary, name).await {
            Ok(s) => s,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(held) = held
            && !serial_newer(serial, held.serial)
        {
            return Ok(None);
        }
        if let Some(held) = held {
            match transfer(upstream, name, key, primary, Some(held)).await {
                Ok(Transferred::UpToDate) => return Ok(None),
                Ok(t @ Transferred::Incremental(_)) => return Ok(Some((t, true))),
                Ok(t) => return Ok(Some((t, false))),
                // A primary without IXFR (or without the journal for it): the whole zone.
                Err(e) => tracing::info!(zone = %name, %primary, error = %e, "IXFR failed, trying AXFR"),
            }
        }
        match transfer(upstream, name, key, primary, None).await {
            Ok(t) => return Ok(Some((t, false))),
            Err(e) => errors.push(e),
        }
    }
    Err(if errors.is_empty() { "no primaries".into() } else { errors.join("; ") })
}

/// One AXFR (`held` is `None`) or IXFR from `held`'s serial, read and checked.
async fn transfer(
    upstream: &dyn Upstream,
    name: &Name,
    key: Option<&tsig::Key>,
    primary: SocketAddr,
    held: Option<&SOA>,
) -> Result<Transferred, String> {
    let rtype = if held.is_some() { RecordType::IXFR } else { RecordType::AXFR };
    let mut request = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    request.add_query(Query::query(name.clone(), rtype));
    if let Some(soa) = held {
        // RFC 1995 §3: the serial held goes in the authority section.
        request.authorities.push(Record::from_rdata(name.clone(), 0, RData::SOA(soa.clone())));
    }
    let bytes = request.to_vec().map_err(|e| format!("cannot encode the {rtype} request: {e}"))?;
    let (bytes, request_mac) = match key {
        Some(key) => {
            let (signed, mac) = tsig::sign_request(&bytes, key);
            (signed, Some(mac))
        }
        None => (bytes, None),
    };
    let messages = upstream.transfer(primary, bytes, rtype).await.map_err(|e| e.to_string())?;
    if let (Some(key), Some(mac)) = (key, &request_mac) {
        tsig::verify_answers(&messages, key, mac).map_err(|e| format!("{primary}: {rtype}: {e}"))?;
    }
    let mut records = Vec::new();
    for m in &messages {
        let m = Message::from_vec(m).map_err(|e| format!("{primary}: {rtype}: malformed answer: {e}"))?;
        if m.metadata.id != request.metadata.id {
            return Err(format!("{primary}: {rtype}: an answer with another id"));
        }
        if m.metadata.response_code != ResponseCode::NoError {
            return Err(format!("{primary}: {rtype}: {}", m.metadata.response_code));
        }
        records.extend(m.answers);
    }
    read_transfer(name, records, rtype == RecordType::IXFR).map_err(|e| format!("{primary}: {rtype}: {e}"))
}

/// The SOA serial a primary serves for `zone`.
async fn soa_serial(upstream: &dyn Upstream, primary: SocketAddr, zone: &Name) -> Result<u32, String> {
    let mut request = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    request.add_query(Query::query(zone.clone(), RecordType::SOA));
    let answer = upstream.query(primary, &request).await.map_err(|e| e.to_string())?;
    if answer.metadata.response_code != ResponseCode::NoError {
        return Err(format!("{primary}: SOA of {zone}: {}", answer.metadata.response_code));
    }
    answer
        .answers
        .iter()
        .find_map(|r| match &r.data {
            RData::SOA(s) if crate::zone::fqdn_lower(&r.name) == *zone => Some(s.serial),
            _ => None,
        })
        .ok_or_else(|| format!("{primary}: no SOA for {zone} in the answer"))
}

/// The records of a compiled version.
fn compile(name: &Name, records: &[Record], settings: &ZoneSettings) -> PolicyZone {
    let (mut zone, skipped) = PolicyZone::from_records(name, records.iter().cloned());
    for s in skipped.iter().take(20) {
        tracing::warn!(zone = %name, "a record of the policy zone is left out: {s}");
    }
    settings.apply(&mut zone);
    zone
}

/// A SOA timer (signed in hickory's SOA) as a wait in seconds.
fn interval(seconds: i32) -> u64 {
    u64::try_from(seconds).unwrap_or(0).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

fn soa_of(records: &[Record]) -> Option<&SOA> {
    records.iter().find_map(|r| match &r.data {
        RData::SOA(s) => Some(s),
        _ => None,
    })
}

/// RFC 1982 serial number arithmetic: `a` is newer than `b`.
pub fn serial_newer(a: u32, b: u32) -> bool {
    a != b && (a.wrapping_sub(b) as i32) > 0
}

/// One change of an IXFR: the records removed, then those added, and the SOA after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub removed: Vec<Record>,
    pub added: Vec<Record>,
    pub new_soa: Record,
}

/// A zone transfer's records, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Transferred {
    /// IXFR: the primary has the serial the request gave.
    UpToDate,
    /// The whole zone (AXFR, or an IXFR answered in AXFR form), its SOA first.
    Full(Vec<Record>),
    /// IXFR: the changes from the serial held, in order.
    Incremental(Vec<Change>),
}

/// Reads the answer records of an AXFR or IXFR (RFC 5936 §2.2, RFC 1995 §4): SOA first and
/// last; for an IXFR, a second SOA starts the changes (old SOA, removed, new SOA, added, ...).
pub fn read_transfer(zone: &Name, records: Vec<Record>, ixfr: bool) -> Result<Transferred, String> {
    let is_soa = |r: &Record| r.record_type() == RecordType::SOA;
    let serial = |r: &Record| match &r.data {
        RData::SOA(s) => s.serial,
        _ => 0,
    };
    let first = records.first().filter(|r| is_soa(r)).ok_or("the answer does not start with the SOA")?;
    if crate::zone::fqdn_lower(&first.name) != *zone {
        return Err(format!("the answer is for {}, not {zone}", first.name));
    }
    if records.len() == 1 {
        return if ixfr { Ok(Transferred::UpToDate) } else { Err("the answer has the SOA only once".into()) };
    }
    let last = records.last().filter(|r| is_soa(r)).ok_or("the answer does not end with the SOA")?;
    if serial(last) != serial(first) {
        return Err("the answer ends with another SOA than it starts with".into());
    }
    let incremental = ixfr && records.len() > 2 && is_soa(&records[1]) && serial(&records[1]) != serial(first);
    if !incremental {
        let mut records = records;
        records.pop();
        if records.iter().skip(1).any(is_soa) {
            return Err("a SOA inside the zone".into());
        }
        return Ok(Transferred::Full(records));
    }
    // SOA(new) [SOA(old) removed... SOA(next) added...]+ SOA(new)
    let mut changes = Vec::new();
    let mut i = 1;
    let end = records.len() - 1;
    while i < end {
        // records[i] is the old SOA of this change.
        i += 1;
        let mut removed = Vec::new();
        while i < end && !is_soa(&records[i]) {
            removed.push(records[i].clone());
            i += 1;
        }
        if i >= end {
            return Err("a change without its new SOA".into());
        }
        let new_soa = records[i].clone();
        i += 1;
        let mut added = Vec::new();
        while i < end && !is_soa(&records[i]) {
            added.push(records[i].clone());
            i += 1;
        }
        changes.push(Change { removed, added, new_soa });
    }
    Ok(Transferred::Incremental(changes))
}

/// The same record apart from its TTL.
fn same(a: &Record, b: &Record) -> bool {
    a.record_type() == b.record_type()
        && a.dns_class == b.dns_class
        && a.name.to_lowercase() == b.name.to_lowercase()
        && a.data == b.data
}

/// True when every record an IXFR change removes (its SOA aside) is in `records`: a change
/// that removes what is not there was made against other data than the copy held.
pub fn delta_applies(records: &[Record], change: &Change) -> bool {
    change.removed.iter().filter(|d| d.record_type() != RecordType::SOA).all(|d| records.iter().any(|r| same(r, d)))
}

/// True when the changes, applied in order from `records`, each remove only what is there.
pub fn deltas_apply(records: &[Record], deltas: &[Change]) -> bool {
    let mut check = records.to_vec();
    deltas.iter().all(|d| {
        let ok = delta_applies(&check, d);
        apply_delta(&mut check, d);
        ok
    })
}

/// Applies one IXFR change to the records of a zone.
pub fn apply_delta(records: &mut Vec<Record>, change: &Change) {
    records.retain(|r| r.record_type() != RecordType::SOA && !change.removed.iter().any(|d| same(r, d)));
    records.insert(0, change.new_soa.clone());
    for a in &change.added {
        if !records.iter().any(|r| same(r, a)) {
            records.push(a.clone());
        }
    }
}

/// Writes the records in master format, through a temporary file renamed into place.
pub(crate) fn write_zone(path: &std::path::Path, records: &[Record]) -> std::io::Result<()> {
    use std::io::Write;
    let mut text = String::from("; transferred by mamori; rewritten after every transfer\n");
    for r in records {
        text.push_str(&crate::zone::master::record_text(r));
        text.push('\n');
    }
    let tmp = path.with_extension("mamori-tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn rr(text: &str) -> Record {
        let origin = Name::from_str("rpz.example.").unwrap();
        crate::zone::master::parse(text, &origin, None).unwrap().remove(0).record
    }

    fn soa(serial: u32) -> Record {
        rr(&format!("@ 3600 IN SOA ns hostmaster {serial} 3600 900 86400 3600\n"))
    }

    #[test]
    fn an_ixfr_answer_is_read_as_changes_and_applied() {
        let name = Name::from_str("rpz.example.").unwrap();
        let held = vec![soa(1), rr("a 60 IN CNAME .\n"), rr("c 60 IN TXT \"one\"\n"), rr("c 60 IN TXT \"two\"\n")];
        let answer = vec![
            soa(3),
            soa(1),
            rr("c 300 IN TXT \"one\"\n"), // TTLs do not matter for removal
            soa(2),
            rr("b 60 IN TXT \"new\"\n"),
            soa(2),
            rr("a 60 IN CNAME .\n"),
            soa(3),
            rr("a 60 IN CNAME *.\n"),
            soa(3),
        ];
        let Transferred::Incremental(changes) = read_transfer(&name, answer, true).unwrap() else {
            panic!("not read as incremental")
        };
        assert_eq!(changes.len(), 2);
        let mut records = held;
        for c in &changes {
            apply_delta(&mut records, c);
        }
        let text: Vec<String> = records.iter().map(crate::zone::master::record_text).collect();
        assert_eq!(soa_of(&records).unwrap().serial, 3);
        assert_eq!(records.len(), 4, "{text:?}");
        assert!(text.iter().any(|t| t.contains("\"two\"")));
        assert!(!text.iter().any(|t| t.contains("\"one\"")));
        assert!(text.iter().any(|t| t.contains("new")));
        assert!(text.iter().any(|t| t.starts_with("a.rpz.example.") && t.ends_with("*.")));
    }

    #[test]
    fn an_ixfr_removing_what_is_not_held_does_not_apply() {
        let name = Name::from_str("rpz.example.").unwrap();
        let held = vec![soa(1), rr("a 60 IN CNAME .\n")];
        let fits = vec![soa(2), soa(1), rr("a 60 IN CNAME .\n"), soa(2), soa(2)];
        let stale = vec![soa(2), soa(1), rr("gone 60 IN CNAME .\n"), soa(2), soa(2)];
        for (answer, applies) in [(fits, true), (stale, false)] {
            let Transferred::Incremental(changes) = read_transfer(&name, answer, true).unwrap() else {
                panic!("not read as incremental")
            };
            assert_eq!(deltas_apply(&held, &changes), applies);
        }
    }

    #[test]
    fn axfr_forms_and_bad_answers() {
        let name = Name::from_str("rpz.example.").unwrap();
        let full = vec![soa(5), rr("a 60 IN CNAME .\n"), soa(5)];
        assert_eq!(read_transfer(&name, full.clone(), false).unwrap(), Transferred::Full(full[..2].to_vec()));
        assert_eq!(read_transfer(&name, full.clone(), true).unwrap(), Transferred::Full(full[..2].to_vec()));
        assert_eq!(read_transfer(&name, vec![soa(5)], true).unwrap(), Transferred::UpToDate);
        assert!(read_transfer(&name, vec![soa(5)], false).is_err());
        assert!(read_transfer(&name, vec![rr("a 60 IN CNAME .\n"), soa(5)], false).is_err());
        assert!(read_transfer(&name, vec![soa(5), rr("a 60 IN CNAME .\n"), soa(6)], false).is_err());
        assert!(read_transfer(&name, vec![], false).is_err());
        let other = Name::from_str("other.example.").unwrap();
        assert!(read_transfer(&other, full, false).is_err());
    }

    #[test]
    fn serials_compare_as_rfc_1982_says() {
        assert!(serial_newer(2, 1));
        assert!(!serial_newer(1, 2));
        assert!(!serial_newer(7, 7));
        assert!(serial_newer(0, u32::MAX), "wraps around");
    }

    #[test]
    fn a_saved_zone_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rpz.zone");
        let records = vec![soa(9), rr("a 60 IN CNAME .\n"), rr("c 60 IN TXT \"hello from RPZ\"\n")];
        write_zone(&path, &records).unwrap();
        let name = Name::from_str("rpz.example.").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let back: Vec<Record> =
            crate::zone::master::parse(&text, &name, None).unwrap().into_iter().map(|p| p.record).collect();
        assert_eq!(back.len(), 3);
        for (a, b) in back.iter().zip(&records) {
            assert!(same(a, b), "{a} != {b}");
        }
    }
}
