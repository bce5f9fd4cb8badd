//! Syslog lines to ECS events: RFC 5424, RFC 3164 and the variants devices really send.
//!
//! [`parse`] never fails and never drops anything: a line it cannot make sense of becomes an
//! event tagged `_parse_failure` with the whole line as `message` and the reason in
//! `error.message`. The line as received (decoded to text) is always in `event.original`.

mod compact;
mod ecs;
pub mod pri;
pub mod rfc3164;
pub mod rfc5424;
pub mod timestamp;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_devices;

use std::net::SocketAddr;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use mamori_core::Event;
use mamori_core::event::tags as core_tags;

use crate::framing::Frame;
use crate::text;
pub use ecs::Admission;
pub(crate) use ecs::Content;
use ecs::Parts;
use pri::PriScan;

/// What parsing needs to know beyond the line itself.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// When the line was received: `@timestamp` when the line has none, and the reference for
    /// the year of RFC 3164 timestamps. File imports use the file's modification time.
    pub received: Timestamp,
    /// Zone of timestamps that carry no offset (`[mamori] timezone`, Asia/Tokyo by default).
    pub timezone: TimeZone,
    /// Longer lines are cut to this many bytes and tagged `_truncated`.
    pub max_message_bytes: usize,
    /// The sender, for `log.source.address` (`ip:port`, or `ip` when the port is 0).
    pub sender: Option<SocketAddr>,
    /// The last second resolved in `timezone` against `received`, reused by the next lines
    /// (so `timezone` is not to be changed in place).
    resolved: timestamp::ResolveCache,
}

impl ParseContext {
    pub fn new(received: Timestamp, timezone: TimeZone, max_message_bytes: usize) -> Self {
        ParseContext { received, timezone, max_message_bytes, sender: None, resolved: Default::default() }
    }

    pub fn with_sender(mut self, sender: SocketAddr) -> Self {
        self.sender = Some(sender);
        self
    }
}

/// Parses one syslog line (trailing NUL, CR and LF are ignored).
pub fn parse(line: &[u8], ctx: &ParseContext) -> Event {
    let raw = text::trim_terminators(line);
    parse_cut(raw, raw.len(), ctx)
}

/// Parses a frame from [`crate::framing::FrameDecoder`], flagging frames the decoder had to cut
/// or that the connection ended in the middle of.
pub fn parse_frame(frame: &Frame, ctx: &ParseContext) -> Event {
    let mut json = Vec::new();
    write_frame(frame, ctx, None, RecordFormat::Json, &mut json);
    to_event(&json)
}

/// Parses `raw` (without terminators), which the sender sent as `original_len` bytes: more
/// than `raw.len()` when a reader already cut it, and then the event is flagged `_truncated`.
pub fn parse_cut(raw: &[u8], original_len: usize, ctx: &ParseContext) -> Event {
    let mut json = Vec::new();
    write_cut(raw, original_len, ctx, None, RecordFormat::Json, &mut json, |_| {});
    to_event(&json)
}

fn to_event(json: &[u8]) -> Event {
    serde_json::from_slice(json).expect("the syslog writer writes valid events")
}

/// What a line's event was flagged with, for the receivers' counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub parse_failure: bool,
    pub truncated: bool,
}

/// How [`write_line`] and [`write_frame`] write an event's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// The event's JSON object.
    Json,
    /// A compact record (`mamori_core::compact`), what the receivers hand to the log store: less
    /// to write and nothing to parse for the indexer. It renders to the same JSON.
    Compact,
}

/// Writes the event of a frame as its record to `out`; with `admission`, stamped with tenant,
/// id and ingestion time as a receiver stores it.
pub fn write_frame(
    frame: &Frame,
    ctx: &ParseContext,
    admission: Option<&Admission<'_>>,
    format: RecordFormat,
    out: &mut Vec<u8>,
) -> Flags {
    let raw = text::trim_terminators(&frame.data);
    let original_len = if frame.is_truncated() { frame.received_len } else { raw.len() };
    write_cut(raw, original_len, ctx, admission, format, out, |content| {
        if frame.incomplete {
            content.add_tag(core_tags::TRUNCATED);
            content.add_error(format!(
                "the connection ended {} bytes into an octet-counted frame announced as {} bytes",
                frame.received_len, frame.original_len
            ));
        }
    })
}

/// Writes the event of one line (trailing NUL, CR and LF are ignored); see [`write_frame`].
pub fn write_line(
    line: &[u8],
    ctx: &ParseContext,
    admission: Option<&Admission<'_>>,
    format: RecordFormat,
    out: &mut Vec<u8>,
) -> Flags {
    let raw = text::trim_terminators(line);
    write_cut(raw, raw.len(), ctx, admission, format, out, |_| {})
}

/// Parses `raw` as [`parse_cut`] does, lets `finish` add to the result, and writes it.
fn write_cut(
    raw: &[u8],
    original_len: usize,
    ctx: &ParseContext,
    admission: Option<&Admission<'_>>,
    format: RecordFormat,
    out: &mut Vec<u8>,
    finish: impl FnOnce(&mut Content<'_>),
) -> Flags {
    let decoded = text::decode(raw, ctx.max_message_bytes, original_len);
    let line: &str = &decoded.text;
    let mut content = Content::new(ctx, line);
    decoded.flag(&mut content, ctx.max_message_bytes);
    parse_into(&mut content, line, ctx);
    finish(&mut content);
    match format {
        RecordFormat::Json => content.write_json(admission, out),
        RecordFormat::Compact => content.write_compact(admission, out),
    }
    Flags {
        parse_failure: content.tags.contains(&core_tags::PARSE_FAILURE),
        truncated: content.tags.contains(&core_tags::TRUNCATED),
    }
}

fn parse_into<'a>(content: &mut Content<'a>, line: &'a str, ctx: &ParseContext) {
    let body = line.trim_start_matches([' ', '\t', '\r', '\n', '\0']);
    if body.is_empty() {
        fail(content, line, "empty message");
        return;
    }
    let tz = &ctx.timezone;
    match pri::scan(body) {
        PriScan::Found(pri, rest) if rfc5424::looks_like(rest) => match rfc5424::parse(rest, tz, &ctx.resolved) {
            Ok(m) => content.apply(Parts::from_5424(pri, m), ctx.received),
            Err(why) => {
                content.apply_pri_only(pri);
                fail(content, line, format!("not valid RFC 5424: {why}"));
            }
        },
        PriScan::Found(pri, rest) => {
            // With a PRI, RFC 3164 takes anything that follows as the message.
            if let Some(m) = rfc3164::parse(rest, true, tz, ctx.received, &ctx.resolved) {
                content.apply(Parts::from_3164(Some(pri), m), ctx.received);
            }
        }
        PriScan::Invalid(why) => match rfc3164::parse(body, false, tz, ctx.received, &ctx.resolved) {
            Some(m) => content.apply(Parts::from_3164(None, m), ctx.received),
            None => fail(content, line, format!("neither RFC 5424 nor RFC 3164: {why}")),
        },
        PriScan::Absent => match rfc3164::parse(body, false, tz, ctx.received, &ctx.resolved) {
            Some(m) => content.apply(Parts::from_3164(None, m), ctx.received),
            None => fail(content, line, "neither RFC 5424 nor RFC 3164: no <PRI> and no timestamp at the start"),
        },
    }
}

/// Stores the whole line as the message, flagged, with the reason.
fn fail<'a>(content: &mut Content<'a>, line: &'a str, why: impl Into<std::borrow::Cow<'a, str>>) {
    content.message = Some(line);
    content.add_tag(core_tags::PARSE_FAILURE);
    content.add_error(why);
}

/// Asia/Tokyo, the default zone (a fixed +09:00 when the system has no time zone database;
/// Japan has no daylight saving time, so the two agree).
pub fn default_timezone() -> TimeZone {
    TimeZone::get("Asia/Tokyo").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(9)))
}
