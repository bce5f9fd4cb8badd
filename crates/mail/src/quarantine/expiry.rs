//! The quarantine's expiry: every hour, messages past their tenant's retention are deleted,
//! each deletion recorded in the audit trail and the log store.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::context::MailContext;

const EVERY: Duration = Duration::from_secs(3600);

/// Runs until shutdown; the first pass right at the start.
pub async fn run(ctx: Arc<MailContext>, shutdown: CancellationToken) -> std::io::Result<()> {
    loop {
        expire_once(&ctx).await;
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// One pass; returns how many messages were deleted.
pub async fn expire_once(ctx: &MailContext) -> usize {
    let quarantine = ctx.quarantine.clone();
    let gone = tokio::task::spawn_blocking(move || {
        let gone = quarantine.expire(jiff::Timestamp::now())?;
        for record in &gone {
            let actor = super::Actor { name: "mamori".into(), tenant: None, reason: "retention period over".into() };
            super::audit(&quarantine, "expired", record, &actor)?;
        }
        Ok::<_, super::QuarantineError>(gone)
    })
    .await;
    let gone = match gone {
        Ok(Ok(gone)) => gone,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "quarantine expiry failed");
            return 0;
        }
        Err(e) => {
            tracing::error!(error = %e, "quarantine expiry failed");
            return 0;
        }
    };
    for record in &gone {
        let text = format!("quarantined message {} deleted: retention period over", record.id);
        ctx.log.record(super::event("expired", record, text)).await;
    }
    gone.len()
}
