//! Building one column of a block (the layout is described in `column.rs`).
//!
//! The indexer adds every leaf of every event here, so this is the hottest code of ingestion:
//! distinct strings are kept once, inside the dictionary bytes themselves, and the builder is
//! cleared rather than dropped between blocks so its memory is reused.

use hashbrown::HashTable;
use mamori_query::ValueRef;
use rustc_hash::FxHashMap;

use super::bytes::{put_u32, put_u64};
use super::column::{FLAG_PACKED_ROWS, FLAG_SPARSE, FLAG_TOKENS};
use super::same::same_bytes;
use super::token_builder::TokenBuilder;

/// A column being built.
pub struct ColumnBuilder {
    dict: Vec<u8>,
    dict_len: u32,
    /// `(code, offset of the string's length prefix in dict)` of every distinct string.
    strs: HashTable<(u32, u32)>,
    ints: FxHashMap<i64, u32>,
    uints: FxHashMap<u64, u32>,
    floats: FxHashMap<u64, u32>,
    bools: [Option<u32>; 2],
    /// `(row, code)` in row order.
    rows: Vec<u32>,
    codes: Vec<u32>,
    /// Dictionary bytes and entries before the last row's values, to undo that row.
    before_last_row: (usize, u32),
    tokens: Option<TokenBuilder>,
}

impl ColumnBuilder {
    pub fn new(text: bool) -> Self {
        ColumnBuilder {
            dict: Vec::new(),
            dict_len: 0,
            strs: HashTable::new(),
            ints: FxHashMap::default(),
            uints: FxHashMap::default(),
            floats: FxHashMap::default(),
            bools: [None; 2],
            rows: Vec::new(),
            codes: Vec::new(),
            before_last_row: (0, 0),
            tokens: text.then(TokenBuilder::default),
        }
    }

    /// Adds a value of `row` (rows come in ascending order).
    pub fn push(&mut self, row: u32, v: ValueRef<'_>) {
        if self.rows.last() != Some(&row) {
            self.before_last_row = (self.dict.len(), self.dict_len);
        }
        let code = self.code(v);
        self.rows.push(row);
        self.codes.push(code);
    }

    /// Adds the tokens of a full-text value of `row`.
    pub fn push_tokens(&mut self, row: u32, text: &str) {
        if let Some(tokens) = &mut self.tokens {
            tokens.push(row, text);
        }
    }

    /// Removes everything of `row` (the last row; its event turned out to be malformed),
    /// including the dictionary entries it added.
    pub fn forget(&mut self, row: u32) {
        if self.rows.last() == Some(&row) {
            let (bytes, entries) = self.before_last_row;
            self.dict.truncate(bytes);
            self.dict_len = entries;
            self.strs.retain(|&mut (code, _)| code < entries);
            self.ints.retain(|_, code| *code < entries);
            self.uints.retain(|_, code| *code < entries);
            self.floats.retain(|_, code| *code < entries);
            self.bools.iter_mut().for_each(|b| *b = b.filter(|&code| code < entries));
        }
        while self.rows.last() == Some(&row) {
            self.rows.pop();
            self.codes.pop();
        }
        if let Some(tokens) = &mut self.tokens {
            tokens.forget(row);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Empties the column, keeping its memory for the next block.
    pub fn clear(&mut self) {
        self.dict.clear();
        self.dict_len = 0;
        self.strs.clear();
        self.ints.clear();
        self.uints.clear();
        self.floats.clear();
        self.bools = [None; 2];
        self.rows.clear();
        self.codes.clear();
        if let Some(tokens) = &mut self.tokens {
            tokens.clear();
        }
    }

    fn code(&mut self, v: ValueRef<'_>) -> u32 {
        let next = self.dict_len;
        let (code, new) = match v {
            ValueRef::Str(s) => self.string_code(s, next),
            ValueRef::Int(i) => lookup(&mut self.ints, i, next, &mut self.dict, 1, i as u64),
            ValueRef::UInt(u) => lookup(&mut self.uints, u, next, &mut self.dict, 2, u),
            ValueRef::Float(f) => lookup(&mut self.floats, f.to_bits(), next, &mut self.dict, 3, f.to_bits()),
            ValueRef::Bool(b) => match self.bools[b as usize] {
                Some(c) => (c, false),
                None => {
                    self.bools[b as usize] = Some(next);
                    self.dict.push(4);
                    self.dict.push(b as u8);
                    (next, true)
                }
            },
        };
        if new {
            self.dict_len += 1;
        }
        code
    }

    fn string_code(&mut self, s: &str, next: u32) -> (u32, bool) {
        let dict = &self.dict;
        let hash = hash_bytes(s.as_bytes());
        if let Some(&(code, _)) = self.strs.find(hash, |&(_, at)| same_bytes(dict_str(dict, at), s.as_bytes())) {
            return (code, false);
        }
        let at = self.dict.len() as u32 + 1;
        self.dict.push(0);
        put_u32(&mut self.dict, s.len() as u32);
        self.dict.extend_from_slice(s.as_bytes());
        let dict = &self.dict;
        self.strs.insert_unique(hash, (next, at), |&(_, at)| hash_bytes(dict_str(dict, at)));
        (next, true)
    }

    /// Appends the column's bytes to `out` (the column must not be empty).
    pub fn write(&mut self, rows: usize, out: &mut Vec<u8>) {
        let dense = self.rows.windows(2).all(|w| w[0] < w[1]);
        let mut flags = if dense { 0 } else { FLAG_SPARSE };
        if self.tokens.is_some() {
            flags |= FLAG_TOKENS | FLAG_PACKED_ROWS;
        }
        out.push(flags);
        put_u32(out, self.dict_len);
        put_u32(out, self.dict.len() as u32);
        out.extend_from_slice(&self.dict);
        if dense {
            let width: usize = match self.dict_len + 1 {
                0..=0xff => 1,
                0x100..=0xffff => 2,
                _ => 4,
            };
            out.push(width as u8);
            let start = out.len();
            out.resize(start + rows * width, 0);
            for (&row, &code) in self.rows.iter().zip(&self.codes) {
                let at = start + row as usize * width;
                out[at..at + width].copy_from_slice(&(code + 1).to_le_bytes()[..width]);
            }
        } else {
            put_u32(out, self.rows.len() as u32);
            self.rows.iter().for_each(|&r| put_u32(out, r));
            self.codes.iter().for_each(|&c| put_u32(out, c));
        }
        if let Some(tokens) = &mut self.tokens {
            tokens.write(out);
        }
    }
}

/// The string whose length prefix sits at `at` in the dictionary bytes.
fn dict_str(dict: &[u8], at: u32) -> &[u8] {
    let at = at as usize;
    let len = u32::from_le_bytes(dict[at..at + 4].try_into().expect("4 bytes")) as usize;
    &dict[at + 4..at + 4 + len]
}

pub(super) fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(b);
    h.finish()
}

fn lookup<K: std::hash::Hash + Eq>(
    map: &mut FxHashMap<K, u32>,
    key: K,
    next: u32,
    dict: &mut Vec<u8>,
    tag: u8,
    bits: u64,
) -> (u32, bool) {
    match map.entry(key) {
        std::collections::hash_map::Entry::Occupied(e) => (*e.get(), false),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(next);
            dict.push(tag);
            put_u64(dict, bits);
            (next, true)
        }
    }
}
