//! Puts the parts of a syslog message into ECS fields.
//!
//! A line becomes a [`Content`]: every field its event will have, borrowed from the line where
//! possible. [`Content::write_json`] writes it as the event's JSON record directly, which is
//! how the receivers store syslog: building an [`Event`](mamori_core::Event) first and
//! serializing it cost more than parsing the line.

use std::borrow::Cow;
use std::io::Write as _;
use std::net::SocketAddr;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::ParseContext;
use super::pri::{self, Pri};
use super::rfc3164::{self, Mnemonic};
use super::rfc5424;
use super::timestamp::Found;

/// The parts of a message, whichever RFC it followed.
#[derive(Debug, Default)]
pub struct Parts<'a> {
    pub pri: Option<Pri>,
    pub version: Option<&'a str>,
    pub timestamp: Option<Found>,
    pub hostname: Option<&'a str>,
    pub appname: Option<&'a str>,
    pub procid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    pub structured_data: Option<Map<String, Value>>,
    pub cisco: Option<Mnemonic<'a>>,
    pub message: &'a str,
    pub notes: Vec<String>,
}

impl<'a> Parts<'a> {
    pub fn from_5424(pri: Pri, m: rfc5424::Message<'a>) -> Self {
        Parts {
            pri: Some(pri),
            version: Some(m.version),
            timestamp: m.timestamp,
            hostname: m.hostname,
            appname: m.appname,
            procid: m.procid,
            msgid: m.msgid,
            structured_data: m.structured_data,
            cisco: None,
            message: m.message,
            notes: m.notes,
        }
    }

    pub fn from_3164(pri: Option<Pri>, m: rfc3164::Message<'a>) -> Self {
        Parts {
            pri,
            timestamp: m.timestamp,
            hostname: m.hostname,
            appname: m.tag,
            procid: m.pid,
            cisco: m.cisco,
            message: m.message,
            ..Default::default()
        }
    }
}

/// Everything the event of one line holds.
#[derive(Debug)]
pub struct Content<'a> {
    pub timestamp: Timestamp,
    pub message: Option<&'a str>,
    pub tags: Vec<&'static str>,
    /// Joined with `; ` into `error.message`.
    pub errors: Vec<Cow<'a, str>>,
    /// The line as received (decoded).
    pub original: &'a str,
    pub sender: Option<SocketAddr>,
    /// The `log.syslog` object and `log.level` are written when this is set.
    pub syslog: Option<Syslog<'a>>,
    pub hostname: Option<&'a str>,
    pub process_name: Option<&'a str>,
    pub process_pid: Option<u64>,
    pub cisco: Option<Mnemonic<'a>>,
    pub original_base64: Option<String>,
}

/// `log.syslog.*` and `log.level`.
#[derive(Debug, Default)]
pub struct Syslog<'a> {
    pub pri: Option<Pri>,
    pub level: Option<&'static str>,
    pub hostname: Option<&'a str>,
    pub appname: Option<&'a str>,
    pub procid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    pub version: Option<&'a str>,
    pub structured_data: Option<Map<String, Value>>,
}

/// How a record is stamped when a receiver admits it.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    /// `organization.id`.
    pub tenant: &'a str,
    /// When mamori received it (`event.ingested`), already formatted.
    pub ingested: &'a str,
}

impl<'a> Content<'a> {
    /// What every syslog line starts as: the receive time, the original line and the sender.
    /// Parsing fills in the rest.
    pub fn new(ctx: &ParseContext, original: &'a str) -> Self {
        Content {
            timestamp: ctx.received,
            message: None,
            tags: Vec::new(),
            errors: Vec::new(),
            original,
            sender: ctx.sender,
            syslog: None,
            hostname: None,
            process_name: None,
            process_pid: None,
            cisco: None,
            original_base64: None,
        }
    }

    pub fn add_tag(&mut self, tag: &'static str) {
        if !self.tags.contains(&tag) {
            self.tags.push(tag);
        }
    }

    pub fn add_error(&mut self, message: impl Into<Cow<'a, str>>) {
        self.errors.push(message.into());
    }

    /// Fills the fields from `parts`.
    pub fn apply(&mut self, parts: Parts<'a>, received: Timestamp) {
        self.timestamp = match parts.timestamp {
            Some(Ok(ts)) => ts,
            Some(Err(why)) => {
                self.add_error(format!("timestamp not understood ({why}); @timestamp is the time received"));
                received
            }
            None => {
                self.add_error("no timestamp in the message; @timestamp is the time received");
                received
            }
        };
        for note in parts.notes {
            self.add_error(note);
        }
        self.message = Some(parts.message);
        self.hostname = parts.hostname;
        self.process_name = parts.appname;
        self.process_pid = parts.procid.and_then(|p| p.parse::<u64>().ok());
        let level = parts.pri.map(|p| p.severity_name());
        let cisco_level = parts.cisco.map(|m| pri::severity_name(m.severity));
        self.cisco = parts.cisco;
        self.syslog = Some(Syslog {
            pri: parts.pri,
            level: level.or(cisco_level),
            hostname: parts.hostname,
            appname: parts.appname,
            procid: parts.procid,
            msgid: parts.msgid,
            version: parts.version,
            structured_data: parts.structured_data,
        });
    }

    /// Only the PRI: for lines whose PRI was valid but the rest could not be parsed.
    pub fn apply_pri_only(&mut self, pri: Pri) {
        self.syslog = Some(Syslog { pri: Some(pri), level: Some(pri.severity_name()), ..Default::default() });
    }

    /// Writes the event's JSON object, with the fields of `Event`'s serialization in its order
    /// (so that decoding and encoding it again gives the same bytes).
    pub fn write_json(&self, admission: Option<&Admission<'_>>, out: &mut Vec<u8>) {
        let mut w = Json(out);
        w.raw(b"{\"@timestamp\":\"");
        let _ = write!(w.0, "{}", self.timestamp);
        w.raw(b"\"");
        if let Some(message) = self.message {
            w.key("message");
            w.str(message);
        }
        let unassigned = admission.is_some_and(|a| a.tenant == mamori_core::event::UNASSIGNED);
        if !self.tags.is_empty() || unassigned {
            w.key("tags");
            w.raw(b"[");
            let extra = unassigned.then_some(crate::tags::UNASSIGNED_SENDER);
            let tags = self.tags.iter().copied().chain(extra.filter(|t| !self.tags.contains(t)));
            for (i, tag) in tags.enumerate() {
                if i > 0 {
                    w.raw(b",");
                }
                w.str(tag);
            }
            w.raw(b"]");
        }

        w.key("event");
        w.raw(b"{");
        if admission.is_some() {
            w.raw(b"\"id\":\"");
            w.raw(&mamori_core::event::next_event_id());
            w.raw(b"\",");
        }
        w.raw(b"\"kind\":\"event\",\"dataset\":\"syslog\"");
        if let Some(m) = self.cisco {
            w.key("severity");
            w.int(u64::from(m.severity));
        }
        w.key("original");
        w.str(self.original);
        if let Some(a) = admission {
            w.key("ingested");
            w.str(a.ingested);
        }
        if let Some(m) = self.cisco {
            w.key("code");
            w.str(m.mnemonic);
            w.key("provider");
            w.str(m.facility);
        }
        w.raw(b"}");

        w.key("organization");
        match admission {
            Some(a) => {
                w.raw(b"{\"id\":");
                w.str(a.tenant);
                w.raw(b"}");
            }
            None => w.raw(b"{}"),
        }
        if let Some(hostname) = self.hostname {
            w.raw(b",\"host\":{\"hostname\":");
            w.str(hostname);
            w.raw(b"}");
        }
        self.write_log(&mut w);
        if !self.errors.is_empty() {
            w.raw(b",\"error\":{\"message\":");
            w.str(&self.errors.join("; "));
            w.raw(b"}");
        }
        if let Some(encoded) = &self.original_base64 {
            w.raw(b",\"mamori\":{\"original_base64\":");
            w.str(encoded);
            w.raw(b"}");
        }
        if self.process_name.is_some() || self.process_pid.is_some() {
            w.raw(b",\"process\":{");
            if let Some(name) = self.process_name {
                w.raw(b"\"name\":");
                w.str(name);
            }
            if let Some(pid) = self.process_pid {
                w.raw(if self.process_name.is_some() { b",\"pid\":" } else { b"\"pid\":" });
                w.int(pid);
            }
            w.raw(b"}");
        }
        w.raw(b"}");
    }

    /// `log`: level, `syslog` and the sender's address.
    fn write_log(&self, w: &mut Json<'_>) {
        if self.syslog.is_none() && self.sender.is_none() {
            return;
        }
        w.raw(b",\"log\":{");
        let mut first = true;
        if let Some(s) = &self.syslog {
            if let Some(level) = s.level {
                w.raw(b"\"level\":");
                w.str(level);
                first = false;
            }
            if !s.is_empty() {
                first = w.next(first);
                w.raw(b"\"syslog\":");
                s.write_json(w);
            }
        }
        if let Some(sender) = self.sender {
            w.next(first);
            w.raw(b"\"source\":{\"address\":\"");
            let _ = if sender.port() == 0 { write!(w.0, "{}", sender.ip()) } else { write!(w.0, "{sender}") };
            w.raw(b"\"}");
        }
        w.raw(b"}");
    }
}

impl Syslog<'_> {
    /// Whether the `log.syslog` object would be empty.
    fn is_empty(&self) -> bool {
        self.pri.is_none()
            && [self.hostname, self.appname, self.procid, self.msgid, self.version].iter().all(Option::is_none)
            && self.structured_data.is_none()
    }

    fn write_json(&self, w: &mut Json<'_>) {
        w.raw(b"{");
        let mut first = true;
        if let Some(pri) = self.pri {
            w.raw(b"\"priority\":");
            w.int(u64::from(pri.value()));
            w.raw(b",\"facility\":{\"code\":");
            w.int(u64::from(pri.facility));
            w.raw(b",\"name\":");
            w.str(pri.facility_name());
            w.raw(b"},\"severity\":{\"code\":");
            w.int(u64::from(pri.severity));
            w.raw(b",\"name\":");
            w.str(pri.severity_name());
            w.raw(b"}");
            first = false;
        }
        let strings = [
            ("hostname", self.hostname),
            ("appname", self.appname),
            ("procid", self.procid),
            ("msgid", self.msgid),
            ("version", self.version),
        ];
        for (key, value) in strings {
            if let Some(v) = value {
                first = w.next(first);
                w.str(key);
                w.raw(b":");
                w.str(v);
            }
        }
        if let Some(sd) = &self.structured_data {
            w.next(first);
            w.raw(b"\"structured_data\":");
            serde_json::to_writer(&mut *w.0, sd).expect("a JSON map always serializes");
        }
        w.raw(b"}");
    }
}

/// A JSON writer over a byte buffer.
struct Json<'o>(&'o mut Vec<u8>);

impl Json<'_> {
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// A string, escaped as serde_json escapes it.
    fn str(&mut self, s: &str) {
        mamori_core::json_text::write_str(self.0, s);
    }

    fn int(&mut self, v: u64) {
        self.0.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// `,"key":` after earlier members of the object.
    fn key(&mut self, key: &str) {
        self.raw(b",");
        self.str(key);
        self.raw(b":");
    }

    /// A comma unless this is the first member; returns `false` (no longer first).
    fn next(&mut self, first: bool) -> bool {
        if !first {
            self.raw(b",");
        }
        false
    }
}
