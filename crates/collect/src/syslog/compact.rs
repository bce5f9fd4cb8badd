//! A syslog line's event as a compact record (see `mamori_core::compact`): the same fields in
//! the same order as [`Content::write_json`], the line stored once with `message`, the host and
//! the program as slices of it. This is what the receivers hand to the log store.

use mamori_core::compact::{CompactWriter, Known};
use mamori_core::json_text;

use super::ecs::{Admission, Content};

const TIMESTAMP: Known = Known::new("@timestamp");
const MESSAGE: Known = Known::new("message");
const TAGS: Known = Known::new("tags");
const EVENT_ID: Known = Known::new("event.id");
const EVENT_KIND: Known = Known::new("event.kind");
const EVENT_DATASET: Known = Known::new("event.dataset");
const EVENT_SEVERITY: Known = Known::new("event.severity");
const EVENT_ORIGINAL: Known = Known::new("event.original");
const EVENT_INGESTED: Known = Known::new("event.ingested");
const EVENT_CODE: Known = Known::new("event.code");
const EVENT_PROVIDER: Known = Known::new("event.provider");
const ORGANIZATION: Known = Known::new("organization");
const ORGANIZATION_ID: Known = Known::new("organization.id");
const HOST_HOSTNAME: Known = Known::new("host.hostname");
const LOG: Known = Known::new("log");
const LOG_LEVEL: Known = Known::new("log.level");
const PRIORITY: Known = Known::new("log.syslog.priority");
const FACILITY_CODE: Known = Known::new("log.syslog.facility.code");
const FACILITY_NAME: Known = Known::new("log.syslog.facility.name");
const SEVERITY_CODE: Known = Known::new("log.syslog.severity.code");
const SEVERITY_NAME: Known = Known::new("log.syslog.severity.name");
const SYSLOG_HOSTNAME: Known = Known::new("log.syslog.hostname");
const SYSLOG_APPNAME: Known = Known::new("log.syslog.appname");
const SYSLOG_PROCID: Known = Known::new("log.syslog.procid");
const SYSLOG_MSGID: Known = Known::new("log.syslog.msgid");
const SYSLOG_VERSION: Known = Known::new("log.syslog.version");
const SOURCE_ADDRESS: Known = Known::new("log.source.address");
const ERROR_MESSAGE: Known = Known::new("error.message");
const ORIGINAL_BASE64: Known = Known::new("mamori.original_base64");
const PROCESS_NAME: Known = Known::new("process.name");
const PROCESS_PID: Known = Known::new("process.pid");

impl Content<'_> {
    /// Writes the event as a compact record. Structured data (RFC 5424 `[id k="v"]`, keys of
    /// any form) is not expressible as known paths, so such an event is written as JSON.
    pub fn write_compact(&self, admission: Option<&Admission<'_>>, out: &mut Vec<u8>) {
        if self.syslog.as_ref().is_some_and(|s| s.structured_data.is_some()) {
            return self.write_json(admission, out);
        }
        let mut w = CompactWriter::new(out);
        w.blob(self.original);
        w.timestamp(TIMESTAMP, self.timestamp);
        if let Some(message) = self.message {
            w.str(MESSAGE, message);
        }
        let unassigned = admission.is_some_and(|a| a.tenant == mamori_core::event::UNASSIGNED);
        for tag in &self.tags {
            w.array_str(TAGS, tag);
        }
        if unassigned && !self.tags.contains(&crate::tags::UNASSIGNED_SENDER) {
            w.array_str(TAGS, crate::tags::UNASSIGNED_SENDER);
        }

        if admission.is_some() {
            let id = mamori_core::event::next_event_id();
            w.str(EVENT_ID, std::str::from_utf8(&id).expect("hex digits"));
        }
        w.str(EVENT_KIND, "event");
        w.str(EVENT_DATASET, "syslog");
        if let Some(m) = self.cisco {
            w.uint(EVENT_SEVERITY, u64::from(m.severity));
        }
        w.str(EVENT_ORIGINAL, self.original);
        if let Some(a) = admission {
            w.str(EVENT_INGESTED, a.ingested);
        }
        if let Some(m) = self.cisco {
            w.str(EVENT_CODE, m.mnemonic);
            w.str(EVENT_PROVIDER, m.facility);
        }
        match admission {
            Some(a) => w.str(ORGANIZATION_ID, a.tenant),
            None => w.empty_object(ORGANIZATION),
        }
        if let Some(hostname) = self.hostname {
            w.str(HOST_HOSTNAME, hostname);
        }
        self.write_log_compact(&mut w);
        if !self.errors.is_empty() {
            w.str(ERROR_MESSAGE, &self.errors.join("; "));
        }
        if let Some(encoded) = &self.original_base64 {
            w.str(ORIGINAL_BASE64, encoded);
        }
        if let Some(name) = self.process_name {
            w.str(PROCESS_NAME, name);
        }
        if let Some(pid) = self.process_pid {
            w.uint(PROCESS_PID, pid);
        }
    }

    /// `log`: level, `syslog` and the sender's address, as `write_log` writes them.
    fn write_log_compact(&self, w: &mut CompactWriter<'_>) {
        if self.syslog.is_none() && self.sender.is_none() {
            return;
        }
        let mut written = false;
        if let Some(s) = &self.syslog {
            if let Some(level) = s.level {
                w.str(LOG_LEVEL, level);
                written = true;
            }
            if let Some(pri) = s.pri {
                w.uint(PRIORITY, u64::from(pri.value()));
                w.uint(FACILITY_CODE, u64::from(pri.facility));
                w.str(FACILITY_NAME, pri.facility_name());
                w.uint(SEVERITY_CODE, u64::from(pri.severity));
                w.str(SEVERITY_NAME, pri.severity_name());
                written = true;
            }
            let strings = [
                (SYSLOG_HOSTNAME, s.hostname),
                (SYSLOG_APPNAME, s.appname),
                (SYSLOG_PROCID, s.procid),
                (SYSLOG_MSGID, s.msgid),
                (SYSLOG_VERSION, s.version),
            ];
            for (path, value) in strings {
                if let Some(v) = value {
                    w.str(path, v);
                    written = true;
                }
            }
        }
        match self.sender {
            Some(sender) if sender.port() == 0 => {
                w.str_with(SOURCE_ADDRESS, |out| json_text::write_ip(out, sender.ip()))
            }
            Some(sender) => w.str_with(SOURCE_ADDRESS, |out| json_text::write_socket_addr(out, sender)),
            None if !written => w.empty_object(LOG),
            None => {}
        }
    }
}
