//! One `dns.query` record, written field by field in the order serde writes an `Event`
//! (typed fields first, then the other objects by name).

use std::net::SocketAddr;

use jiff::Timestamp;

use super::answers::LoggedAnswers;
use crate::rpz::{Action, Hit};
use mamori_core::json_text::JsonBuf;
use mamori_core::time_text::write_timestamp;

/// What the handler learnt about one query, for its log event and alerts.
pub struct QueryRecord<'a> {
    pub client: SocketAddr,
    pub transport: &'static str,
    pub tenant: Option<&'a str>,
    pub id: u16,
    pub qname: &'a str,
    /// The type and class by their names in hickory's tables (plain ASCII, so the record
    /// writes them without an escape check).
    pub qtype: &'static str,
    pub qclass: &'static str,
    pub rcode: &'a str,
    /// `authoritative`, `recursive`, `transfer`, `refused`, `malformed`.
    pub kind: &'static str,
    pub flags: HeaderFlags,
    pub rpz: Option<&'a Hit>,
    pub from_cache: bool,
    /// Queries the resolver sent upstream for this answer.
    pub upstream_queries: usize,
    pub duration_ns: u64,
    /// Why the query was refused or failed, when it was.
    pub reason: Option<&'a str>,
}

/// The header flags the log lists (`dns.header_flags`), in this order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderFlags {
    pub recursion_desired: bool,
    pub authoritative: bool,
    pub recursion_available: bool,
    pub truncated: bool,
}

impl HeaderFlags {
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        [
            (self.recursion_desired, "RD"),
            (self.authoritative, "AA"),
            (self.recursion_available, "RA"),
            (self.truncated, "TC"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
    }
}

impl QueryRecord<'_> {
    /// Blocked by a policy zone (any action but PASSTHRU).
    fn blocked(&self) -> bool {
        self.rpz.is_some_and(|h| h.action.as_ref().is_some_and(|a| !matches!(a, Action::Passthru)))
    }

    fn refused(&self) -> bool {
        self.rcode == "REFUSED" || self.kind == "malformed"
    }
}

/// A record's length apart from its answers and names, with some to spare.
const RECORD_ROOM: usize = 768;

/// Appends the JSON record of `q`'s event, answered with `answers`, stamped `now`, to `out`.
pub fn write_query_event(q: &QueryRecord<'_>, answers: LoggedAnswers<'_>, now: Timestamp, out: &mut Vec<u8>) {
    // One reservation for the whole record (answers and names aside, about 600 bytes), so the
    // writes below only check it.
    out.reserve(RECORD_ROOM + answers.answers.len() + answers.resolved_ip.map_or(0, <[u8]>::len) + 2 * q.qname.len());
    let mut w = JsonBuf(out);
    let (blocked, refused) = (q.blocked(), q.refused());
    w.raw(b"{\"@timestamp\":\"");
    // Written once, copied for `event.ingested` and `event.created`.
    let start = w.0.len();
    write_timestamp(now, w.0);
    let time = start..w.0.len();
    w.raw(b"\",\"event\":{\"id\":\"");
    w.raw(&mamori_core::event::next_event_id_at(now));
    w.raw(b"\",\"kind\":\"event\",\"category\":[\"network\"],\"type\":[\"protocol\",");
    w.raw(if refused || blocked { b"\"denied\"]" } else { b"\"allowed\"]" });
    w.next_key("action");
    w.raw(match (blocked, refused) {
        (true, _) => b"\"blocked\"",
        (false, true) => b"\"refused\"",
        (false, false) => b"\"answered\"",
    });
    w.next_key("outcome");
    w.raw(if q.rcode == "SERVFAIL" || refused { b"\"failure\"" } else { b"\"success\"" });
    w.raw(b",\"dataset\":\"dns.query\",\"module\":\"dns\",\"ingested\":\"");
    w.0.extend_from_within(time.clone());
    w.raw(b"\",\"created\":\"");
    w.0.extend_from_within(time);
    w.raw(b"\",\"duration\":");
    w.uint(q.duration_ns);
    if let Some(reason) = q.reason {
        w.next_key("reason");
        w.str(reason);
    }
    w.raw(b"},\"organization\":{\"id\":");
    w.str(q.tenant.unwrap_or(mamori_core::event::UNASSIGNED));
    w.raw(b"},\"source\":{\"ip\":");
    w.ip(crate::server::unmap(q.client.ip()));
    w.next_key("port");
    w.uint(u64::from(q.client.port()));
    w.raw(b"},");
    write_dns(&mut w, q, answers);
    w.raw(b",");
    write_mamori(&mut w, q);
    w.raw(b",\"network\":{\"protocol\":\"dns\",\"transport\":");
    w.plain(q.transport);
    w.raw(b"}");
    if let Some(hit) = q.rpz {
        w.raw(b",\"rule\":{\"category\":\"rpz\",\"id\":");
        w.str(&hit.rule.owner.to_ascii());
        w.next_key("ruleset");
        w.str(&hit.zone.to_ascii());
        w.raw(b"}");
    }
    w.raw(b"}");
}

/// `"dns":{...}`
fn write_dns(w: &mut JsonBuf<'_>, q: &QueryRecord<'_>, answers: LoggedAnswers<'_>) {
    w.raw(b"\"dns\":{\"answers\":");
    w.raw(answers.answers);
    w.raw(b",\"header_flags\":[");
    for (i, flag) in q.flags.names().enumerate() {
        if i > 0 {
            w.raw(b",");
        }
        w.plain(flag);
    }
    w.raw(b"],\"id\":");
    w.uint(u64::from(q.id));
    w.raw(b",\"question\":{\"class\":");
    w.plain(q.qclass);
    w.next_key("name");
    w.str(q.qname);
    w.next_key("type");
    w.plain(q.qtype);
    w.raw(b"}");
    if let Some(resolved) = answers.resolved_ip {
        w.next_key("resolved_ip");
        w.raw(resolved);
    }
    w.next_key("response_code");
    w.str(q.rcode);
    w.raw(b",\"type\":\"answer\"}");
}

/// `"mamori":{"dns":{...}}`
fn write_mamori(w: &mut JsonBuf<'_>, q: &QueryRecord<'_>) {
    w.raw(b"\"mamori\":{\"dns\":{\"cache_hit\":");
    w.bool(q.from_cache);
    w.next_key("kind");
    w.plain(q.kind);
    if let Some(hit) = q.rpz {
        w.raw(b",\"rpz\":{\"action\":");
        w.str(hit.action.as_ref().map_or("disabled", |a| a.name()));
        w.next_key("rule");
        w.str(&hit.rule.owner.to_ascii());
        w.next_key("trigger");
        w.str(hit.rule.trigger.kind());
        w.next_key("zone");
        w.str(&hit.zone.to_ascii());
        w.raw(b"}");
    }
    w.next_key("upstream_queries");
    w.uint(q.upstream_queries as u64);
    w.raw(b"}}");
}
