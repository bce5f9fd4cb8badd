//! Envelopes for the messages mamori writes itself (delivery status notifications, quarantine
//! notices): from `<>` so that they never cause another bounce, to one address routed as the
//! relay routes its own mail.

use crate::policy::RelayPolicy;
use crate::queue::{Envelope, QueueStore};
use crate::smtp::address::{Path, parse_path};

/// The queued envelope of `body` to `to`, or why it cannot be sent.
pub fn envelope_to(
    policy: &RelayPolicy,
    hostname: &str,
    tenant: Option<String>,
    to: &str,
    body: &[u8],
) -> Result<Envelope, String> {
    let Ok(Path::Mailbox { mailbox, .. }) = parse_path(&format!("<{to}>"), true) else {
        return Err(format!("'{to}' cannot be parsed as an address"));
    };
    let route = policy.route_own(&mailbox).map_err(|reply| reply.lines.join(" "))?;
    let facts = crate::message::facts(body);
    Ok(crate::queue::new_envelope(crate::queue::NewMessage {
        id: QueueStore::new_id(),
        sender: String::new(),
        client_ip: None,
        helo: hostname.to_string(),
        tenant,
        message_id: facts.message_id,
        subject: facts.subject,
        size: body.len() as u64,
        eight_bit: false,
        smtputf8: !to.is_ascii(),
        recipients: vec![(to.to_string(), route)],
    }))
}
