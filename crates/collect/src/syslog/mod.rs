//! Syslog lines to ECS events: RFC 5424, RFC 3164 and the variants devices really send.
//!
//! [`parse`] never fails and never drops anything: a line it cannot make sense of becomes an
//! event tagged `_parse_failure` with the whole line as `message` and the reason in
//! `error.message`. The line as received (decoded to text) is always in `event.original`.

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
}

impl ParseContext {
    pub fn new(received: Timestamp, timezone: TimeZone, max_message_bytes: usize) -> Self {
        ParseContext { received, timezone, max_message_bytes, sender: None }
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
    let raw = text::trim_terminators(&frame.data);
    let original_len = if frame.is_truncated() { frame.received_len } else { raw.len() };
    let mut event = parse_cut(raw, original_len, ctx);
    if frame.incomplete {
        event.add_tag(core_tags::TRUNCATED);
        event.add_error(format!(
            "the connection ended {} bytes into an octet-counted frame announced as {} bytes",
            frame.received_len, frame.original_len
        ));
    }
    event
}

/// Parses `raw` (without terminators), which the sender sent as `original_len` bytes: more
/// than `raw.len()` when a reader already cut it, and then the event is flagged `_truncated`.
pub fn parse_cut(raw: &[u8], original_len: usize, ctx: &ParseContext) -> Event {
    let decoded = text::decode(raw, ctx.max_message_bytes, original_len);
    let line: &str = &decoded.text;
    let mut event = ecs::base_event(ctx, line);
    decoded.flag(&mut event, ctx.max_message_bytes);
    let body = line.trim_start_matches([' ', '\t', '\r', '\n', '\0']);
    if body.is_empty() {
        fail(&mut event, line, "empty message");
        return event;
    }
    let tz = &ctx.timezone;
    match pri::scan(body) {
        PriScan::Found(pri, rest) if rfc5424::looks_like(rest) => match rfc5424::parse(rest, tz) {
            Ok(m) => ecs::apply(&mut event, Parts::from_5424(pri, m), ctx.received),
            Err(why) => {
                ecs::apply_pri_only(&mut event, pri);
                fail(&mut event, line, &format!("not valid RFC 5424: {why}"));
            }
        },
        PriScan::Found(pri, rest) => {
            // With a PRI, RFC 3164 takes anything that follows as the message.
            if let Some(m) = rfc3164::parse(rest, true, tz, ctx.received) {
                ecs::apply(&mut event, Parts::from_3164(Some(pri), m), ctx.received);
            }
        }
        PriScan::Invalid(why) => match rfc3164::parse(body, false, tz, ctx.received) {
            Some(m) => ecs::apply(&mut event, Parts::from_3164(None, m), ctx.received),
            None => fail(&mut event, line, &format!("neither RFC 5424 nor RFC 3164: {why}")),
        },
        PriScan::Absent => match rfc3164::parse(body, false, tz, ctx.received) {
            Some(m) => ecs::apply(&mut event, Parts::from_3164(None, m), ctx.received),
            None => fail(&mut event, line, "neither RFC 5424 nor RFC 3164: no <PRI> and no timestamp at the start"),
        },
    }
    event
}

/// Stores the whole line as the message, flagged, with the reason.
fn fail(event: &mut Event, line: &str, why: &str) {
    event.message = Some(line.to_string());
    event.add_tag(core_tags::PARSE_FAILURE);
    event.add_error(why.to_string());
}

/// Asia/Tokyo, the default zone (a fixed +09:00 when the system has no time zone database;
/// Japan has no daylight saving time, so the two agree).
pub fn default_timezone() -> TimeZone {
    TimeZone::get("Asia/Tokyo").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(9)))
}
