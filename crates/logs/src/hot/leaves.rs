//! Walking a stored event's JSON straight from its bytes: every scalar with its dotted path,
//! without building a `serde_json::Value` tree first. The indexer does this once per event, so
//! it matters: the tree cost as much as the indexing itself.

use std::fmt;

use mamori_query::ValueRef;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Calls `f(path, value)` for every scalar of the JSON object in `json` (arrays give one call
/// per element, nulls none).
pub fn for_each_leaf(json: &[u8], f: &mut dyn FnMut(&str, ValueRef<'_>)) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let mut path = String::with_capacity(64);
    Walker { path: &mut path, f }.deserialize(&mut de)?;
    de.end()
}

struct Walker<'p, 'f> {
    path: &'p mut String,
    f: &'p mut (dyn FnMut(&str, ValueRef<'_>) + 'f),
}

impl<'de> DeserializeSeed<'de> for Walker<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walker<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        (self.f)(self.path, ValueRef::Bool(v));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        (self.f)(self.path, ValueRef::Int(v));
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(i) => (self.f)(self.path, ValueRef::Int(i)),
            Err(_) => (self.f)(self.path, ValueRef::UInt(v)),
        }
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        (self.f)(self.path, ValueRef::Float(v));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        (self.f)(self.path, ValueRef::Str(v));
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Walker { path: &mut *self.path, f: &mut *self.f })?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        loop {
            let len = self.path.len();
            if map.next_key_seed(Key { path: &mut *self.path })?.is_none() {
                return Ok(());
            }
            map.next_value_seed(Walker { path: &mut *self.path, f: &mut *self.f })?;
            self.path.truncate(len);
        }
    }
}

/// Appends a map key to the path (with a dot when the path is not empty).
struct Key<'p> {
    path: &'p mut String,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_leaves_as_flattening_a_value() {
        let json = br#"{"@timestamp":"2026-11-21T00:00:00Z","a":{"b":1,"c":[true,null,"x\"y"],"d.e":-2.5},"big":18446744073709551615,"n":null,"s":"\u3042"}"#;
        let mut got = Vec::new();
        for_each_leaf(json, &mut |p, l| {
            let mut s = String::new();
            l.write_string_form(&mut s);
            got.push((p.to_string(), s));
        })
        .unwrap();
        let value: serde_json::Value = serde_json::from_slice(json).unwrap();
        let mut want = Vec::new();
        mamori_core::event::flatten_leaves(&value, &mut String::new(), &mut |p, v| {
            want.push((p.to_string(), mamori_query::string_form(v).unwrap().into_owned()))
        });
        assert_eq!(got, want);
    }

    #[test]
    fn bad_json_is_an_error() {
        assert!(for_each_leaf(b"{\"a\":", &mut |_, _| {}).is_err());
        assert!(for_each_leaf(b"{} x", &mut |_, _| {}).is_err());
    }
}
