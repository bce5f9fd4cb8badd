//! The JSON of a compact record: the nesting rebuilt from the dotted paths, strings escaped as
//! serde_json escapes them, so the text is what the record's writer would have written as JSON.

use mamori_query::ValueRef;

use super::read::{CompactError, Entry, for_each_entry};
use crate::json_text::write_str;

/// Appends the record's JSON object to `out`; on error `out` is left as it was.
pub fn render_json(record: &[u8], out: &mut Vec<u8>) -> Result<(), CompactError> {
    let start = out.len();
    let mut r = Render { out, open: Vec::new(), first: true, array: None };
    r.out.push(b'{');
    let read = for_each_entry(record, |entry| r.entry(entry));
    if let Err(e) = read {
        out.truncate(start);
        return Err(e);
    }
    r.close_array();
    r.close_to(0);
    r.out.push(b'}');
    Ok(())
}

struct Render<'o, 'r> {
    out: &'o mut Vec<u8>,
    /// Keys of the objects open below the root, outermost first.
    open: Vec<&'r str>,
    /// Whether the innermost open object has no member yet.
    first: bool,
    /// The path of the array being written.
    array: Option<&'r str>,
}

impl<'r> Render<'_, 'r> {
    fn entry(&mut self, entry: Entry<'r>) {
        let (path, value, element) = match entry {
            Entry::Blob => return,
            Entry::Leaf { path, value, array } => (path, Some(value), array),
            Entry::EmptyObject { path } => (path, None, false),
        };
        if element && self.array == Some(path) {
            self.out.push(b',');
            self.value(value);
            return;
        }
        self.close_array();
        let (parents, key) = match path.rsplit_once('.') {
            Some((parents, key)) => (Some(parents), key),
            None => (None, path),
        };
        let parents = parents.into_iter().flat_map(|p| p.split('.'));
        let common = self.open.iter().zip(parents.clone()).take_while(|(a, b)| *a == b).count();
        self.close_to(common);
        for parent in parents.skip(common) {
            self.member(parent);
            self.out.push(b'{');
            self.open.push(parent);
            self.first = true;
        }
        self.member(key);
        match value {
            None => self.out.extend_from_slice(b"{}"),
            Some(v) if element => {
                self.out.push(b'[');
                self.value(Some(v));
                self.array = Some(path);
            }
            Some(v) => self.value(Some(v)),
        }
    }

    /// `"key":`, after a comma unless it is the object's first member.
    fn member(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(b':');
    }

    fn close_array(&mut self) {
        if self.array.take().is_some() {
            self.out.push(b']');
        }
    }

    /// Closes open objects until `depth` remain.
    fn close_to(&mut self, depth: usize) {
        while self.open.len() > depth {
            self.open.pop();
            self.out.push(b'}');
            self.first = false;
        }
    }

    fn value(&mut self, v: Option<ValueRef<'_>>) {
        match v {
            Some(ValueRef::Str(s)) => write_str(self.out, s),
            Some(ValueRef::Int(i)) => self.out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
            Some(ValueRef::UInt(u)) => self.out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes()),
            Some(ValueRef::Float(f)) => serde_json::to_writer(&mut *self.out, &f).expect("a number always serializes"),
            Some(ValueRef::Bool(b)) => self.out.extend_from_slice(if b { b"true" } else { b"false" }),
            None => self.out.extend_from_slice(b"{}"),
        }
    }
}
