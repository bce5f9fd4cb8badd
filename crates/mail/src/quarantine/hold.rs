//! Putting a message into the quarantine during the SMTP transaction, and queueing the notices
//! to the people it was for.

use super::store::{Cause, Record};
use crate::context::MailContext;
use crate::policy::Route;
use crate::queue::Envelope;

/// Who is told about a quarantined message: the recipients at the tenant (inbound mail), or
/// the sender at the tenant when the mail was going out.
pub fn notice_recipients(envelope: &Envelope) -> Vec<String> {
    let inside: Vec<String> = envelope
        .recipients
        .iter()
        .filter(|r| matches!(r.route, Route::Relay { .. }))
        .map(|r| r.address.clone())
        .collect();
    if !inside.is_empty() || envelope.sender.is_empty() { inside } else { vec![envelope.sender.clone()] }
}

/// Stores the message durably and queues a notice per person when the cause is malware and the
/// tenant wants notices. Returns how many notices were queued. Errors only when the message
/// itself could not be stored (the caller then answers with a temporary failure).
/// An archive copy of the original, when the tenant keeps one, is queued before the message is
/// quarantined, and must succeed.
pub async fn hold(
    ctx: &MailContext,
    record: Record,
    stored: Vec<u8>,
    archive: Option<(Envelope, Vec<u8>)>,
) -> Result<usize, String> {
    let mut notices = Vec::new();
    {
        let policy = ctx.policy.load();
        let content = policy.content(record.tenant.as_deref());
        if record.cause == Cause::Virus && content.notify {
            let helpdesk = policy.helpdesk(record.tenant.as_deref());
            let hostname = &ctx.settings.hostname;
            for to in notice_recipients(&record.envelope) {
                let body = super::notice::build(hostname, &record, &to, helpdesk);
                match crate::own_mail::envelope_to(&policy, hostname, record.tenant.clone(), &to, &body) {
                    Ok(env) => notices.push((env, body)),
                    Err(reason) => tracing::warn!(id = %record.id, %to, %reason, "no quarantine notice"),
                }
            }
        }
    }
    let (quarantine, queue) = (ctx.quarantine.clone(), ctx.queue.clone());
    let has_archive = archive.is_some();
    let id = record.id.clone();
    let queued = tokio::task::spawn_blocking(move || -> Result<usize, String> {
        if let Some((env, text)) = &archive {
            queue.insert(env, text).map_err(|e| format!("archive copy: {e}"))?;
        }
        quarantine.insert(&record, &stored).map_err(|e| e.to_string())?;
        let mut queued = 0;
        for (env, body) in &notices {
            match queue.insert(env, body) {
                Ok(()) => queued += 1,
                Err(e) => tracing::error!(id = %record.id, error = %e, "cannot queue a quarantine notice"),
            }
        }
        Ok(queued)
    })
    .await
    .map_err(|e| format!("the quarantine writer failed: {e}"))??;
    if queued > 0 || has_archive {
        ctx.queued.notify_one();
    }
    tracing::info!(%id, queued, "message quarantined");
    Ok(queued)
}
