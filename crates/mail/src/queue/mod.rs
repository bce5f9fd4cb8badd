//! The durable queue: envelopes and message texts on disk, fsynced before the `250`.

pub mod envelope;
pub mod store;

use std::net::IpAddr;

pub use envelope::{Envelope, Recipient, Status};
pub use store::{QueueError, QueueStore};

use crate::policy::Route;

/// What the SMTP session knows of a message it accepts.
pub struct NewMessage {
    pub id: String,
    pub sender: String,
    pub client_ip: Option<IpAddr>,
    pub helo: String,
    pub tenant: Option<String>,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub size: u64,
    pub eight_bit: bool,
    pub smtputf8: bool,
    pub recipients: Vec<(String, Route)>,
}

pub fn new_envelope(m: NewMessage) -> Envelope {
    Envelope {
        id: m.id,
        received_at: jiff::Timestamp::now(),
        sender: m.sender,
        client_ip: m.client_ip,
        helo: m.helo,
        tenant: m.tenant,
        message_id: m.message_id,
        subject: m.subject,
        size: m.size,
        eight_bit: m.eight_bit,
        smtputf8: m.smtputf8,
        recipients: m
            .recipients
            .into_iter()
            .map(|(address, route)| Recipient {
                address,
                route,
                status: Status::Pending,
                attempts: 0,
                next_attempt: None,
                last_result: None,
                remote: None,
                dsn_status: None,
            })
            .collect(),
        delay_warned: false,
    }
}
