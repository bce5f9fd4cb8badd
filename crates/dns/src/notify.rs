//! NOTIFY (RFC 1996): after a reload that changed a zone's serial, each configured secondary
//! is told, so that it asks for the new version (IXFR or AXFR) at once instead of waiting for
//! its refresh timer. Sent from a thread of its own; each secondary gets a few tries until it
//! answers (RFC 1996 §3.6). A zone with transfer keys signs its NOTIFY with the first of them
//! (TSIG, RFC 8945), so that a secondary that accepts NOTIFY only with its key follows it.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, Record, RecordType};

use crate::catalog::Catalog;

const TRIES: usize = 3;
const WAIT: Duration = Duration::from_secs(2);

/// A zone whose secondaries are to be told of its new SOA.
pub struct Change {
    pub origin: Name,
    pub soa: Record,
    pub secondaries: Vec<SocketAddr>,
    /// Signs the NOTIFY.
    pub key: Option<crate::tsig::Key>,
}

/// The zones of `new` with secondaries whose serial differs from `old` (or that are new; all
/// of them when `old` is empty, at start).
pub fn changed_zones(old: &Catalog, new: &Catalog, keys: &crate::tsig::Keys) -> Vec<Change> {
    new.zones()
        .filter(|z| !z.notify.is_empty())
        .filter(|z| old.get(z.zone.origin()).is_none_or(|o| o.zone.serial() != z.zone.serial()))
        .map(|z| Change {
            origin: z.zone.origin().clone(),
            soa: z.zone.soa_record().clone(),
            secondaries: z.notify.clone(),
            key: z.transfer_keys.first().and_then(|k| keys.get(k)).cloned(),
        })
        .collect()
}

pub fn send_in_background(changes: Vec<Change>) {
    if changes.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new().name("dns-notify".into()).spawn(move || {
        for change in &changes {
            for &secondary in &change.secondaries {
                match notify(change, secondary) {
                    Ok(()) => tracing::info!(zone = %change.origin, %secondary, "NOTIFY acknowledged"),
                    Err(e) => tracing::warn!(zone = %change.origin, %secondary, error = %e, "NOTIFY not acknowledged"),
                }
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "no thread for NOTIFY");
    }
}

/// The NOTIFY message: opcode NOTIFY, AA, the zone's SOA as question and answer (§3.7).
pub fn notify_message(change: &Change, id: u16) -> Message {
    let mut m = Message::new(id, MessageType::Query, OpCode::Notify);
    m.metadata.authoritative = true;
    m.add_query(Query::query(change.origin.clone(), RecordType::SOA));
    m.answers.push(change.soa.clone());
    m
}

/// Sends one NOTIFY and waits for its answer, a few times.
pub fn notify(change: &Change, secondary: SocketAddr) -> Result<(), String> {
    let local: SocketAddr = if secondary.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().map_err(|_| "address")?;
    let socket = UdpSocket::bind(local).map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(WAIT)).map_err(|e| e.to_string())?;
    let id: u16 = rand::random();
    let bytes = notify_message(change, id).to_vec().map_err(|e| e.to_string())?;
    let bytes = match &change.key {
        Some(key) => crate::tsig::sign_request(&bytes, key).0,
        None => bytes,
    };
    let mut buf = [0u8; 4096];
    for _ in 0..TRIES {
        socket.send_to(&bytes, secondary).map_err(|e| e.to_string())?;
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            if from != secondary {
                continue;
            }
            // The id and QR bit are enough: a signed answer need not be decoded here.
            if n >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 {
                return Ok(());
            }
        }
    }
    Err(format!("no answer after {TRIES} tries"))
}
