//! E-mail channel: one message per alert through a configured SMTP server, with STARTTLS
//! (RFC 3207: required and verified, opportunistic, or off) and AUTH PLAIN when a user is
//! configured. The body is a summary and the alert event as JSON.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mamori_core::config::detect::AlertChannel;
use rustls::pki_types::ServerName;
use serde_json::Value;

/// How the channel uses TLS (`tls` of the channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    Required,
    Opportunistic,
    Off,
}

pub struct Smtp {
    server: String,
    from: String,
    to: Vec<String>,
    auth: Option<(String, String)>,
    mode: TlsMode,
    /// The client configuration: verifying (`starttls`) or not (`opportunistic`, `none`).
    tls: Arc<rustls::ClientConfig>,
}

impl Smtp {
    /// Fails when `tls = "starttls"` and the CA certificates cannot be loaded.
    pub fn new(c: &AlertChannel) -> Result<Smtp, String> {
        let mode = match c.tls.as_deref() {
            Some("starttls") => TlsMode::Required,
            Some("none") => TlsMode::Off,
            _ => TlsMode::Opportunistic,
        };
        let tls = match mode {
            TlsMode::Required => {
                mamori_core::tls_client::verified(c.ca_file.as_deref()).map_err(|e| format!("SMTP ca_file: {e}"))?
            }
            _ => mamori_core::tls_client::opportunistic(),
        };
        Ok(Smtp {
            server: c.server.clone().unwrap_or_default(),
            from: c.from.clone().unwrap_or_default(),
            to: c.to.clone(),
            auth: c.username.clone().map(|u| (u, c.password.clone().unwrap_or_default())),
            mode,
            tls,
        })
    }
}

/// The connection, before and after STARTTLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

struct Session {
    io: BufReader<Stream>,
}

impl Session {
    /// Reads a (multi-line) reply and returns its lines; an error unless its code starts with
    /// `want`.
    fn expect(&mut self, want: char, step: &str) -> Result<Vec<String>, String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.io.read_line(&mut line).map_err(|e| format!("SMTP {step}: {e}"))?;
            if n == 0 {
                return Err(format!("SMTP {step}: the server closed the connection"));
            }
            // `250-...` continues, `250 ...` ends.
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line.trim_end().to_string());
            if !more || lines.len() > 100 {
                break;
            }
        }
        let last = lines.last().map(String::as_str).unwrap_or("");
        if last.starts_with(want) { Ok(lines) } else { Err(format!("SMTP {step}: the server answered {last}")) }
    }

    fn send(&mut self, text: &str, want: char, step: &str) -> Result<Vec<String>, String> {
        let w = self.io.get_mut();
        w.write_all(text.as_bytes()).and_then(|()| w.flush()).map_err(|e| format!("SMTP {step}: {e}"))?;
        self.expect(want, step)
    }
}

/// Whether an EHLO reply lists `keyword` (RFC 5321 §4.1.1.1: one extension per line).
fn offers(ehlo: &[String], keyword: &str) -> bool {
    ehlo.iter()
        .skip(1)
        .any(|l| l.get(4..).and_then(|k| k.split_whitespace().next()).is_some_and(|k| k.eq_ignore_ascii_case(keyword)))
}

/// The name the certificate must carry: the host part of `host:port`.
fn server_name(server: &str) -> Result<ServerName<'static>, String> {
    let host = match server.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => h,
        _ => server,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string()).map_err(|e| format!("SMTP server name {host}: {e}"))
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
        let mut s = Session { io: BufReader::new(Stream::Plain(stream)) };
        s.expect('2', "greeting")?;
        let ehlo = s.send("EHLO mamori\r\n", '2', "EHLO")?;
        let mut verified = false;
        let use_tls = match self.mode {
            TlsMode::Off => false,
            TlsMode::Opportunistic => offers(&ehlo, "STARTTLS"),
            TlsMode::Required if offers(&ehlo, "STARTTLS") => true,
            TlsMode::Required => return Err("SMTP: the server does not offer STARTTLS (tls = \"starttls\")".into()),
        };
        if use_tls {
            let config = self.tls.clone();
            s.send("STARTTLS\r\n", '2', "STARTTLS")?;
            // Anything the server sent before the handshake could be an injection (RFC 3207 §6).
            if !s.io.buffer().is_empty() {
                return Err("SMTP STARTTLS: the server sent data before the TLS handshake".into());
            }
            let Stream::Plain(tcp) = s.io.into_inner() else { return Err("SMTP: STARTTLS twice".into()) };
            let conn = rustls::ClientConnection::new(config, server_name(&self.server)?)
                .map_err(|e| format!("SMTP TLS: {e}"))?;
            s = Session { io: BufReader::new(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)))) };
            // RFC 3207 §4.2: forget what was learnt before TLS; ask again.
            s.send("EHLO mamori\r\n", '2', "EHLO after STARTTLS")?;
            verified = self.mode == TlsMode::Required;
        }
        if let Some((user, password)) = &self.auth {
            if !verified && self.mode != TlsMode::Off {
                return Err("SMTP AUTH: a password goes only over verified TLS (tls = \"starttls\")".into());
            }
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
        let _ = s.io.get_mut().write_all(b"QUIT\r\n");
        Ok(())
    }
}
