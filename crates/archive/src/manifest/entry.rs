//! Manifest entries, their canonical JSON and their hashes.
//!
//! One entry is one line of `manifest.jsonl`: a JSON object with `seq` (1, 2, 3, ...),
//! `prev` (the previous entry's `hash`, 64 zeros for the first), `type` and the fields of the
//! record, and `hash`. The line is the *canonical* JSON of the entry: keys sorted by their
//! bytes, no whitespace, strings escaped as serde_json escapes them. `hash` is the lowercase
//! hex SHA-256 of `prev` (its 64 hex characters) followed by the canonical JSON of the entry
//! without `hash`. Changing, removing or reordering a line therefore breaks the chain, and
//! the last entry's hash (the *head*) stands for the whole history.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A segment file was archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRecord {
    pub tenant: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// The file, relative to the archive directory, with `/` separators.
    pub file: String,
    pub events: u64,
    pub bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// Event time range, microseconds since the epoch.
    pub min_ts: i64,
    pub max_ts: i64,
    /// The write-ahead-log positions the segment's events came from.
    pub lsn_from: u64,
    pub lsn_to: u64,
    pub created: Timestamp,
}

/// Everything of `day` up to WAL position `lsn` is archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatermarkRecord {
    pub day: String,
    pub lsn: u64,
}

/// A segment was deleted on purpose (retention), named by its entry's `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpireRecord {
    pub segment: u64,
    pub file: String,
    pub sha256: String,
    pub reason: String,
    pub at: Timestamp,
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Segment(SegmentRecord),
    Watermark(WatermarkRecord),
    Expire(ExpireRecord),
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub prev: String,
    pub hash: String,
    pub record: Record,
}

impl Entry {
    /// Makes the entry that follows `prev` (`seq - 1`'s hash), computing its hash.
    pub fn new(seq: u64, prev: &str, record: Record) -> Entry {
        let mut e = Entry { seq, prev: prev.to_string(), hash: String::new(), record };
        e.hash = e.compute_hash();
        e
    }

    /// The entry as a JSON object, without `hash`.
    fn unhashed(&self) -> Value {
        let mut v = serde_json::to_value(&self.record).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("seq".into(), Value::from(self.seq));
            m.insert("prev".into(), Value::String(self.prev.clone()));
        }
        v
    }

    /// What `hash` must be.
    pub fn compute_hash(&self) -> String {
        let mut sha = Sha256::new();
        sha.update(self.prev.as_bytes());
        sha.update(canonical(&self.unhashed()).as_bytes());
        hex::encode(sha.finalize())
    }

    /// The manifest line (without its newline).
    pub fn line(&self) -> String {
        let mut v = self.unhashed();
        if let Value::Object(m) = &mut v {
            m.insert("hash".into(), Value::String(self.hash.clone()));
        }
        canonical(&v)
    }

    /// Parses a line and checks that it is canonical and that its hash is right. The chain
    /// (`seq` and `prev` against the line before) is the caller's to check.
    pub fn parse(line: &str) -> Result<Entry, String> {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(mut m) = v else {
            return Err("not a JSON object".into());
        };
        let seq = take(&mut m, "seq")?.as_u64().ok_or("seq is not a number")?;
        let prev = take_string(&mut m, "prev")?;
        let hash = take_string(&mut m, "hash")?;
        let record: Record =
            serde_json::from_value(Value::Object(m)).map_err(|e| format!("not a manifest entry: {e}"))?;
        let entry = Entry { seq, prev, hash, record };
        if entry.line() != line {
            return Err("the line is not in canonical form (it was edited)".into());
        }
        let expected = entry.compute_hash();
        if entry.hash != expected {
            return Err(format!("hash mismatch: the line was modified (stored {}, computed {expected})", entry.hash));
        }
        Ok(entry)
    }
}

fn take(m: &mut Map<String, Value>, key: &str) -> Result<Value, String> {
    m.remove(key).ok_or_else(|| format!("no {key}"))
}

fn take_string(m: &mut Map<String, Value>, key: &str) -> Result<String, String> {
    match take(m, key)? {
        Value::String(s) => Ok(s),
        _ => Err(format!("{key} is not a string")),
    }
}

/// Canonical JSON: object keys sorted by their bytes at every level, no whitespace. Written
/// here rather than relying on `serde_json::Map`'s order, which a `preserve_order` feature
/// elsewhere in the build would change.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watermark(lsn: u64) -> Record {
        Record::Watermark(WatermarkRecord { day: "2026-11-21".into(), lsn })
    }

    #[test]
    fn lines_round_trip_and_chain() {
        let a = Entry::new(1, GENESIS, watermark(5));
        let b = Entry::new(2, &a.hash, watermark(9));
        assert_eq!(Entry::parse(&a.line()).unwrap(), a);
        assert_eq!(Entry::parse(&b.line()).unwrap(), b);
        assert_ne!(a.hash, b.hash);
        assert!(a.line().starts_with("{\"day\":\"2026-11-21\",\"hash\":"));
    }

    #[test]
    fn edits_are_caught() {
        let a = Entry::new(1, GENESIS, watermark(5));
        let line = a.line();
        let edited = line.replace("\"lsn\":5", "\"lsn\":6");
        assert!(Entry::parse(&edited).unwrap_err().contains("hash mismatch"));
        let spaced = line.replace(",", ", ");
        assert!(Entry::parse(&spaced).unwrap_err().contains("canonical"));
        let extra = line.replace("{", "{\"x\":1,");
        assert!(Entry::parse(&extra).is_err());
        assert!(Entry::parse("{").is_err());
        assert!(Entry::parse("[]").is_err());
    }

    #[test]
    fn canonical_sorts_keys_everywhere() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":{"d":[{"z":1,"y":"é\n"}],"c":null}}"#).unwrap();
        assert_eq!(canonical(&v), r#"{"a":{"c":null,"d":[{"y":"é\n","z":1}]},"b":1}"#);
    }
}
