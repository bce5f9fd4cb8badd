//! The mail relay's quarantine as the API sees it: records filtered to the caller's tenants,
//! releases and deletions through the relay's own functions (audit trail included), each also
//! recorded in the log store.

use std::sync::Arc;

use mamori_api::mail_quarantine::{QuarantineAccess, Tenants};
use mamori_mail::MailContext;
use mamori_mail::quarantine::{Actor, Record};
use serde_json::Value;

pub struct RelayQuarantine(pub Arc<MailContext>);

fn allowed(record: &Record, tenants: Tenants<'_>) -> bool {
    tenants.is_none_or(|ts| record.tenant.as_ref().is_some_and(|t| ts.contains(t)))
}

fn to_json(record: &Record) -> Result<Value, String> {
    serde_json::to_value(record).map_err(|e| e.to_string())
}

impl RelayQuarantine {
    /// The record when it exists and is visible; `None` otherwise (the same for both).
    fn visible(&self, id: &str, tenants: Tenants<'_>) -> Result<Option<Record>, String> {
        match self.0.quarantine.load(id) {
            Ok(r) if allowed(&r, tenants) => Ok(Some(r)),
            Ok(_) => Ok(None),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn record_event(&self, action: &str, record: &Record, actor: &Actor) {
        let text = format!("quarantined message {} {action} by {}: {}", record.id, actor.name, actor.reason);
        let event = mamori_mail::quarantine::event(action, record, text);
        // Called on a blocking thread of the runtime: waiting for the log writer is fine here.
        tokio::runtime::Handle::current().block_on(self.0.log.record(event));
    }
}

impl QuarantineAccess for RelayQuarantine {
    fn list(&self, tenants: Tenants<'_>) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        for item in self.0.quarantine.list().map_err(|e| e.to_string())? {
            match item {
                Ok(r) if allowed(&r, tenants) => out.push(to_json(&r)?),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "an unreadable quarantine record is left out of the listing"),
            }
        }
        Ok(out)
    }

    fn get(&self, id: &str, tenants: Tenants<'_>) -> Result<Option<(Value, String)>, String> {
        let Some(record) = self.visible(id, tenants)? else { return Ok(None) };
        let text = self.0.quarantine.text(id).map_err(|e| e.to_string())?;
        let end = text.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(text.len());
        Ok(Some((to_json(&record)?, String::from_utf8_lossy(&text[..end]).into_owned())))
    }

    fn release(&self, id: &str, tenants: Tenants<'_>, actor: &str, reason: &str) -> Result<Option<Value>, String> {
        if self.visible(id, tenants)?.is_none() {
            return Ok(None);
        }
        let actor = Actor { name: actor.into(), tenant: None, reason: reason.into() };
        let record = mamori_mail::quarantine::release(&self.0.quarantine, &self.0.queue, id, &actor)
            .map_err(|e| e.to_string())?;
        self.0.queued.notify_one();
        self.record_event("released", &record, &actor);
        Ok(Some(to_json(&record)?))
    }

    fn delete(&self, id: &str, tenants: Tenants<'_>, actor: &str, reason: &str) -> Result<Option<Value>, String> {
        if self.visible(id, tenants)?.is_none() {
            return Ok(None);
        }
        let actor = Actor { name: actor.into(), tenant: None, reason: reason.into() };
        let record = mamori_mail::quarantine::delete(&self.0.quarantine, id, &actor).map_err(|e| e.to_string())?;
        self.record_event("deleted", &record, &actor);
        Ok(Some(to_json(&record)?))
    }
}
