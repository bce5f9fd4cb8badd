//! The differences between successive versions of a zone, kept across reloads so that a
//! secondary asking for IXFR from an older serial gets only what changed (RFC 1995 §4). The
//! journal is also written beside the zone file (`<file>.jnl`, master format: each change as
//! old SOA, removed records, new SOA, added records), so that IXFR still works after a restart;
//! it is used again only when it ends at the serial of the zone file read at start.

use hickory_proto::rr::{Record, RecordType};

use super::Zone;

/// Reloads remembered per zone; a secondary further behind gets the whole zone (AXFR form).
pub const MAX_DELTAS: usize = 64;

/// What changed from one serial to the next: `removed` then `added`, SOAs apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub old_soa: Record,
    pub removed: Vec<Record>,
    pub new_soa: Record,
    pub added: Vec<Record>,
}

impl Delta {
    /// The records from `old` to `new`, compared per owner and type.
    pub fn between(old: &Zone, new: &Zone) -> Delta {
        Delta {
            old_soa: old.soa_record().clone(),
            removed: only_in(old, new),
            new_soa: new.soa_record().clone(),
            added: only_in(new, old),
        }
    }

    pub fn from_serial(&self) -> u32 {
        serial_of(&self.old_soa)
    }

    pub fn to_serial(&self) -> u32 {
        serial_of(&self.new_soa)
    }
}

fn serial_of(soa: &Record) -> u32 {
    match &soa.data {
        hickory_proto::rr::RData::SOA(s) => s.serial,
        _ => 0,
    }
}

/// Records of `a` (SOA excepted) that `b` does not have.
fn only_in(a: &Zone, b: &Zone) -> Vec<Record> {
    let mut out = Vec::new();
    for (name, node) in a.nodes() {
        for (rtype, records) in node {
            if *rtype == RecordType::SOA {
                continue;
            }
            let theirs = b.rrset(name, *rtype).unwrap_or_default();
            out.extend(records.iter().filter(|r| !theirs.contains(r)).cloned());
        }
    }
    out
}

/// The IXFR answer records for a secondary at `client_serial`: the current SOA, then each
/// change since (old SOA, removed, new SOA, added), then the current SOA again; a secondary
/// already current gets the SOA alone. `None` when the journal does not reach back that far.
pub fn incremental(zone: &Zone, journal: &[Delta], client_serial: u32) -> Option<Vec<Record>> {
    let current = zone.soa_record().clone();
    if client_serial == zone.serial() {
        return Some(vec![current]);
    }
    let start = journal.iter().position(|d| d.from_serial() == client_serial)?;
    let chain = &journal[start..];
    // The chain must be unbroken and end at the serial served now.
    let linked = chain.windows(2).all(|w| w[0].to_serial() == w[1].from_serial());
    if !linked || chain.last().map(Delta::to_serial) != Some(zone.serial()) {
        return None;
    }
    let mut out = vec![current.clone()];
    for d in chain {
        out.push(d.old_soa.clone());
        out.extend(d.removed.iter().cloned());
        out.push(d.new_soa.clone());
        out.extend(d.added.iter().cloned());
    }
    out.push(current);
    Some(out)
}

/// Where the journal of the zone in `zone_file` is kept.
pub fn path_for(zone_file: &std::path::Path) -> std::path::PathBuf {
    let mut name = zone_file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".jnl");
    zone_file.with_file_name(name)
}

/// The journal in master format.
pub fn to_text(journal: &[Delta]) -> String {
    let mut text = String::from("; mamori IXFR journal: old SOA, removed, new SOA, added, for each change\n");
    for d in journal {
        for r in std::iter::once(&d.old_soa).chain(&d.removed).chain(std::iter::once(&d.new_soa)).chain(&d.added) {
            text.push_str(&crate::zone::master::record_text(r));
            text.push('\n');
        }
    }
    text
}

/// Reads a journal written by [`to_text`].
pub fn from_text(text: &str, origin: &hickory_proto::rr::Name) -> Result<Vec<Delta>, String> {
    let records: Vec<Record> = super::master::parse(text, origin, None)?.into_iter().map(|p| p.record).collect();
    let is_soa = |r: &Record| r.record_type() == RecordType::SOA;
    let mut out = Vec::new();
    let mut i = 0;
    while i < records.len() {
        let old_soa = records.get(i).filter(|r| is_soa(r)).ok_or("a change does not start with a SOA")?.clone();
        i += 1;
        let mut removed = Vec::new();
        while i < records.len() && !is_soa(&records[i]) {
            removed.push(records[i].clone());
            i += 1;
        }
        let new_soa = records.get(i).ok_or("a change without its new SOA")?.clone();
        i += 1;
        let mut added = Vec::new();
        while i < records.len() && !is_soa(&records[i]) {
            added.push(records[i].clone());
            i += 1;
        }
        out.push(Delta { old_soa, removed, new_soa, added });
    }
    Ok(out)
}

/// Writes the journal through a temporary file renamed into place.
pub fn save(path: &std::path::Path, journal: &[Delta]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("jnl-tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(to_text(journal).as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// The journal kept for `zone`, when there is one and it ends at the zone's serial (a zone file
/// edited while mamori was down makes it useless: secondaries then get the whole zone).
pub fn load(path: &std::path::Path, zone: &Zone) -> Vec<Delta> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    match from_text(&text, zone.origin()) {
        Ok(j) if j.last().map(Delta::to_serial) == Some(zone.serial()) => j,
        Ok(_) => {
            tracing::info!(zone = %zone.origin(), journal = %path.display(), "the journal does not end at the zone's serial; not used");
            Vec::new()
        }
        Err(e) => {
            tracing::warn!(zone = %zone.origin(), journal = %path.display(), error = %e, "the journal cannot be read");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Name;

    fn zone(serial: u32, body: &str) -> Zone {
        let text = format!(
            "$TTL 300\n@ IN SOA ns1 host {serial} 3600 900 604800 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n{body}"
        );
        Zone::parse(&text, &Name::from_ascii("example.jp.").unwrap(), None).unwrap()
    }

    #[test]
    fn a_chain_of_changes_is_sent_from_the_clients_serial() {
        let (v1, v2, v3) = (
            zone(1, "www A 192.0.2.10\n"),
            zone(2, "www A 192.0.2.11\n"),
            zone(3, "www A 192.0.2.11\nmail A 192.0.2.25\n"),
        );
        let journal = vec![Delta::between(&v1, &v2), Delta::between(&v2, &v3)];
        assert_eq!(journal[0].removed.len(), 1);
        assert_eq!(journal[0].added.len(), 1);
        assert!(journal[1].removed.is_empty());
        let from1 = incremental(&v3, &journal, 1).unwrap();
        // SOA3, SOA1, -www, SOA2, +www, SOA2, SOA3, +mail, SOA3
        assert_eq!(from1.len(), 9);
        assert_eq!(incremental(&v3, &journal, 2).unwrap().len(), 5);
        assert_eq!(incremental(&v3, &journal, 3).unwrap().len(), 1);
        assert!(incremental(&v3, &journal, 7).is_none());
        // Written and read back, it serves the same answers.
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("example.jp.zone"));
        assert!(path.ends_with("example.jp.zone.jnl"));
        save(&path, &journal).unwrap();
        let back = load(&path, &v3);
        assert_eq!(back, journal);
        assert_eq!(incremental(&v3, &back, 1), incremental(&v3, &journal, 1));
        assert!(load(&path, &v2).is_empty(), "a journal not ending at the zone's serial is not used");
    }
}
