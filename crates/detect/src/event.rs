//! Reading fields of an event (ECS JSON) for matching.
//!
//! Events are nested JSON objects (`{"winlog": {"event_data": {"Image": ...}}}`); a path is
//! split once at compile time. Flattened events (`{"winlog.event_data.Image": ...}`) are found
//! too, so events from any source match the same rules.

use std::borrow::Cow;

use serde_json::Value;

/// A dotted field path, split once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    dotted: String,
    segments: Box<[String]>,
}

impl FieldPath {
    pub fn new(dotted: &str) -> FieldPath {
        FieldPath { dotted: dotted.to_string(), segments: dotted.split('.').map(str::to_string).collect() }
    }

    pub fn as_str(&self) -> &str {
        &self.dotted
    }

    /// The field's value; `None` when absent.
    pub fn lookup<'a>(&self, event: &'a Value) -> Option<&'a Value> {
        let mut cur = event;
        for (i, seg) in self.segments.iter().enumerate() {
            let Value::Object(map) = cur else { return None };
            match map.get(seg.as_str()) {
                Some(v) => cur = v,
                // A key holding the rest of the path with its dots (a flattened event).
                None => return map.get(self.segments[i..].join(".").as_str()),
            }
        }
        Some(cur)
    }
}

/// The text Sigma compares for a scalar (numbers and booleans as written); `None` for null,
/// objects and arrays.
pub fn scalar_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Calls `f` with the text of each value of a field: one for a scalar, each element for an
/// array (a multi-valued field matches when any value does). Stops at the first `true`.
pub fn any_text(v: &Value, f: &mut dyn FnMut(&str) -> bool) -> bool {
    match v {
        Value::Array(items) => items.iter().any(|i| any_text(i, f)),
        other => scalar_text(other).is_some_and(|t| f(&t)),
    }
}

/// Calls `f` with every string leaf of the event (keyword search), stopping at the first `true`.
pub fn any_leaf_text(v: &Value, f: &mut dyn FnMut(&str) -> bool) -> bool {
    match v {
        Value::Object(map) => map.values().any(|i| any_leaf_text(i, f)),
        Value::Array(items) => items.iter().any(|i| any_leaf_text(i, f)),
        other => scalar_text(other).is_some_and(|t| f(&t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_and_flattened_paths() {
        let p = FieldPath::new("winlog.event_data.Image");
        let nested = json!({"winlog": {"event_data": {"Image": "a"}}});
        let flat = json!({"winlog.event_data.Image": "b"});
        let half = json!({"winlog": {"event_data.Image": "c"}});
        assert_eq!(p.lookup(&nested), Some(&json!("a")));
        assert_eq!(p.lookup(&flat), Some(&json!("b")));
        assert_eq!(p.lookup(&half), Some(&json!("c")));
        assert_eq!(p.lookup(&json!({"winlog": 1})), None);
    }
}
