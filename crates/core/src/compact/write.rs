//! Writing a compact record.

use super::{
    ARRAY, BLOB, EMPTY_OBJECT, FALSE, FLOAT, INLINE_PATH, INT, KNOWN_PATHS, SLICE, STR, TAG, TRUE, UINT, put_varint,
};

/// A path of [`KNOWN_PATHS`], checked when the program starts rather than looked up per leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known(u8);

impl Known {
    /// The index of `path` in [`KNOWN_PATHS`]. Panics when it is not there: the writers name
    /// their paths in constants, so this is a programming error found by their first test.
    pub const fn new(path: &str) -> Known {
        let mut i = 0;
        while i < KNOWN_PATHS.len() {
            if const_eq(KNOWN_PATHS[i], path) {
                return Known(i as u8);
            }
            i += 1;
        }
        panic!("not a known compact path");
    }
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Appends one compact record to a buffer. Leaves must come in the order and grouping their
/// JSON object has (see the module documentation).
pub struct CompactWriter<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
    /// Where the blob's text starts in `out`, and the blob, to place slices of it.
    blob: Option<(usize, *const u8, usize)>,
}

impl<'o> CompactWriter<'o> {
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        let start = out.len();
        out.push(TAG);
        CompactWriter { out, start, blob: None }
    }

    /// Keeps `text` in the record, for later leaves that are slices of it ([`Self::str`] finds
    /// them by address). One blob per record.
    pub fn blob(&mut self, text: &str) {
        self.out.push(BLOB);
        put_varint(self.out, text.len() as u64);
        let at = self.out.len() - self.start;
        self.out.extend_from_slice(text.as_bytes());
        self.blob = Some((at, text.as_ptr(), text.len()));
    }

    /// A string leaf; written as a slice of the blob when `s` lies inside the blob's text.
    pub fn str(&mut self, path: Known, s: &str) {
        if let Some((at, ptr, len)) = self.blob {
            let offset = (s.as_ptr() as usize).wrapping_sub(ptr as usize);
            if offset <= len && s.len() <= len - offset {
                self.head(SLICE, path);
                put_varint(self.out, (at + offset) as u64);
                put_varint(self.out, s.len() as u64);
                return;
            }
        }
        self.head(STR, path);
        self.raw_str(s);
    }

    /// A string leaf whose text `write` appends straight into the record (a time, an
    /// address), with no string of its own. The text must be UTF-8.
    pub fn str_with(&mut self, path: Known, write: impl FnOnce(&mut Vec<u8>)) {
        self.head(STR, path);
        let len_at = self.out.len();
        self.out.push(0);
        write(self.out);
        let len = self.out.len() - len_at - 1;
        if len < 0x80 {
            self.out[len_at] = len as u8;
        } else {
            let mut prefix = Vec::new();
            put_varint(&mut prefix, len as u64);
            self.out.splice(len_at..=len_at, prefix);
        }
    }

    /// An instant as jiff writes it (RFC 3339, UTC).
    pub fn timestamp(&mut self, path: Known, ts: jiff::Timestamp) {
        self.str_with(path, |out| crate::time_text::write_timestamp(ts, out));
    }

    /// A string leaf at a path that is not one of [`KNOWN_PATHS`]. Its keys must not contain
    /// dots.
    pub fn str_at(&mut self, path: &str, s: &str) {
        self.out.push(STR);
        self.inline_path(path);
        self.raw_str(s);
    }

    /// A string element of the array at `path`; the elements of one array come one after another.
    pub fn array_str(&mut self, path: Known, s: &str) {
        self.head(STR | ARRAY, path);
        self.raw_str(s);
    }

    pub fn uint(&mut self, path: Known, v: u64) {
        self.head(UINT, path);
        put_varint(self.out, v);
    }

    pub fn int(&mut self, path: Known, v: i64) {
        self.head(INT, path);
        put_varint(self.out, ((v << 1) ^ (v >> 63)) as u64);
    }

    pub fn float(&mut self, path: Known, v: f64) {
        self.head(FLOAT, path);
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bool(&mut self, path: Known, v: bool) {
        self.head(if v { TRUE } else { FALSE }, path);
    }

    /// An object without members at `path` (JSON `{}`).
    pub fn empty_object(&mut self, path: Known) {
        self.head(EMPTY_OBJECT, path);
    }

    fn head(&mut self, kind: u8, path: Known) {
        self.out.push(kind);
        self.out.push(path.0);
    }

    fn inline_path(&mut self, path: &str) {
        self.out.push(INLINE_PATH);
        put_varint(self.out, path.len() as u64);
        self.out.extend_from_slice(path.as_bytes());
    }

    fn raw_str(&mut self, s: &str) {
        put_varint(self.out, s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }
}
