//! Domain names and their lists, laid out for lookups that mostly miss: a probe touches one
//! 64-bit hash in a table and compares the name only when the hash is there. With a million
//! names, a lookup walks four or five suffixes of a host; each probe costs one cache miss
//! instead of two.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use foldhash::fast::FixedState;

use crate::matcher::Span;

const NONE: u32 = u32::MAX;

#[derive(Debug)]
struct Slot {
    name_start: u32,
    name_len: u32,
    span: Span,
    /// The next name with the same 64-bit hash (practically never).
    next: u32,
}

#[derive(Debug)]
pub(crate) struct DomainTable {
    hasher: FixedState,
    first: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    slots: Vec<Slot>,
    names: String,
}

impl DomainTable {
    pub(crate) fn new(entries: impl ExactSizeIterator<Item = (String, Span)>) -> DomainTable {
        let mut t = DomainTable {
            hasher: FixedState::with_seed(0x6d61_6d6f_7269),
            first: HashMap::with_capacity_and_hasher(entries.len(), Default::default()),
            slots: Vec::with_capacity(entries.len()),
            names: String::new(),
        };
        for (name, span) in entries {
            let h = t.hasher.hash_one(name.as_str());
            let slot = t.slots.len() as u32;
            let next = t.first.insert(h, slot).unwrap_or(NONE);
            t.slots.push(Slot { name_start: t.names.len() as u32, name_len: name.len() as u32, span, next });
            t.names.push_str(&name);
        }
        t
    }

    pub(crate) fn get(&self, name: &str) -> Option<Span> {
        let mut i = *self.first.get(&self.hasher.hash_one(name))?;
        while i != NONE {
            let s = &self.slots[i as usize];
            if &self.names[s.name_start as usize..(s.name_start + s.name_len) as usize] == name {
                return Some(s.span);
            }
            i = s.next;
        }
        None
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

/// The keys are already hashes.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
