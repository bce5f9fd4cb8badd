use super::*;

/// What serde's visitor makes of `json` (the walker this module replaced): every leaf with
/// its kind and string form, or an error.
fn reference(json: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut want = Vec::new();
    serde_walk(json, &mut |p, l| want.push((p.to_string(), described(l)))).map_err(|e| e.to_string())?;
    Ok(want)
}

fn described(l: ValueRef<'_>) -> String {
    let kind = match l {
        ValueRef::Int(_) => "int",
        ValueRef::UInt(_) => "uint",
        ValueRef::Float(_) => "float",
        ValueRef::Bool(_) => "bool",
        ValueRef::Str(_) => "str",
    };
    let mut s = String::new();
    l.write_string_form(&mut s);
    format!("{kind}:{s}")
}

fn walked(json: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut got = Vec::new();
    for_each_leaf(json, &mut |p, l| got.push((p.to_string(), described(l)))).map_err(|e| e.to_string())?;
    Ok(got)
}

fn agree(json: &[u8]) {
    match (reference(json), walked(json)) {
        (Ok(want), Ok(got)) => {
            let same = got.len() == want.len() && got.iter().zip(&want).all(|(g, w)| g == w || close_floats(g, w));
            assert!(same, "{}: serde_json {want:?}, walker {got:?}", String::from_utf8_lossy(json));
        }
        (Err(_), Err(_)) => {}
        (want, got) => panic!("{}: serde_json {want:?}, walker {got:?}", String::from_utf8_lossy(json)),
    }
}

/// serde_json (without its `float_roundtrip` feature) may miss the nearest double by an ulp
/// on long fractions; the walker uses the standard library's correctly rounded parser.
fn close_floats(got: &(String, String), want: &(String, String)) -> bool {
    let float = |s: &str| s.strip_prefix("float:").and_then(|f| f.parse::<f64>().ok());
    match (float(&got.1), float(&want.1)) {
        (Some(a), Some(b)) => got.0 == want.0 && a.to_bits().abs_diff(b.to_bits()) <= 1,
        _ => false,
    }
}

#[test]
fn same_leaves_as_flattening_a_value() {
    agree(br#"{"@timestamp":"2026-11-21T00:00:00Z","a":{"b":1,"c":[true,null,"x\"y"],"d.e":-2.5},"big":18446744073709551615,"n":null,"s":"\u3042"}"#);
    agree(br#" { "a" : [ 1 , [ 2 , { "b" : "c" } ] ] , "e\u00e9\n" : "\ud83d\ude00 \/\b\f\r\t" } "#);
    agree(br#"{"i":-9223372036854775808,"j":-9223372036854775809,"k":9223372036854775808,"l":18446744073709551616,"m":-0,"n":0,"o":1e3,"p":1E-2,"q":-0.0,"r":12.5e+2}"#);
    agree("{\"日本\":\"みどり市\"}".as_bytes());
    agree(b"[]");
    agree(b"{}");
    agree(b"\"top\"");
}

#[test]
fn bad_json_is_an_error() {
    for bad in [
        &b"{\"a\":"[..],
        b"{} x",
        b"{\"a\":01}",
        b"{\"a\":1,}",
        b"[1,]",
        b"{\"a\":\"\x01\"}",
        b"{\"a\":\"\\q\"}",
        b"{\"a\":\"\\ud800\"}",
        b"{\"a\":\"\\udc00\"}",
        b"{\"a\":\"\\u12\"}",
        b"{\"a\":1e400}",
        b"{\"a\":-}",
        b"{\"a\":.5}",
        b"{\"a\":1.}",
        b"{\"a\":1e}",
        b"{\"a\" 1}",
        b"{\"a\":tru}",
        b"{a:1}",
        b"{\"a\":\"\xff\"}",
        b"",
        b"{\"a\":\"open",
    ] {
        assert!(walked(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        agree(bad);
    }
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(walked(deep.as_bytes()).is_err());
    agree(deep.as_bytes());
}

/// A small deterministic generator, so the comparison covers far more shapes than the
/// examples above without a property-testing dependency.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }

    fn value(&mut self, depth: usize, out: &mut String) {
        match self.next() % if depth > 3 { 6 } else { 8 } {
            0 => out.push_str(self.pick(&["true", "false", "null"])),
            1 => {
                let n = self.next();
                out.push_str(&match n % 4 {
                    0 => (n % 1000).to_string(),
                    1 => format!("-{}", n >> 1),
                    2 => n.to_string(),
                    _ => format!("{}.{}e{}", n % 100, n % 7, (n % 20) as i64 - 10),
                });
            }
            2 => out.push_str(self.pick(&["-0", "0", "18446744073709551616", "-9223372036854775809", "1.5", "2E+3"])),
            3..=5 => self.string(out),
            6 => {
                out.push('[');
                for i in 0..self.next() % 4 {
                    if i > 0 {
                        out.push_str(self.pick(&[",", " , ", ",\n"]));
                    }
                    self.value(depth + 1, out);
                }
                out.push(']');
            }
            _ => self.object(depth + 1, out),
        }
    }

    fn string(&mut self, out: &mut String) {
        out.push('"');
        for _ in 0..self.next() % 5 {
            out.push_str(self.pick(&[
                "a",
                "syslog",
                ".",
                "みどり",
                "\\\"",
                "\\\\",
                "\\n",
                "\\u00e9",
                "\\ud83d\\ude00",
                "\\/",
                " ",
                "x.y",
                "\u{1F600}",
            ]));
        }
        out.push('"');
    }

    fn object(&mut self, depth: usize, out: &mut String) {
        out.push('{');
        for i in 0..self.next() % 5 {
            if i > 0 {
                out.push(',');
            }
            self.string(out);
            out.push_str(self.pick(&[":", " : "]));
            self.value(depth, out);
        }
        out.push('}');
    }
}

#[test]
fn generated_documents_read_as_serde_json_reads_them() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let mut doc = String::new();
        g.object(0, &mut doc);
        agree(doc.as_bytes());
        // The same document damaged at one byte: both accept it or both refuse it.
        let mut damaged = doc.into_bytes();
        let at = g.next() as usize % damaged.len();
        damaged[at] = *b"\"{}[],:\\0-e.x \x01\xff".get(g.next() as usize % 16).expect("in range");
        agree(&damaged);
    }
}

// The serde visitor walker, kept as the reference.
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Calls `f(path, value)` for every scalar of the JSON object in `json` (arrays give one call
/// per element, nulls none).
fn serde_walk(json: &[u8], f: &mut dyn FnMut(&str, ValueRef<'_>)) -> Result<(), serde_json::Error> {
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
