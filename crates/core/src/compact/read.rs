//! Reading a compact record: its leaves, checked as they are read, so that any bytes give
//! either leaves or an error, never a panic.

use mamori_query::ValueRef;

use super::{
    ARRAY, BLOB, EMPTY_OBJECT, FALSE, FLOAT, INLINE_PATH, INT, KIND_MASK, KNOWN_PATHS, SLICE, STR, TAG, TRUE, UINT,
};

/// A record that is not a valid compact record, with the byte where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("compact event record: {what} at byte {at}")]
pub struct CompactError {
    pub what: &'static str,
    pub at: usize,
}

/// One entry as read.
pub(super) enum Entry<'r> {
    Leaf { path: &'r str, value: ValueRef<'r>, array: bool },
    EmptyObject { path: &'r str },
    Blob,
}

/// Calls `f(path, value)` for every leaf, as a walk of the rendered JSON would (array elements
/// one by one, empty objects not at all). Generic rather than `dyn`: the indexer calls this for
/// every leaf of every event, and inlining its visitor saves two indirect calls per leaf.
pub fn for_each_leaf(record: &[u8], mut f: impl FnMut(&str, ValueRef<'_>)) -> Result<(), CompactError> {
    for_each_entry(record, |entry| {
        if let Entry::Leaf { path, value, .. } = entry {
            f(path, value);
        }
    })
}

/// The text of the record's first leaf when it is a string at `path` (after the blob, if the
/// record starts with one): where writers put `@timestamp`, so that it is found without reading
/// the whole record.
pub fn leading_str<'r>(record: &'r [u8], path: &str) -> Option<&'r str> {
    let mut r = Reader { b: record, pos: 0 };
    if r.byte().ok()? != TAG {
        return None;
    }
    let mut head = r.byte().ok()?;
    if head == BLOB {
        let len = r.len().ok()?;
        r.take(len).ok()?;
        head = r.byte().ok()?;
    }
    if head != STR || r.path().ok()? != path {
        return None;
    }
    let len = r.len().ok()?;
    r.text_at(r.pos, len).ok()
}

pub(super) fn for_each_entry<'r>(record: &'r [u8], mut f: impl FnMut(Entry<'r>)) -> Result<(), CompactError> {
    let mut r = Reader { b: record, pos: 0 };
    if r.byte()? != TAG {
        return Err(r.fail("not a compact record"));
    }
    // The blob's text, checked once: slices of it (the message, the host) need no check of
    // their own beyond falling on character boundaries.
    let mut blob: Option<(usize, &'r str)> = None;
    while r.pos < record.len() {
        let entry_at = r.pos;
        let head = r.byte()?;
        let kind = head & KIND_MASK;
        if kind == BLOB {
            let len = r.len()?;
            let text = r.text_at(r.pos, len)?;
            blob = Some((r.pos, text));
            r.pos += len;
            f(Entry::Blob);
            continue;
        }
        let path = r.path()?;
        let value = match kind {
            STR => {
                let len = r.len()?;
                let text = r.text_at(r.pos, len)?;
                r.pos += len;
                ValueRef::Str(text)
            }
            SLICE => {
                let (start, len) = (r.len()?, r.len()?);
                if start.checked_add(len).is_none_or(|end| end > entry_at) {
                    return Err(r.fail("slice outside the earlier bytes"));
                }
                match blob {
                    Some((at, text)) if start >= at && start + len <= at + text.len() => ValueRef::Str(
                        text.get(start - at..start - at + len)
                            .ok_or_else(|| r.fail("slice not on character boundaries"))?,
                    ),
                    _ => ValueRef::Str(r.text_at(start, len)?),
                }
            }
            UINT => {
                let v = r.varint()?;
                i64::try_from(v).map_or(ValueRef::UInt(v), ValueRef::Int)
            }
            INT => {
                let v = r.varint()?;
                ValueRef::Int(((v >> 1) as i64) ^ -((v & 1) as i64))
            }
            FLOAT => ValueRef::Float(f64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"))),
            FALSE => ValueRef::Bool(false),
            TRUE => ValueRef::Bool(true),
            EMPTY_OBJECT => {
                f(Entry::EmptyObject { path });
                continue;
            }
            _ => return Err(r.fail("unknown kind")),
        };
        f(Entry::Leaf { path, value, array: head & ARRAY != 0 });
    }
    Ok(())
}

struct Reader<'r> {
    b: &'r [u8],
    pos: usize,
}

impl<'r> Reader<'r> {
    fn fail(&self, what: &'static str) -> CompactError {
        CompactError { what, at: self.pos }
    }

    // The readers below are `#[inline]`: `for_each_entry` is generic and built in the crates
    // that call it (the indexer), where calls into this crate are not inlined otherwise; a
    // leaf costs a handful of these.
    #[inline]
    fn byte(&mut self) -> Result<u8, CompactError> {
        let b = *self.b.get(self.pos).ok_or_else(|| self.fail("unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, CompactError> {
        // Nearly every length and path index is below 128: one byte.
        if let Some(&b) = self.b.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        self.long_varint()
    }

    fn long_varint(&mut self) -> Result<u64, CompactError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.fail("varint too long"))
    }

    #[inline]
    fn len(&mut self) -> Result<usize, CompactError> {
        usize::try_from(self.varint()?).map_err(|_| self.fail("length too large"))
    }

    #[inline]
    fn take(&mut self, len: usize) -> Result<&'r [u8], CompactError> {
        let end =
            self.pos.checked_add(len).filter(|&e| e <= self.b.len()).ok_or_else(|| self.fail("unexpected end"))?;
        let bytes = &self.b[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// `len` bytes at `start` as text.
    #[inline]
    fn text_at(&self, start: usize, len: usize) -> Result<&'r str, CompactError> {
        let end = start.checked_add(len).filter(|&e| e <= self.b.len()).ok_or_else(|| self.fail("unexpected end"))?;
        let bytes = &self.b[start..end];
        // Most values are a few bytes of ASCII, which `is_ascii` checks inline a word at a
        // time; the validator's call costs more than that for them.
        if bytes.is_ascii() {
            // SAFETY: ASCII bytes are valid UTF-8.
            return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
        }
        simdutf8::basic::from_utf8(bytes).map_err(|_| self.fail("text not UTF-8"))
    }

    #[inline]
    fn path(&mut self) -> Result<&'r str, CompactError> {
        match self.byte()? {
            INLINE_PATH => self.inline_path(),
            i => KNOWN_PATHS.get(i as usize).copied().ok_or_else(|| self.fail("unknown path index")),
        }
    }

    /// A path written out in the record (one outside the known ones: rare).
    fn inline_path(&mut self) -> Result<&'r str, CompactError> {
        let len = self.len()?;
        let at = self.pos;
        let path = self.text_at(at, len)?;
        self.pos += len;
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(CompactError { what: "empty key in a path", at });
        }
        Ok(path)
    }
}
