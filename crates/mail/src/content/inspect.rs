//! The content step of an accepted message: the scanning engine over the whole message (every
//! MIME part and attachment, recursively), then the decision under the tenant's policy.

use mamori_core::event::Event;

use super::decide::{Decision, Findings, decide};
use crate::context::MailContext;

/// What the content step found and decided.
pub struct Inspection {
    pub decision: Decision,
    pub findings: Findings,
    /// Names of the malware found.
    pub threats: Vec<String>,
    /// The engine's alert events (one per finding), tenant-scoped.
    pub alerts: Vec<Event>,
}

/// Scans `text` (on a blocking thread: scanning is CPU work) and decides. Returns the text
/// unchanged, for the caller to store; an error only when the scan itself broke down.
pub async fn inspect(
    ctx: &MailContext,
    text: Vec<u8>,
    tenant: Option<&str>,
    dmarc: Option<(&'static str, &'static str)>,
    spam: Option<crate::spam::SpamVerdict>,
) -> Result<(Vec<u8>, Inspection), String> {
    let (text, report) = match ctx.scanner.clone() {
        Some(engine) => {
            let owner = tenant.unwrap_or("").to_string();
            let scanned = tokio::task::spawn_blocking(move || {
                let report = engine.scan_bytes("message.eml", &text, &owner);
                (text, report)
            })
            .await;
            // A panicking scan took the text with it; nothing was acknowledged yet, so the
            // caller answers 451 and the sender tries again later.
            let (text, report) = scanned.map_err(|e| format!("the scan failed: {e}"))?;
            (text, Some(report))
        }
        None => (text, None),
    };
    let mut findings = report.as_ref().map(Findings::from_scan).unwrap_or_default();
    findings.dmarc = dmarc;
    findings.spam = spam;
    let policy = ctx.policy.load();
    let decision = decide(policy.content(tenant), &findings);
    let (threats, alerts) = match &report {
        Some(r) => {
            (Findings::virus_names(r), mamori_scan::events::detection_events(r, "mail", tenant, jiff::Timestamp::now()))
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok((text, Inspection { decision, findings, threats, alerts }))
}
