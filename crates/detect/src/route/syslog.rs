//! Syslog channel: RFC 5424 messages over UDP (one datagram each) or TCP (octet-counted frames,
//! RFC 6587), the alert event as JSON in the message with a structured-data summary.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use mamori_core::config::detect::AlertChannel;
use mamori_core::config::monitor::AlertLevel;
use serde_json::Value;

/// Facility local4 (20): alerts for the SOC's collector, apart from system logs.
const FACILITY: u8 = 20;
/// IANA private enterprise number for documentation (RFC 5612).
const SD_ID: &str = "mamori@32473";
/// Longest UDP datagram sent; longer messages are cut (the alert is whole in the store).
const MAX_UDP: usize = 60_000;

pub struct Syslog {
    server: String,
    tcp: bool,
    stream: Option<TcpStream>,
    hostname: String,
}

impl Syslog {
    pub fn new(c: &AlertChannel) -> Syslog {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty() && h.is_ascii() && !h.contains(' '))
            .unwrap_or_else(|| "-".into());
        Syslog {
            server: c.server.clone().unwrap_or_default(),
            tcp: c.protocol.as_deref() == Some("tcp"),
            stream: None,
            hostname,
        }
    }
}

/// RFC 5424 severity of an alert level.
fn severity(level: AlertLevel) -> u8 {
    match level {
        AlertLevel::Critical => 2,
        AlertLevel::High => 3,
        AlertLevel::Medium => 4,
        AlertLevel::Low => 5,
        AlertLevel::Informational => 6,
    }
}

/// `"`, `\` and `]` are escaped in structured-data values.
fn sd_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace(']', "\\]")
}

pub fn format(alert: &Value, hostname: &str) -> String {
    let level = super::alert_level(alert);
    let get = |p: &str| alert.pointer(p).and_then(Value::as_str).unwrap_or("");
    let pri = FACILITY * 8 + severity(level);
    let time = jiff::Timestamp::now();
    format!(
        "<{pri}>1 {time} {hostname} mamori - alert [{SD_ID} rule_id=\"{}\" rule=\"{}\" tenant=\"{}\" level=\"{}\" host=\"{}\"] {}",
        sd_escape(get("/rule/id")),
        sd_escape(get("/rule/name")),
        sd_escape(get("/organization/id")),
        level.as_str(),
        sd_escape(get("/host/name")),
        alert
    )
}

impl super::Deliver for Syslog {
    fn deliver(&mut self, alert: &Value) -> Result<(), String> {
        let msg = format(alert, &self.hostname);
        let addr = self
            .server
            .to_socket_addrs()
            .map_err(|e| format!("syslog server address: {}", e.kind()))?
            .next()
            .ok_or("the syslog server address resolves to nothing")?;
        if !self.tcp {
            let bind = if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
            let sock = UdpSocket::bind(bind).map_err(|e| e.to_string())?;
            let bytes = msg.as_bytes();
            sock.send_to(&bytes[..bytes.len().min(MAX_UDP)], addr).map_err(|e| format!("syslog UDP: {e}"))?;
            return Ok(());
        }
        if self.stream.is_none() {
            let s =
                TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| format!("syslog TCP: {e}"))?;
            let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
            self.stream = Some(s);
        }
        let frame = format!("{} {msg}", msg.len());
        let sent = self.stream.as_mut().map(|s| s.write_all(frame.as_bytes()).and_then(|_| s.flush()));
        match sent {
            Some(Ok(())) => Ok(()),
            other => {
                // Reconnect on the next attempt.
                self.stream = None;
                Err(format!("syslog TCP: {}", other.and_then(Result::err).map(|e| e.to_string()).unwrap_or_default()))
            }
        }
    }
}
