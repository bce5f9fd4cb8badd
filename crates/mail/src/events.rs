//! ECS events of the relay: one per SMTP transaction outcome (`mail.smtp`) and one per
//! delivery attempt (`mail.delivery`), written in batches by one task so that an SMTP session
//! never waits for a disk sync of its own.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use mamori_core::event::{Endpoint, Event, UNASSIGNED};
use mamori_core::sink::EventSink;
use serde_json::json;
use tokio::sync::mpsc;

const BATCH: usize = 512;
const QUEUE: usize = 16_384;

/// Hands events to the writer task.
#[derive(Clone)]
pub struct MailLog {
    tx: mpsc::Sender<Event>,
}

impl MailLog {
    /// Starts the writer; it ends when every `MailLog` is dropped and the queue is written.
    pub fn start(sink: Arc<dyn EventSink>) -> MailLog {
        let (tx, mut rx) = mpsc::channel::<Event>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let mut pause = Duration::from_millis(50);
                // A full log store slows mail down rather than losing its record.
                while let Err(e) = sink.submit(&batch).await {
                    tracing::warn!(error = %e, events = batch.len(), "mail log waits for the log store");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                batch.clear();
            }
        });
        MailLog { tx }
    }

    pub async fn record(&self, event: Event) {
        if self.tx.send(event).await.is_err() {
            tracing::error!("the mail log writer has stopped; a mail event is lost");
        }
    }
}

/// The fields every mail event carries.
#[derive(Debug, Clone, Default)]
pub struct MailFacts<'a> {
    pub tenant: Option<&'a str>,
    pub client_ip: Option<IpAddr>,
    pub helo: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Vec<String>,
    pub message_id: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub queue_id: Option<&'a str>,
    pub spf: Option<&'a str>,
    /// DKIM results, one per signature.
    pub dkim: Vec<&'static str>,
    /// DMARC result and the author domain's policy.
    pub dmarc: Option<(&'static str, &'static str)>,
    pub direction: Option<&'a str>,
    pub tls: bool,
    /// What the content checks decided (`deliver`, `tag`, `quarantine`, `reject`) and why.
    pub verdict: Option<&'static str>,
    pub reasons: Vec<String>,
    /// Names of the malware found.
    pub threats: Vec<String>,
    pub spam_score: Option<f64>,
}

/// Builds one event; `action` names what happened, `outcome` is `success` or `failure`.
pub fn mail_event(dataset: &str, action: &str, outcome: &str, message: String, facts: &MailFacts<'_>) -> Event {
    let now = jiff::Timestamp::now();
    let mut event = Event::new(now, dataset);
    event.stamp_ingestion(now);
    event.message = Some(message);
    let e = &mut event.event;
    e.kind = Some("event".into());
    e.category = vec!["email".into(), "network".into()];
    e.type_ = vec![if outcome == "success" { "allowed".into() } else { "denied".into() }];
    e.action = Some(action.into());
    e.outcome = Some(outcome.into());
    e.module = Some("mail".into());
    e.created = Some(now);
    event.organization.id = Some(facts.tenant.unwrap_or(UNASSIGNED).to_string());
    if let Some(ip) = facts.client_ip {
        event.source = Some(Endpoint { ip: Some(ip), domain: facts.helo.map(str::to_string), ..Default::default() });
    }
    let mut email = serde_json::Map::new();
    if let Some(f) = facts.from {
        email.insert("from".into(), json!({ "address": [f] }));
    }
    if !facts.to.is_empty() {
        email.insert("to".into(), json!({ "address": facts.to }));
    }
    if let Some(m) = facts.message_id {
        email.insert("message_id".into(), json!(m));
    }
    if let Some(s) = facts.subject {
        email.insert("subject".into(), json!(s));
    }
    if let Some(d) = facts.direction {
        email.insert("direction".into(), json!(d));
    }
    if !email.is_empty() {
        event.extra.insert("email".into(), serde_json::Value::Object(email));
    }
    let mut mail = serde_json::Map::new();
    if let Some(q) = facts.queue_id {
        mail.insert("queue_id".into(), json!(q));
    }
    if let Some(s) = facts.spf {
        mail.insert("spf".into(), json!(s));
    }
    if !facts.dkim.is_empty() {
        mail.insert("dkim".into(), json!(facts.dkim));
    }
    if let Some((result, policy)) = facts.dmarc {
        mail.insert("dmarc".into(), json!({ "result": result, "policy": policy }));
    }
    if let Some(v) = facts.verdict {
        mail.insert("verdict".into(), json!(v));
    }
    if let Some(score) = facts.spam_score {
        mail.insert("spam_score".into(), json!(score));
    }
    if !facts.reasons.is_empty() {
        mail.insert("reasons".into(), json!(facts.reasons));
    }
    mail.insert("tls".into(), json!(facts.tls));
    if !facts.threats.is_empty() {
        // ECS: the names of what was found, e.g. for a search over all mail with malware.
        event.extra.insert("threat".into(), json!({ "software": { "name": facts.threats } }));
    }
    event.extra.insert("mamori".into(), json!({ "mail": mail }));
    event
}
