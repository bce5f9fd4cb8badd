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
//!                 list ends), total u32, then the row lists; tokens sorted bytewise
//! row lists       with bit 2 (packed): total bytes of LEB128 varints, each token's first row
//!                 and then the differences to the row before; without it (blocks written
//!                 before packing): total × row u32
//! ```

use mamori_query::ValueRef;

use super::BlockError;
use super::bytes::{Cursor, U32s, get_varint};

pub(super) const FLAG_TOKENS: u8 = 1;
pub(super) const FLAG_SPARSE: u8 = 2;
pub(super) const FLAG_PACKED_ROWS: u8 = 4;

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
    postings: Postings<'a>,
}

/// The row lists of the tokens, one after the other.
enum Postings<'a> {
    /// Row numbers as `u32`; `posting_ends` count rows.
    Plain(U32s<'a>),
    /// Delta-coded varints; `posting_ends` count bytes.
    Packed(&'a [u8]),
}

impl Postings<'_> {
    fn len(&self) -> usize {
        match self {
            Postings::Plain(rows) => rows.len(),
            Postings::Packed(bytes) => bytes.len(),
        }
    }
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
            let postings = if flags & FLAG_PACKED_ROWS != 0 {
                Postings::Packed(c.take(total)?)
            } else {
                Postings::Plain(U32s(c.take(total.saturating_mul(4))?))
            };
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

    /// The rows holding token `i`, ascending.
    pub fn token_rows(&self, i: usize) -> impl Iterator<Item = u32> + '_ {
        let t = self.tokens.as_ref();
        let (start, end) = t.map_or((0, 0), |t| {
            let start = if i == 0 { 0 } else { t.posting_ends.get(i - 1) as usize };
            (start, (t.posting_ends.get(i) as usize).min(t.postings.len()))
        });
        let rows = self.n_rows as u32;
        let (mut at, mut previous) = (start, None::<u32>);
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let row = match &t?.postings {
                Postings::Plain(list) => {
                    at += 1;
                    list.get(at - 1)
                }
                Postings::Packed(bytes) => {
                    let v = get_varint(&bytes[..end], &mut at)?;
                    let row = previous.map_or(Some(v), |p| p.checked_add(v))?;
                    previous = Some(row);
                    row
                }
            };
            Some(row)
        })
        .filter(move |&r| r < rows)
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
