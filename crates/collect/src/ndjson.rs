//! Newline-delimited JSON events, as `POST /api/v1/ingest` and `mamori logs import` receive
//! them: one ECS object per line.
//!
//! Nothing is dropped: a line that is not a JSON object becomes an event tagged
//! `_parse_failure` with the line as `message` and `event.original`, and is listed in
//! `rejected_lines` so the API can tell the sender which lines were wrong.

use jiff::Timestamp;
use mamori_core::Event;
use mamori_core::event::tags as core_tags;

use crate::metrics::{Transport, metrics};
use crate::text;

/// Dataset of events made from lines that were not valid events.
pub const FAILURE_DATASET: &str = "mamori.ingest";

/// The events of a body, in order, and which lines had to be stored raw.
#[derive(Debug, Default)]
pub struct NdjsonBatch {
    pub events: Vec<Event>,
    /// `(line number starting at 1, reason)` for every line stored raw with `_parse_failure`.
    pub rejected_lines: Vec<(usize, String)>,
}

/// Parses an HTTP ingestion body. Blank lines are skipped; lines longer than `max_line` bytes
/// are cut and tagged `_truncated`. With `tenant_override` (the tenant the caller is
/// authenticated as) every event's `organization.id` is forced to it; without it events keep
/// the `organization.id` they carry. Every event is stamped with an id and `event.ingested`.
pub fn parse_ndjson(body: &[u8], tenant_override: Option<&str>, max_line: usize) -> NdjsonBatch {
    let mut batch = NdjsonBatch::default();
    let now = Timestamp::now();
    let mut line_no = 0;
    for line in body.split(|&b| b == b'\n') {
        line_no += 1;
        if let Some(parsed) = parse_line(line, line.len(), max_line, now) {
            batch.push(line_no, parsed, tenant_override, Transport::Http);
        }
    }
    batch
}

/// One line turned into an event, with the reason when it had to be stored raw.
pub(crate) struct ParsedLine {
    pub event: Event,
    pub rejected: Option<String>,
}

impl NdjsonBatch {
    pub(crate) fn push(
        &mut self,
        line_no: usize,
        parsed: ParsedLine,
        tenant_override: Option<&str>,
        transport: Transport,
    ) {
        let ParsedLine { mut event, rejected } = parsed;
        if let Some(tenant) = tenant_override {
            event.set_tenant(tenant);
        }
        if let Some(reason) = rejected {
            event.add_error(format!("line {line_no}: {reason}"));
            self.rejected_lines.push((line_no, reason));
        }
        metrics().count_event(transport, &event);
        self.events.push(event);
    }
}

/// Parses one line (`original_len` is its length before any cut by the reader). Returns `None`
/// for a blank line.
pub(crate) fn parse_line(line: &[u8], original_len: usize, max_line: usize, now: Timestamp) -> Option<ParsedLine> {
    let line = text::trim_terminators(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let decoded = text::decode(line, max_line, original_len.max(line.len()));
    let result =
        serde_json::from_str(&decoded.text).map_err(|e| format!("not JSON: {e}")).and_then(Event::from_json_value);
    let (mut event, rejected) = match result {
        Ok(event) => (event, None),
        Err(reason) => {
            let mut event = Event::new(now, FAILURE_DATASET);
            event.message = Some(decoded.text.to_string());
            event.event.original = Some(decoded.text.to_string());
            event.add_tag(core_tags::PARSE_FAILURE);
            (event, Some(reason))
        }
    };
    decoded.flag(&mut event, max_line);
    event.stamp_ingestion(now);
    Some(ParsedLine { event, rejected })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags;

    #[test]
    fn valid_lines_become_events() {
        let body =
            b"{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"message\":\"a\",\"organization\":{\"id\":\"midori\"}}\n\
                     \r\n\
                     {\"message\":\"b\",\"source.ip\":\"10.0.0.1\"}\r\n";
        let batch = parse_ndjson(body, None, 1 << 20);
        assert_eq!(batch.events.len(), 2);
        assert!(batch.rejected_lines.is_empty());
        assert_eq!(batch.events[0].tenant(), "midori");
        assert_eq!(batch.events[1].tenant(), "unassigned");
        assert!(batch.events.iter().all(|e| e.event.id.is_some() && e.event.ingested.is_some()));
    }

    #[test]
    fn bad_lines_are_kept_raw_and_reported() {
        let body = b"{\"message\":\"ok\"}\nnot json at all\n[1,2]\n{\"message\":\"ok2\"}";
        let batch = parse_ndjson(body, Some("aoba"), 1 << 20);
        assert_eq!(batch.events.len(), 4);
        let lines: Vec<usize> = batch.rejected_lines.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, vec![2, 3]);
        let raw = &batch.events[1];
        assert_eq!(raw.message.as_deref(), Some("not json at all"));
        assert_eq!(raw.event.original.as_deref(), Some("not json at all"));
        assert!(raw.tags.contains(&tags::PARSE_FAILURE.to_string()));
        assert!(raw.error.as_ref().unwrap().message.as_ref().unwrap().contains("line 2"));
        assert!(batch.events.iter().all(|e| e.tenant() == "aoba"));
    }

    #[test]
    fn tenant_override_wins() {
        let body = br#"{"organization":{"id":"other"}}"#;
        let batch = parse_ndjson(body, Some("aoba"), 1 << 20);
        assert_eq!(batch.events[0].tenant(), "aoba");
    }

    #[test]
    fn long_lines_are_cut_and_flagged() {
        let mut body = b"{\"message\":\"".to_vec();
        body.extend(std::iter::repeat_n(b'x', 500));
        body.extend_from_slice(b"\"}\n");
        let batch = parse_ndjson(&body, None, 100);
        let e = &batch.events[0];
        assert!(e.tags.contains(&tags::TRUNCATED.to_string()));
        assert!(e.tags.contains(&tags::PARSE_FAILURE.to_string()));
        assert_eq!(e.message.as_ref().unwrap().len(), 100);
    }

    #[test]
    fn empty_and_garbage_bodies() {
        assert!(parse_ndjson(b"", None, 100).events.is_empty());
        assert!(parse_ndjson(b"\n\n \n", None, 100).events.is_empty());
        let batch = parse_ndjson(&[0xff, 0xfe, b'\n', 0x01], None, 100);
        assert_eq!(batch.events.len(), 2);
        assert_eq!(batch.rejected_lines.len(), 2);
    }
}
