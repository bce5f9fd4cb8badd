//! One column of a block: the distinct values (dictionary), the values of each row as codes,
//! and for full-text fields the rows of each token.
//!
//! ```text
//! flags u8        bit 0: token table follows; bit 1: sparse rows (else dense)
//! dictionary      n u32, bytes u32, n × (tag u8, value): 0 string (u32 len, UTF-8), 1 i64,
//!                 2 u64, 3 f64 bits, 4 bool (u8)
//! dense rows      width u8 (1, 2 or 4), rows × code (0: no value, c + 1: dictionary entry c)
//! sparse rows     n u32, n × row u32, n × code u32 (rows ascending; several values a row)
//! tokens          n u32, n × end u32 (token text ends), len u32, texts, n × end u32 (row
//!                 list ends), total u32, total × row u32; tokens sorted bytewise
//! ```

use mamori_query::ValueRef;
use rustc_hash::FxHashMap;

use super::BlockError;
use super::bytes::{Cursor, U32s, put_u32, put_u64};

const FLAG_TOKENS: u8 = 1;
const FLAG_SPARSE: u8 = 2;

/// A column being built.
pub struct ColumnBuilder {
    dict: Vec<u8>,
    dict_len: u32,
    strs: FxHashMap<Box<str>, u32>,
    ints: FxHashMap<i64, u32>,
    uints: FxHashMap<u64, u32>,
    floats: FxHashMap<u64, u32>,
    bools: [Option<u32>; 2],
    /// `(row, code)` in row order.
    rows: Vec<u32>,
    codes: Vec<u32>,
    tokens: Option<FxHashMap<Box<str>, Vec<u32>>>,
}

impl ColumnBuilder {
    pub fn new(text: bool) -> Self {
        ColumnBuilder {
            dict: Vec::new(),
            dict_len: 0,
            strs: FxHashMap::default(),
            ints: FxHashMap::default(),
            uints: FxHashMap::default(),
            floats: FxHashMap::default(),
            bools: [None; 2],
            rows: Vec::new(),
            codes: Vec::new(),
            tokens: text.then(FxHashMap::default),
        }
    }

    /// Adds a value of `row` (rows come in ascending order).
    pub fn push(&mut self, row: u32, v: ValueRef<'_>) {
        let code = self.code(v);
        self.rows.push(row);
        self.codes.push(code);
    }

    /// Adds the tokens of a full-text value of `row`.
    pub fn push_tokens(&mut self, row: u32, text: &str) {
        if let Some(tokens) = &mut self.tokens {
            mamori_query::text::for_each_token(text, |t, _, _| match tokens.get_mut(t) {
                Some(rows) => {
                    if rows.last() != Some(&row) {
                        rows.push(row)
                    }
                }
                None => {
                    tokens.insert(t.into(), vec![row]);
                }
            });
        }
    }

    /// Removes everything of `row` (the last row; its event turned out to be malformed).
    pub fn forget(&mut self, row: u32) {
        while self.rows.last() == Some(&row) {
            self.rows.pop();
            self.codes.pop();
        }
        if let Some(tokens) = &mut self.tokens {
            tokens.retain(|_, rows| {
                if rows.last() == Some(&row) {
                    rows.pop();
                }
                !rows.is_empty()
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn code(&mut self, v: ValueRef<'_>) -> u32 {
        let next = self.dict_len;
        let (code, new) = match v {
            ValueRef::Str(s) => match self.strs.get(s) {
                Some(&c) => (c, false),
                None => {
                    self.strs.insert(s.into(), next);
                    self.dict.push(0);
                    put_u32(&mut self.dict, s.len() as u32);
                    self.dict.extend_from_slice(s.as_bytes());
                    (next, true)
                }
            },
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

    /// Appends the column's bytes to `out`.
    pub fn write(self, rows: usize, out: &mut Vec<u8>) {
        let dense = self.rows.windows(2).all(|w| w[0] < w[1]);
        let mut flags = if dense { 0 } else { FLAG_SPARSE };
        if self.tokens.is_some() {
            flags |= FLAG_TOKENS;
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
        if let Some(tokens) = self.tokens {
            let mut sorted: Vec<(Box<str>, Vec<u32>)> = tokens.into_iter().collect();
            sorted.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            put_u32(out, sorted.len() as u32);
            let mut end = 0u32;
            for (t, _) in &sorted {
                end += t.len() as u32;
                put_u32(out, end);
            }
            put_u32(out, end);
            sorted.iter().for_each(|(t, _)| out.extend_from_slice(t.as_bytes()));
            let mut end = 0u32;
            for (_, rows) in &sorted {
                end += rows.len() as u32;
                put_u32(out, end);
            }
            put_u32(out, end);
            sorted.iter().flat_map(|(_, rows)| rows).for_each(|&r| put_u32(out, r));
        }
    }
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

/// How a column's rows are stored.
#[derive(Clone, Copy)]
pub enum RowCodes<'a> {
    /// At most one value per row: `width`-byte codes, 0 for none.
    Dense { width: usize, codes: &'a [u8] },
    /// `(row, code)` pairs in row order.
    Sparse { rows: U32s<'a>, codes: U32s<'a> },
}

/// A column of a block, read in place. Nothing is decoded or checked up front: a search may
/// need only the token table of a text column, or only a few codes. Accessors check bounds as
/// they go, so a damaged column yields wrong rows at worst, never a panic.
pub struct ColumnReader<'a> {
    dict_len: usize,
    dict_bytes: &'a [u8],
    dict: std::cell::OnceCell<Result<Vec<ValueRef<'a>>, BlockError>>,
    pub rows: RowCodes<'a>,
    n_rows: usize,
    tokens: Option<Tokens<'a>>,
}

struct Tokens<'a> {
    ends: U32s<'a>,
    texts: &'a [u8],
    posting_ends: U32s<'a>,
    postings: U32s<'a>,
}

impl<'a> ColumnReader<'a> {
    pub fn parse(bytes: &'a [u8], rows: usize) -> Result<ColumnReader<'a>, BlockError> {
        let mut c = Cursor::new(bytes);
        let flags = c.u8()?;
        let dict_len = c.u32()? as usize;
        let dict_size = c.u32()? as usize;
        let dict_bytes = c.take(dict_size)?;
        let row_codes = if flags & FLAG_SPARSE == 0 {
            let width = c.u8()? as usize;
            if !matches!(width, 1 | 2 | 4) {
                return Err(BlockError(format!("code width {width}")));
            }
            RowCodes::Dense { width, codes: c.take(rows * width)? }
        } else {
            let len = c.u32()? as usize;
            RowCodes::Sparse { rows: U32s(c.take(len.saturating_mul(4))?), codes: U32s(c.take(len.saturating_mul(4))?) }
        };
        let tokens = if flags & FLAG_TOKENS != 0 {
            let n = c.u32()? as usize;
            let ends = U32s(c.take(n.saturating_mul(4))?);
            let len = c.u32()? as usize;
            let texts = c.take(len)?;
            let posting_ends = U32s(c.take(n.saturating_mul(4))?);
            let total = c.u32()? as usize;
            let postings = U32s(c.take(total.saturating_mul(4))?);
            Some(Tokens { ends, texts, posting_ends, postings })
        } else {
            None
        };
        Ok(ColumnReader { dict_len, dict_bytes, dict: Default::default(), rows: row_codes, n_rows: rows, tokens })
    }

    /// The distinct values, decoded on first use.
    pub fn dict(&self) -> Result<&[ValueRef<'a>], BlockError> {
        match self.dict.get_or_init(|| decode_dict(self.dict_bytes, self.dict_len)) {
            Ok(d) => Ok(d),
            Err(e) => Err(BlockError(e.0.clone())),
        }
    }

    /// Calls `f(row, code)` for every value whose row and code are in range.
    pub fn for_each(&self, mut f: impl FnMut(usize, usize)) {
        let (rows, n) = (self.n_rows, self.dict_len);
        match self.rows {
            RowCodes::Dense { width, codes } => match width {
                1 => codes.iter().enumerate().for_each(|(row, &c)| {
                    if c != 0 && (c as usize) <= n {
                        f(row, c as usize - 1)
                    }
                }),
                _ => {
                    for row in 0..codes.len() / width {
                        if let Some(c) = dense_code(width, codes, row).filter(|&c| (c as usize) < n) {
                            f(row, c as usize)
                        }
                    }
                }
            },
            RowCodes::Sparse { rows: rs, codes } => rs.iter().zip(codes.iter()).for_each(|(r, c)| {
                if (r as usize) < rows && (c as usize) < n {
                    f(r as usize, c as usize)
                }
            }),
        }
    }

    /// The number of tokens in the token table (0 for columns without one).
    pub fn token_count(&self) -> usize {
        self.tokens.as_ref().map_or(0, |t| t.ends.len().min(t.posting_ends.len()))
    }

    /// Token `i` of the sorted token table ("" where the table is damaged).
    pub fn token(&self, i: usize) -> &'a str {
        let Some(t) = self.tokens.as_ref() else { return "" };
        let start = if i == 0 { 0 } else { t.ends.get(i - 1) as usize };
        let end = t.ends.get(i) as usize;
        t.texts.get(start..end).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }

    /// The rows holding token `i`.
    pub fn token_rows(&self, i: usize) -> impl Iterator<Item = u32> + '_ {
        let t = self.tokens.as_ref();
        let (start, end) = t.map_or((0, 0), |t| {
            let start = if i == 0 { 0 } else { t.posting_ends.get(i - 1) as usize };
            (start, (t.posting_ends.get(i) as usize).min(t.postings.len()))
        });
        let rows = self.n_rows as u32;
        (start..end.max(start)).filter_map(move |j| t.map(|t| t.postings.get(j)).filter(|&r| r < rows))
    }

    /// The index of `token` in the token table.
    pub fn find_token(&self, token: &str) -> Option<usize> {
        let n = self.token_count();
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.token(mid).as_bytes().cmp(token.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

fn decode_dict(bytes: &[u8], n: usize) -> Result<Vec<ValueRef<'_>>, BlockError> {
    let mut c = Cursor::new(bytes);
    let mut dict = Vec::with_capacity(n.min(bytes.len()));
    for _ in 0..n {
        dict.push(match c.u8()? {
            0 => {
                let len = c.u32()? as usize;
                ValueRef::Str(c.str(len)?)
            }
            1 => ValueRef::Int(c.i64()?),
            2 => ValueRef::UInt(c.u64()?),
            3 => ValueRef::Float(f64::from_bits(c.u64()?)),
            4 => ValueRef::Bool(c.u8()? != 0),
            t => return Err(BlockError(format!("unknown value tag {t}"))),
        });
    }
    Ok(dict)
}

fn dense_code(width: usize, codes: &[u8], row: usize) -> Option<u32> {
    let b = &codes[row * width..row * width + width];
    let v = match width {
        1 => b[0] as u32,
        2 => u16::from_le_bytes([b[0], b[1]]) as u32,
        _ => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
    };
    v.checked_sub(1)
}
