//! Zone transfers (AXFR, RFC 5936; IXFR is answered with the whole zone, RFC 1995 §4): over
//! TCP, to the configured addresses only. Everything else is refused, and the refusal logged.

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
) -> Result<Vec<Record>, String> {
    let qname = fqdn_lower(qname);
    let served = state.catalog.find(&qname).filter(|z| *z.zone.origin() == qname);
    let Some(served) = served else {
        return Err(format!("{qname} is not a zone served here"));
    };
    if transport == Transport::Udp {
        return Err("zone transfers are offered over TCP only".into());
    }
    if !served.may_transfer(client.ip()) {
        return Err(format!("{} may not transfer {qname}", client.ip()));
    }
    let mut records: Vec<Record> = served.zone.all_records().cloned().collect();
    records.push(served.zone.soa_record().clone());
    Ok(records)
}
