//! The answer part of a query-log record (`dns.answers`, `dns.resolved_ip`), rendered to JSON
//! once per answer: a cached answer keeps it and every query it serves copies the bytes.

use hickory_proto::rr::Record;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerLog {
    /// `[{"class":..,"data":..,"name":..,"ttl":..,"type":..}, ...]`
    pub(super) answers: Box<str>,
    /// `["192.0.2.1", ...]`, or `None` when the answer holds no address.
    pub(super) resolved_ip: Option<Box<str>>,
}

impl AnswerLog {
    pub fn of(records: &[Record]) -> AnswerLog {
        let answers: Vec<Value> = records.iter().map(answer_json).collect();
        let resolved: Vec<String> = records.iter().filter_map(crate::rpz::record_ip).map(|ip| ip.to_string()).collect();
        AnswerLog {
            answers: Value::from(answers).to_string().into_boxed_str(),
            resolved_ip: (!resolved.is_empty()).then(|| json!(resolved).to_string().into_boxed_str()),
        }
    }

    /// No answer records.
    pub fn none() -> AnswerLog {
        AnswerLog { answers: "[]".into(), resolved_ip: None }
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
