//! Finding a dotted field (`source.ip`) in a JSON event.
//!
//! ECS events arrive both nested (`{"source": {"ip": ...}}`) and with literal dotted keys
//! (`{"source.ip": ...}`, common from Beats processors and syslog parsers), and mixtures of the
//! two (`{"source": {"nat.ip": ...}}`). A path therefore matches every way of grouping its
//! segments into keys. Arrays anywhere on the way (`{"threat": [{"indicator": ...}]}`) and at
//! the leaf are looked through, so a field holding several values matches if any does.

use serde_json::Value;

/// A field name split into segments, with the joined keys precomputed.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    name: String,
    /// `keys[i][k]` is segments `i ..= i + k` joined with `.`.
    keys: Vec<Vec<String>>,
}

impl FieldPath {
    /// Prepares `field` for lookups.
    pub fn new(field: &str) -> FieldPath {
        let segments: Vec<&str> = field.split('.').collect();
        let keys =
            (0..segments.len()).map(|i| (i..segments.len()).map(|j| segments[i..=j].join(".")).collect()).collect();
        FieldPath { name: field.to_owned(), keys }
    }

    /// The field name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls `f` on each value of the field (array elements one by one, nulls included) until
    /// it returns true; returns whether it did.
    pub fn any(&self, event: &Value, f: &mut impl FnMut(&Value) -> bool) -> bool {
        self.walk(event, 0, f)
    }

    /// Every value of the field, in document order.
    pub fn values<'v>(&self, event: &'v Value) -> Vec<&'v Value> {
        let mut out = Vec::new();
        self.collect(event, 0, &mut out);
        out
    }

    fn walk(&self, v: &Value, i: usize, f: &mut impl FnMut(&Value) -> bool) -> bool {
        if i == self.keys.len() {
            return leaf(v, f);
        }
        match v {
            Value::Object(map) => self.keys[i]
                .iter()
                .enumerate()
                .any(|(k, key)| map.get(key).is_some_and(|child| self.walk(child, i + k + 1, f))),
            Value::Array(items) => items.iter().any(|item| self.walk(item, i, f)),
            _ => false,
        }
    }

    fn collect<'v>(&self, v: &'v Value, i: usize, out: &mut Vec<&'v Value>) {
        if i == self.keys.len() {
            collect_leaf(v, out);
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, key) in self.keys[i].iter().enumerate() {
                    if let Some(child) = map.get(key) {
                        self.collect(child, i + k + 1, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.collect(item, i, out)),
            _ => {}
        }
    }
}

fn leaf(v: &Value, f: &mut impl FnMut(&Value) -> bool) -> bool {
    match v {
        Value::Array(items) => items.iter().any(|item| leaf(item, f)),
        v => f(v),
    }
}

fn collect_leaf<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|item| collect_leaf(item, out)),
        v => out.push(v),
    }
}

/// The string form of a scalar value used by keyword matching and terms aggregations: strings
/// as they are, numbers in JSON notation, booleans as `true`/`false`. Objects and null have none.
pub fn string_form(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    match v {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_dotted_mixed_and_arrays() {
        let p = FieldPath::new("source.nat.ip");
        let vals = |e: Value| p.values(&e).into_iter().cloned().collect::<Vec<_>>();
        assert_eq!(vals(json!({"source": {"nat": {"ip": "1"}}})), vec![json!("1")]);
        assert_eq!(vals(json!({"source.nat.ip": "2"})), vec![json!("2")]);
        assert_eq!(vals(json!({"source": {"nat.ip": "3"}})), vec![json!("3")]);
        assert_eq!(vals(json!({"source.nat": {"ip": "4"}})), vec![json!("4")]);
        assert_eq!(
            vals(json!({"source": [{"nat": {"ip": ["5", ["6"]]}}, {"nat": {"ip": null}}]})),
            vec![json!("5"), json!("6"), Value::Null]
        );
        assert!(vals(json!({"source": "x"})).is_empty());
        assert!(p.any(&json!({"source.nat.ip": ["a", "b"]}), &mut |v| v == "b"));
    }
}
