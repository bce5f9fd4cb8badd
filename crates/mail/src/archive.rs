//! The copy of an inbound message as it arrived (before any tag), for the tenant's isolated
//! archive (requirement: メール原本は隔離されたサーバに転送できること). It is queued like any
//! message, so it is as durable as the delivery itself, and goes from `<>` so that a problem at
//! the archive never bounces to the outside sender.

use crate::policy::{RelayPolicy, Route};
use crate::queue::{Envelope, NewMessage, QueueStore, new_envelope};

/// The archive copy of a message, or `None` when the tenant keeps no archive. `original` is
/// the message as stored before tagging (trace headers and the text as received).
pub fn copy(
    policy: &RelayPolicy,
    tenant: Option<&str>,
    queue_id: &str,
    sender: &str,
    recipients: &[(String, Route)],
    original: &[u8],
) -> Option<(Envelope, Vec<u8>)> {
    let (address, route) = policy.archive(tenant)?;
    let to: Vec<&str> = recipients.iter().map(|(a, _)| a.as_str()).collect();
    let sender = if sender.is_empty() { "<>" } else { sender };
    // Envelope facts the archive would otherwise lose, as header fields in front.
    let mut text = format!(
        "X-Mamori-Archive-Of: {queue_id}\r\nX-Mamori-Envelope-From: {sender}\r\nX-Mamori-Envelope-To: {}\r\n",
        to.join(", ")
    )
    .into_bytes();
    text.extend_from_slice(original);
    let facts = crate::message::facts(original);
    let envelope = new_envelope(NewMessage {
        id: QueueStore::new_id(),
        sender: String::new(),
        client_ip: None,
        helo: String::new(),
        tenant: tenant.map(str::to_string),
        message_id: facts.message_id,
        subject: facts.subject,
        size: text.len() as u64,
        eight_bit: !original.is_ascii(),
        smtputf8: !address.is_ascii() || to.iter().any(|a| !a.is_ascii()),
        recipients: vec![(address.clone(), route.clone())],
    });
    Some((envelope, text))
}
