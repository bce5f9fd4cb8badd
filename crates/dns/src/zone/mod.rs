//! One zone in RFC 1035 master format, held as owner name → record type → records, in
//! canonical name order (RFC 4034 §6.1) so that "does anything exist below this name" (empty
//! non-terminals, RFC 4592 §2.2.2) is one range lookup.

pub mod denial;
pub mod dnssec_text;
pub mod held;
pub mod journal;
pub mod lookup;
pub mod master;
pub mod zonemd;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

/// The records of one owner name.
pub type Node = HashMap<RecordType, Vec<Record>>;

#[derive(Debug, Clone)]
pub struct Zone {
    origin: Name,
    nodes: BTreeMap<Name, Node>,
    record_count: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: cannot read: {source}")]
    Read { file: String, source: std::io::Error },
}

impl Zone {
    /// Reads and checks a zone file; `origin` is the zone's name (the file's `$ORIGIN` may say
    /// it too).
    pub fn load(path: &Path, origin: &Name) -> Result<Zone, ZoneError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ZoneError::Read { file: file.clone(), source })?;
        Zone::parse(&text, origin, Some(path)).map_err(|message| ZoneError::Parse { file, message })
    }

    /// Parses master-format text. `$INCLUDE` is resolved beside `path` (refused without one).
    pub fn parse(text: &str, origin: &Name, path: Option<&Path>) -> Result<Zone, String> {
        let records = master::parse(text, origin, path)?;
        Zone::from_records(origin, records.into_iter().map(|p| p.record))
    }

    /// Builds a zone from records; every owner must lie in the zone and the apex must hold
    /// exactly one SOA.
    pub fn from_records(origin: &Name, records: impl IntoIterator<Item = Record>) -> Result<Zone, String> {
        let origin = fqdn_lower(origin);
        let mut nodes: BTreeMap<Name, Node> = BTreeMap::new();
        let mut record_count = 0;
        for mut record in records {
            record.name = fqdn_lower(&record.name);
            if !origin.zone_of(&record.name) {
                return Err(format!("zone {origin}: {} lies outside the zone", record.name));
            }
            if record.dns_class != DNSClass::IN {
                return Err(format!(
                    "zone {origin}: {} has class {}, only IN is served",
                    record.name, record.dns_class
                ));
            }
            let rtype = record.record_type();
            let set = nodes.entry(record.name.clone()).or_default().entry(rtype).or_default();
            if !set.iter().any(|r| r.data == record.data) {
                set.push(record);
                record_count += 1;
            }
        }
        let soa = nodes.get(&origin).and_then(|n| n.get(&RecordType::SOA)).map_or(0, Vec::len);
        if soa != 1 {
            return Err(format!("zone {origin}: the apex needs exactly one SOA record, found {soa}"));
        }
        for (name, node) in &nodes {
            let cnames = node.get(&RecordType::CNAME).map_or(0, Vec::len);
            if cnames > 1 {
                return Err(format!("zone {origin}: {name} has {cnames} CNAME records, one is allowed"));
            }
            if cnames == 1 && node.len() > 1 {
                return Err(format!("zone {origin}: {name} has a CNAME and other data (RFC 1034 §3.6.2)"));
            }
        }
        Ok(Zone { origin, nodes, record_count })
    }

    pub fn origin(&self) -> &Name {
        &self.origin
    }

    pub fn record_count(&self) -> usize {
        self.record_count
    }

    /// Every owner name and its records, in canonical order.
    pub fn nodes(&self) -> impl Iterator<Item = (&Name, &Node)> {
        self.nodes.iter()
    }

    pub fn node(&self, name: &Name) -> Option<&Node> {
        self.nodes.get(name)
    }

    pub fn rrset(&self, name: &Name, rtype: RecordType) -> Option<&[Record]> {
        self.nodes.get(name).and_then(|n| n.get(&rtype)).map(Vec::as_slice)
    }

    /// True when `name` owns records or has descendants that do (an empty non-terminal).
    pub fn name_exists(&self, name: &Name) -> bool {
        self.nodes.range(name.clone()..).next().is_some_and(|(n, _)| name.zone_of(n))
    }

    pub fn soa_record(&self) -> &Record {
        &self.nodes[&self.origin][&RecordType::SOA][0]
    }

    pub fn soa(&self) -> &SOA {
        match &self.soa_record().data {
            RData::SOA(soa) => soa,
            _ => unreachable!("from_records keeps only SOA records under RecordType::SOA"),
        }
    }

    pub fn serial(&self) -> u32 {
        self.soa().serial
    }

    /// The SOA for the authority section of a negative answer: its TTL is the lesser of the
    /// SOA's own TTL and its MINIMUM field (RFC 2308 §3).
    pub fn negative_soa(&self) -> Record {
        let mut soa = self.soa_record().clone();
        soa.ttl = soa.ttl.min(self.soa().minimum);
        soa
    }

    /// Every record for a zone transfer: the SOA first, then all others (RFC 5936 §2.2); the
    /// caller ends with the SOA again.
    pub fn all_records(&self) -> impl Iterator<Item = &Record> {
        let soa = self.soa_record();
        std::iter::once(soa)
            .chain(self.nodes.values().flat_map(|n| n.values().flatten()).filter(move |r| !std::ptr::eq(*r, soa)))
    }
}

pub fn fqdn_lower(name: &Name) -> Name {
    let mut n = name.to_lowercase();
    n.set_fqdn(true);
    n
}

#[cfg(test)]
mod tests;
