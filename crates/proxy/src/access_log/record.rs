//! One `proxy.access` record, written field by field in the order serde writes an `Event`
//! (typed fields first, then the other objects by name), with the fields and values the
//! `Event` form had (`tests.rs` keeps that form and compares the two).

use jiff::Timestamp;

use super::AccessRecord;
use mamori_core::json_text::JsonBuf;
use mamori_core::time_text::write_timestamp;

/// Appends the JSON record of `r`'s event, stamped `now` (its time, creation and ingestion:
/// the proxy is the receiver, so the log store takes the record as it is), to `out`.
pub fn write_access_event(r: &AccessRecord<'_>, now: Timestamp, out: &mut Vec<u8>) {
    let mut w = JsonBuf(out);
    w.raw(b"{\"@timestamp\":\"");
    // Written once, copied for `event.ingested` and `event.created`.
    let start = w.0.len();
    write_timestamp(now, w.0);
    let time = start..w.0.len();
    w.raw(b"\",\"message\":\"");
    w.str_part(r.method);
    w.raw(b" ");
    w.str_part(r.url);
    w.raw(b" ");
    w.uint(u64::from(r.status));
    w.raw(b" ");
    w.str_part(r.action);
    w.raw(b"\",\"event\":{\"id\":\"");
    w.raw(&mamori_core::event::next_event_id());
    w.raw(b"\",\"kind\":\"event\",\"category\":[\"web\",\"network\"],\"type\":[");
    w.raw(if r.action == "blocked" { b"\"denied\"]" } else { b"\"access\"]" });
    w.next_key("action");
    w.str(r.action);
    w.next_key("outcome");
    w.raw(if r.action == "allowed" { b"\"success\"" } else { b"\"failure\"" });
    w.raw(b",\"dataset\":\"proxy.access\",\"module\":\"proxy\",\"ingested\":\"");
    w.0.extend_from_within(time.clone());
    w.raw(b"\",\"created\":\"");
    w.0.extend_from_within(time);
    w.raw(b"\",\"duration\":");
    w.uint(r.duration.as_nanos() as u64);
    w.next_key("reference");
    w.str(r.request_id);
    w.raw(b"},\"organization\":{\"id\":");
    w.str(r.client.tenant.as_deref().unwrap_or(mamori_core::event::UNASSIGNED));
    w.raw(b"},\"source\":{\"ip\":");
    w.ip(r.client.terminal);
    w.raw(b"}");
    if let Some(message) = r.error {
        w.raw(b",\"error\":{\"message\":");
        w.str(message);
        w.raw(b"}");
    }
    if r.client.peer != r.client.terminal {
        w.raw(b",\"client\":{\"ip\":");
        w.ip(r.client.peer);
        w.raw(b"}");
    }
    w.raw(b",\"http\":{\"request\":{\"method\":");
    w.str(r.method);
    w.raw(b"},\"response\":{\"status_code\":");
    w.uint(u64::from(r.status));
    w.raw(b"}}");
    if !r.categories.is_empty() || r.scan.is_some() {
        w.raw(b",\"mamori\":{");
        if let Some(scan) = r.scan {
            w.raw(b"\"scan\":");
            w.str(scan);
            if !r.categories.is_empty() {
                w.raw(b",");
            }
        }
        if !r.categories.is_empty() {
            w.raw(b"\"url_categories\":[");
            for (i, c) in r.categories.iter().enumerate() {
                if i > 0 {
                    w.raw(b",");
                }
                w.str(c);
            }
            w.raw(b"]");
        }
        w.raw(b"}");
    }
    if let Some((name, kind)) = r.rule {
        w.raw(b",\"rule\":{\"category\":");
        w.str(kind);
        w.next_key("name");
        w.str(name);
        w.raw(b"}");
    }
    w.raw(b",\"url\":{\"domain\":");
    w.str(r.host);
    w.next_key("full");
    w.str(r.url);
    w.raw(b"}");
    if let Some(user) = r.client.user.as_deref() {
        w.raw(b",\"user\":{\"name\":");
        w.str(user);
        w.raw(b"}");
    }
    w.raw(b"}");
}
