//! Webhook channel: the alert event as a JSON POST, with `Authorization: Bearer TOKEN` when a
//! token is configured.

use std::time::Duration;

use mamori_core::config::detect::AlertChannel;
use serde_json::Value;

pub struct Webhook {
    url: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Webhook {
    pub fn new(c: &AlertChannel) -> Webhook {
        let agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
        Webhook { url: c.url.clone().unwrap_or_default(), token: c.token.clone(), agent }
    }
}

impl super::Deliver for Webhook {
    fn deliver(&mut self, alert: &Value) -> Result<(), String> {
        let body = serde_json::to_vec(alert).map_err(|e| e.to_string())?;
        let mut req = self.agent.post(&self.url).header("Content-Type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        match req.send(&body[..]) {
            Ok(_) => Ok(()),
            // The status or the kind of failure, never the request (its header holds the token).
            Err(ureq::Error::StatusCode(code)) => Err(format!("the webhook answered {code}")),
            Err(e) => Err(format!("webhook request failed: {}", describe(&e))),
        }
    }
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io.kind().to_string(),
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        _ => "error".into(),
    }
}
