//! The `toks` stream: the numbers taken out of tokenised strings, split by context.
//!
//! A number's *context* is the (up to) 8 template bytes before it in its string: `port `,
//! `SRC=\xff.` (the second octet of an address), `:\xfe\x02:` (the seconds of a time). Numbers
//! of one context go to one sub-stream, so that the slowly changing ones (a header's day and
//! hour, a PRI) sit together and cost nearly nothing, instead of breaking up zstd's matches
//! between random ones (ports, ids). Sub-streams are numbered by the first appearance of
//! their context, identically on both sides, from 1 up to [`MAX_CONTEXTS`]; numbers of any
//! later new context share sub-stream 0.
//!
//! ```text
//! toks = varint(n) varint(len << 1 | delta)*n  sub-stream 0 .. sub-stream n-1
//! ```
//!
//! Each sub-stream is a run of varints: the numbers themselves, or (`delta` set, when that
//! is smaller) zigzag deltas from the sub-stream's previous number (uptimes, epoch seconds).

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::varint::{self, Reader};

/// Sub-streams per column at most (besides the shared one).
pub const MAX_CONTEXTS: usize = 4096;

fn key(ctx: &[u8]) -> u128 {
    let mut k = [0u8; 16];
    let n = ctx.len().min(8);
    k[..n].copy_from_slice(&ctx[ctx.len() - n..]);
    k[15] = n as u8;
    u128::from_le_bytes(k)
}

/// Contexts to sub-stream ids, alike for writer and reader. A small direct-mapped cache in
/// front of the (DoS-resistant, slower) hash map: a line format uses the same few contexts
/// on every line.
struct Contexts {
    ids: HashMap<u128, usize>,
    cache: Vec<(u128, usize)>,
}

const CACHE: usize = 256;

impl Default for Contexts {
    fn default() -> Self {
        Contexts {
            ids: HashMap::new(),
            // No key is u128::MAX (a key's last byte is its length, at most 8), so the empty
            // cache holds no valid entry.
            cache: vec![(u128::MAX, 0); CACHE],
        }
    }
}

impl Contexts {
    fn id(&mut self, ctx: &[u8]) -> usize {
        let k = key(ctx);
        let slot = ((k as u64 ^ (k >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize;
        if self.cache[slot].0 == k {
            return self.cache[slot].1;
        }
        let next = self.ids.len() + 1;
        let id = if next > MAX_CONTEXTS {
            self.ids.get(&k).copied().unwrap_or(0)
        } else {
            *self.ids.entry(k).or_insert(next)
        };
        self.cache[slot] = (k, id);
        id
    }
}

#[derive(Default)]
pub struct TokWriter {
    contexts: Contexts,
    values: Vec<Vec<u64>>,
}

/// A sub-stream's numbers as varints, as deltas (zigzag) when that is smaller.
fn encode(values: &[u64]) -> (bool, Vec<u8>) {
    let plain: usize = values.iter().map(|v| varint::len_u64(*v)).sum();
    let mut prev = 0u64;
    let delta: usize = values
        .iter()
        .map(|&v| {
            let d = varint::zigzag(v.wrapping_sub(prev) as i64);
            prev = v;
            varint::len_u64(d)
        })
        .sum();
    let mut out = Vec::with_capacity(plain.min(delta));
    let mut prev = 0u64;
    for &v in values {
        if delta < plain {
            varint::put_u64(&mut out, varint::zigzag(v.wrapping_sub(prev) as i64));
        } else {
            varint::put_u64(&mut out, v);
        }
        prev = v;
    }
    (delta < plain, out)
}

impl TokWriter {
    pub fn push(&mut self, ctx: &[u8], value: u64) {
        let id = self.contexts.id(ctx);
        if self.values.len() <= id {
            self.values.resize_with(id + 1, Vec::new);
        }
        self.values[id].push(value);
    }

    pub fn finish(self) -> Vec<u8> {
        if self.values.is_empty() {
            return Vec::new();
        }
        let streams: Vec<(bool, Vec<u8>)> = self.values.iter().map(|v| encode(v)).collect();
        let mut out = Vec::new();
        varint::put_u64(&mut out, streams.len() as u64);
        for (delta, s) in &streams {
            varint::put_u64(&mut out, (s.len() as u64) << 1 | u64::from(*delta));
        }
        for (_, s) in &streams {
            out.extend_from_slice(s);
        }
        out
    }
}

pub struct TokReader<'a> {
    contexts: Contexts,
    /// Each sub-stream, whether it holds deltas, and its previous number.
    streams: Vec<(Reader<'a>, bool, u64)>,
}

impl<'a> TokReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        let mut streams = Vec::new();
        if !bytes.is_empty() {
            let mut r = Reader::new(bytes, "toks");
            let n = r.len("sub-stream count")?;
            if n > MAX_CONTEXTS + 1 {
                return Err(Error::damaged(format!("toks: {n} sub-streams")));
            }
            let lens = (0..n).map(|_| r.u64()).collect::<Result<Vec<_>>>()?;
            for len in lens {
                let bytes = r.bytes(usize::try_from(len >> 1).unwrap_or(usize::MAX))?;
                streams.push((Reader::new(bytes, "toks"), len & 1 == 1, 0));
            }
            if !r.is_empty() {
                return Err(Error::damaged("toks: bytes after the last sub-stream"));
            }
        }
        Ok(TokReader { contexts: Contexts::default(), streams })
    }

    pub fn next(&mut self, ctx: &[u8]) -> Result<u64> {
        let id = self.contexts.id(ctx);
        let (r, delta, prev) =
            self.streams.get_mut(id).ok_or_else(|| Error::damaged(format!("toks: no sub-stream {id}")))?;
        let x = r.u64()?;
        let v = if *delta { prev.wrapping_add(varint::unzigzag(x) as u64) } else { x };
        *prev = v;
        Ok(v)
    }

    /// Whether every sub-stream was read to its end.
    pub fn is_empty(&self) -> bool {
        self.streams.iter().all(|(r, _, _)| r.is_empty())
    }
}
