//! The quarantine: messages the content checks held back, kept for the tenant's retention
//! (default 30 days), listed, shown, released into the queue or deleted by an administrator.

pub mod expiry;
pub mod hold;
pub mod notice;
pub mod store;

pub use store::{AuditEntry, Cause, QuarantineError, QuarantineStore, Record};

use crate::queue::{QueueStore, Status};

/// Why a release failed.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Quarantine(#[from] QuarantineError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
}

/// Who acts on the quarantine and why, for the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    /// Limits the action to this tenant's mail (a municipal administrator).
    pub tenant: Option<String>,
    pub reason: String,
}

fn audit(quarantine: &QuarantineStore, action: &str, record: &Record, actor: &Actor) -> Result<(), QuarantineError> {
    quarantine.audit(&AuditEntry {
        time: jiff::Timestamp::now(),
        action: action.into(),
        id: record.id.clone(),
        tenant: record.tenant.clone(),
        actor: actor.name.clone(),
        reason: actor.reason.clone(),
    })
}

/// Moves a message from the quarantine into the delivery queue, to the recipients it had.
/// The queue copy is durable before the quarantined one is removed, so a crash in between
/// leaves the message in both places, never in neither. Audited. Blocking.
pub fn release(
    quarantine: &QuarantineStore,
    queue: &QueueStore,
    id: &str,
    actor: &Actor,
) -> Result<Record, ReleaseError> {
    let record = quarantine.load_for(id, actor.tenant.as_deref())?;
    audit(quarantine, "released", &record, actor)?;
    let text = quarantine.text(id)?;
    let mut envelope = record.envelope.clone();
    for r in &mut envelope.recipients {
        r.status = Status::Pending;
        r.attempts = 0;
        r.next_attempt = None;
    }
    queue.insert(&envelope, &text)?;
    quarantine.remove(id)?;
    Ok(record)
}

/// The log store's event for something done to a quarantined message (`released`, `deleted`,
/// `expired`).
pub fn event(action: &str, record: &Record, text: String) -> mamori_core::event::Event {
    let facts = crate::events::MailFacts {
        tenant: record.tenant.as_deref(),
        from: Some(&record.envelope.sender),
        to: record.envelope.recipients.iter().map(|r| r.address.clone()).collect(),
        subject: record.envelope.subject.as_deref(),
        queue_id: Some(&record.id),
        ..Default::default()
    };
    crate::events::mail_event("mail.quarantine", action, "success", text, &facts)
}

/// Deletes a quarantined message for good. Audited. Blocking.
pub fn delete(quarantine: &QuarantineStore, id: &str, actor: &Actor) -> Result<Record, QuarantineError> {
    let record = quarantine.load_for(id, actor.tenant.as_deref())?;
    audit(quarantine, "deleted", &record, actor)?;
    quarantine.remove(id)?;
    Ok(record)
}
