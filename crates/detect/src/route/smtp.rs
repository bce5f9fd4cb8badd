//! E-mail channel: one message per alert through a configured SMTP server (plain SMTP, meant
//! for a relay on the same host or network such as mamori's own; AUTH PLAIN when a user is
//! configured). The body is a summary and the alert event as JSON.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mamori_core::config::detect::AlertChannel;
use serde_json::Value;

pub struct Smtp {
    server: String,
    from: String,
    to: Vec<String>,
    auth: Option<(String, String)>,
}

impl Smtp {
    pub fn new(c: &AlertChannel) -> Smtp {
        Smtp {
            server: c.server.clone().unwrap_or_default(),
            from: c.from.clone().unwrap_or_default(),
            to: c.to.clone(),
            auth: c.username.clone().map(|u| (u, c.password.clone().unwrap_or_default())),
        }
    }
}

struct Session {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Session {
    /// Reads a (multi-line) reply; an error unless its code starts with `want`.
    fn expect(&mut self, want: char, step: &str) -> Result<(), String> {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.reader.read_line(&mut line).map_err(|e| format!("SMTP {step}: {e}"))?;
            if n == 0 {
                return Err(format!("SMTP {step}: the server closed the connection"));
            }
            // `250-...` continues, `250 ...` ends.
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        if line.starts_with(want) {
            Ok(())
        } else {
            Err(format!("SMTP {step}: the server answered {}", line.trim_end()))
        }
    }

    fn send(&mut self, text: &str, want: char, step: &str) -> Result<(), String> {
        self.writer.write_all(text.as_bytes()).map_err(|e| format!("SMTP {step}: {e}"))?;
        self.expect(want, step)
    }
}

/// An RFC 2047 encoded word when the text is not plain ASCII (rule titles may be Japanese).
fn header_text(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.is_ascii() { clean } else { format!("=?UTF-8?B?{}?=", B64.encode(clean.as_bytes())) }
}

/// The message, CRLF line ends, dots stuffed.
pub fn message(from: &str, to: &[String], alert: &Value) -> String {
    let summary = super::summary(alert);
    let pretty = serde_json::to_string_pretty(alert).unwrap_or_default();
    let now = jiff::Timestamp::now();
    let date = jiff::fmt::rfc2822::to_string(&now.to_zoned(jiff::tz::TimeZone::UTC)).unwrap_or_default();
    let id = format!("<{}.{}@mamori>", now.as_nanosecond(), std::process::id());
    let mut text = format!(
        "From: {from}\r\nTo: {}\r\nSubject: {}\r\nDate: {date}\r\nMessage-ID: {id}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
        to.join(", "),
        header_text(&summary)
    );
    for line in
        format!("{summary}\n\n{}\n\n{pretty}\n", alert.pointer("/message").and_then(Value::as_str).unwrap_or(""))
            .lines()
    {
        if line.starts_with('.') {
            text.push('.');
        }
        text.push_str(line);
        text.push_str("\r\n");
    }
    text
}

impl super::Deliver for Smtp {
    fn deliver(&mut self, alert: &Value) -> Result<(), String> {
        let addr = self
            .server
            .to_socket_addrs()
            .map_err(|e| format!("SMTP server address: {}", e.kind()))?
            .next()
            .ok_or("the SMTP server address resolves to nothing")?;
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| format!("SMTP: {e}"))?;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
        let writer = stream.try_clone().map_err(|e| format!("SMTP: {e}"))?;
        let mut s = Session { reader: BufReader::new(stream), writer };
        s.expect('2', "greeting")?;
        s.send("EHLO mamori\r\n", '2', "EHLO")?;
        if let Some((user, password)) = &self.auth {
            let token = B64.encode(format!("\0{user}\0{password}"));
            // The step name only: the reply or error never carries the password.
            s.send(&format!("AUTH PLAIN {token}\r\n"), '2', "AUTH")?;
        }
        s.send(&format!("MAIL FROM:<{}>\r\n", self.from), '2', "MAIL FROM")?;
        for rcpt in &self.to {
            s.send(&format!("RCPT TO:<{rcpt}>\r\n"), '2', "RCPT TO")?;
        }
        s.send("DATA\r\n", '3', "DATA")?;
        s.send(&format!("{}.\r\n", message(&self.from, &self.to, alert)), '2', "message")?;
        let _ = s.writer.write_all(b"QUIT\r\n");
        Ok(())
    }
}
