//! Zones the resolver holds a copy of (Unbound's `auth-zone`, RFC 8806 for the root): names
//! under one are answered from the copy instead of its servers (`for_upstream`), and clients
//! may get authoritative answers from it directly (`for_downstream`).

use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode};
use hickory_proto::rr::{Name, RecordType};

use crate::zone::Zone;
use crate::zone::held::HeldZone;
use crate::zone::lookup::{self, AuthAnswer};

#[derive(Debug, Clone)]
pub struct LocalZone {
    pub zone: Arc<HeldZone>,
    /// Iteration reaching this zone takes its answers from the copy.
    pub for_upstream: bool,
    /// Clients' questions under this zone are answered from the copy, with AA.
    pub for_downstream: bool,
    /// While no copy is held, iteration goes to the zone's servers (else it fails).
    pub fallback: bool,
}

/// The deepest zone of `zones` that holds `name` and passes `wanted`.
pub fn deepest<'z>(zones: &'z [LocalZone], name: &Name, wanted: impl Fn(&LocalZone) -> bool) -> Option<&'z LocalZone> {
    zones.iter().filter(|z| wanted(z) && z.zone.name.zone_of(name)).max_by_key(|z| z.zone.name.num_labels())
}

/// The zone's answer as the message its server would have sent.
pub fn response(zone: &Zone, name: &Name, qtype: RecordType) -> Message {
    // Its signatures and denials too, as its servers answer a query with DO (for the validator).
    let mut a = lookup::answer(zone, name, qtype);
    crate::zone::denial::add_dnssec(zone, name, qtype, &mut a);
    to_message(a)
}

fn to_message(a: AuthAnswer) -> Message {
    let mut m = Message::new(0, MessageType::Response, OpCode::Query);
    m.metadata.authoritative = a.authoritative;
    m.metadata.response_code = a.rcode;
    m.answers = a.answers;
    m.authorities = a.authority;
    m.additionals = a.additional;
    m
}
