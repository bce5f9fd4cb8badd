//! The answer part of a query-log record (`dns.answers`, `dns.resolved_ip`), rendered to JSON
//! once per answer: a cached answer keeps the text next to its wire message and every query it
//! serves copies the bytes.

use hickory_proto::rr::Record;
use serde_json::{Value, json};

/// The JSON of `dns.answers`, followed by that of `dns.resolved_ip` when the answer holds
/// addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerLog {
    text: String,
    answers_end: usize,
}

impl AnswerLog {
    pub fn of(records: &[Record]) -> AnswerLog {
        let answers: Vec<Value> = records.iter().map(answer_json).collect();
        let resolved: Vec<String> = records.iter().filter_map(crate::rpz::record_ip).map(|ip| ip.to_string()).collect();
        let mut text = Value::from(answers).to_string();
        let answers_end = text.len();
        if !resolved.is_empty() {
            text.push_str(&json!(resolved).to_string());
        }
        AnswerLog { text, answers_end }
    }

    /// No answer records.
    pub fn none() -> AnswerLog {
        AnswerLog { text: "[]".into(), answers_end: 2 }
    }

    pub fn view(&self) -> LoggedAnswers<'_> {
        LoggedAnswers::split(self.text.as_bytes(), self.answers_end)
    }

    /// The text and where its answers end, for a cache that keeps them elsewhere.
    pub fn into_parts(self) -> (String, usize) {
        (self.text, self.answers_end)
    }
}

/// An [`AnswerLog`]'s text, wherever it is kept.
#[derive(Debug, Clone, Copy)]
pub struct LoggedAnswers<'a> {
    pub(super) answers: &'a [u8],
    pub(super) resolved_ip: Option<&'a [u8]>,
}

impl<'a> LoggedAnswers<'a> {
    /// `text` laid out as [`AnswerLog`] lays it out, its answers ending at `answers_end`.
    pub fn split(text: &'a [u8], answers_end: usize) -> LoggedAnswers<'a> {
        let (answers, resolved) = text.split_at(answers_end);
        LoggedAnswers { answers, resolved_ip: (!resolved.is_empty()).then_some(resolved) }
    }
}

fn answer_json(r: &Record) -> Value {
    json!({
        "name": r.name.to_ascii(),
        "type": r.record_type().to_string(),
        "class": r.dns_class.to_string(),
        "ttl": r.ttl,
        "data": r.data.to_string(),
    })
}
