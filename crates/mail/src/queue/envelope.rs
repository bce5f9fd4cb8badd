//! What the queue keeps beside each message: the envelope and each recipient's delivery state.

use std::net::IpAddr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::policy::Route;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Envelope {
    pub id: String,
    pub received_at: Timestamp,
    /// The reverse-path; empty for `<>` (DSNs and other automatic mail).
    pub sender: String,
    pub client_ip: Option<IpAddr>,
    pub helo: String,
    /// The tenant the message belongs to: the sending tenant for outbound mail, the first
    /// recipient's tenant for inbound mail.
    pub tenant: Option<String>,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub size: u64,
    /// The next hop must accept 8-bit text or UTF-8 addresses.
    #[serde(default)]
    pub eight_bit: bool,
    #[serde(default)]
    pub smtputf8: bool,
    pub recipients: Vec<Recipient>,
    /// The sender has been told that delivery is delayed (once per message).
    #[serde(default)]
    pub delay_warned: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recipient {
    pub address: String,
    pub route: Route,
    pub status: Status,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<Timestamp>,
    /// The last answer or error, for the queue listing and the DSN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_result: Option<String>,
    /// The remote host that gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// RFC 3463 status of the final failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsn_status: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Delivered,
    Failed,
}

impl Envelope {
    pub fn pending(&self) -> impl Iterator<Item = &Recipient> {
        self.recipients.iter().filter(|r| r.status == Status::Pending)
    }

    pub fn is_done(&self) -> bool {
        self.pending().next().is_none()
    }

    /// When the next pending recipient is due.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.pending().map(|r| r.next_attempt.unwrap_or(self.received_at)).min()
    }
}
