//! Zone transfers (AXFR, RFC 5936; IXFR, RFC 1995, from the journal of earlier reloads, or
//! the whole zone when the journal does not reach the secondary's serial): over TCP, to the
//! configured addresses only. Everything else is refused, and the refusal logged.

use std::net::SocketAddr;

use hickory_proto::rr::{Name, Record};

use crate::service::Transport;
use crate::state::DnsState;
use crate::zone::fqdn_lower;

/// The records to send, SOA first and last, or why the transfer is refused.
pub fn transfer(
    state: &DnsState,
    qname: &Name,
    client: SocketAddr,
    transport: Transport,
    ixfr_from: Option<u32>,
    key: Option<&str>,
) -> Result<Vec<Record>, String> {
    let qname = fqdn_lower(qname);
    let served = state.catalog.find(&qname).filter(|z| *z.zone.origin() == qname);
    let Some(served) = served else {
        return Err(format!("{qname} is not a zone served here"));
    };
    if transport == Transport::Udp {
        return Err("zone transfers are offered over TCP only".into());
    }
    if !served.may_transfer(client.ip(), key) {
        let with = key.map_or_else(String::new, |k| format!(" with key {k}"));
        return Err(format!("{}{with} may not transfer {qname}", client.ip()));
    }
    if let Some(serial) = ixfr_from
        && let Some(records) = crate::zone::journal::incremental(&served.zone, &served.journal, serial)
    {
        return Ok(records);
    }
    let mut records: Vec<Record> = served.zone.all_records().cloned().collect();
    records.push(served.zone.soa_record().clone());
    Ok(records)
}
