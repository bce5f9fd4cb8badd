//! Reading fields of an event (ECS JSON) for matching.
//!
//! Events are nested JSON objects (`{"winlog": {"event_data": {"Image": ...}}}`); a path is
//! split once at compile time. Flattened events (`{"winlog.event_data.Image": ...}`) are found
//! too, so events from any source match the same rules.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};

use serde_json::Value;

/// A dotted field path, split once, with a number of its own so that an [`EventView`] looks
/// each field up once per event however many rules read it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    dotted: String,
    segments: Box<[String]>,
    id: usize,
}

/// Numbers of the field paths compiled so far (process-wide: a few thousand at most, as rules
/// name fields).
static IDS: LazyLock<Mutex<HashMap<String, usize>>> = LazyLock::new(Default::default);
static ID_COUNT: AtomicUsize = AtomicUsize::new(0);

fn field_id(dotted: &str) -> usize {
    let mut ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(id) = ids.get(dotted) {
        return *id;
    }
    let id = ID_COUNT.fetch_add(1, Ordering::Relaxed);
    ids.insert(dotted.to_string(), id);
    id
}

impl FieldPath {
    pub fn new(dotted: &str) -> FieldPath {
        FieldPath {
            dotted: dotted.to_string(),
            segments: dotted.split('.').map(str::to_string).collect(),
            id: field_id(dotted),
        }
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

/// An event being evaluated, with the fields looked up so far.
pub struct EventView<'a> {
    pub event: &'a Value,
    found: RefCell<Vec<Option<Option<&'a Value>>>>,
}

impl<'a> EventView<'a> {
    pub fn new(event: &'a Value) -> Self {
        EventView { event, found: RefCell::new(vec![None; ID_COUNT.load(Ordering::Relaxed)]) }
    }

    /// The field's value (looked up once per event).
    pub fn get(&self, path: &FieldPath) -> Option<&'a Value> {
        if let Some(Some(known)) = self.found.borrow().get(path.id) {
            return *known;
        }
        let v = path.lookup(self.event);
        if let Some(slot) = self.found.borrow_mut().get_mut(path.id) {
            *slot = Some(v);
        }
        v
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
