//! Building the token table of a full-text column: each distinct token once, and the rows it
//! occurs in.
//!
//! Tokens are numbered as they first appear and their bytes kept in one buffer; each
//! occurrence is one `(token, row)` pair appended to a list. Writing sorts only the distinct
//! tokens and places the rows with a counting pass, so no token costs an allocation of its own.
//! The rows are written delta-coded (see `column.rs`).

use hashbrown::HashTable;

use super::bytes::{put_u32, put_varint};
use super::column_builder::hash_bytes;
use super::same::same_bytes;

/// No row yet.
const NONE: u32 = u32::MAX;

#[derive(Default)]
pub struct TokenBuilder {
    /// Token ids, found by the token's bytes.
    table: HashTable<u32>,
    bytes: Vec<u8>,
    /// End of each token's bytes in `bytes`.
    ends: Vec<u32>,
    /// The last row each token was recorded for, so a row lists a token once.
    last_row: Vec<u32>,
    /// `(token, row)` in row order.
    postings: Vec<(u32, u32)>,
    /// Scratch of `write`, kept: a block's token table needs megabytes, and memory freed and
    /// taken again for every block costs page faults.
    scratch: WriteScratch,
}

#[derive(Default)]
struct WriteScratch {
    counts: Vec<u32>,
    /// `(first eight bytes big-endian, token)`: sorting by the prefix first settles most
    /// comparisons with one integer compare instead of two slice lookups and a `memcmp`.
    keyed: Vec<(u64, u32)>,
    sorted: Vec<u32>,
    next: Vec<u32>,
    rows: Vec<u32>,
}

impl TokenBuilder {
    /// Records the tokens of `text` for `row` (rows come in ascending order).
    pub fn push(&mut self, row: u32, text: &str) {
        mamori_query::text::for_each_token(text, |t, _, _| {
            let id = self.intern(t.as_bytes());
            let last = &mut self.last_row[id as usize];
            if *last != row {
                *last = row;
                self.postings.push((id, row));
            }
        });
    }

    /// Removes the occurrences of `row`, the last row. Tokens seen only there stay known but
    /// without rows, and are not written.
    pub fn forget(&mut self, row: u32) {
        while let Some(&(id, r)) = self.postings.last()
            && r == row
        {
            self.postings.pop();
            self.last_row[id as usize] = NONE;
        }
    }

    pub fn clear(&mut self) {
        self.table.clear();
        self.bytes.clear();
        self.ends.clear();
        self.last_row.clear();
        self.postings.clear();
    }

    fn token(&self, id: u32) -> &[u8] {
        token_of(&self.bytes, &self.ends, id)
    }

    fn intern(&mut self, t: &[u8]) -> u32 {
        let hash = hash_bytes(t);
        let (bytes, ends) = (&self.bytes, &self.ends);
        if let Some(&id) = self.table.find(hash, |&id| same_bytes(token_of(bytes, ends, id), t)) {
            return id;
        }
        let id = self.ends.len() as u32;
        self.bytes.extend_from_slice(t);
        self.ends.push(self.bytes.len() as u32);
        self.last_row.push(NONE);
        let (bytes, ends) = (&self.bytes, &self.ends);
        self.table.insert_unique(hash, id, |&id| hash_bytes(token_of(bytes, ends, id)));
        id
    }

    /// Appends the table: tokens sorted bytewise, each with its rows in ascending order.
    pub fn write(&mut self, out: &mut Vec<u8>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        self.write_with(out, &mut scratch);
        self.scratch = scratch;
    }

    fn write_with(&self, out: &mut Vec<u8>, scratch: &mut WriteScratch) {
        let WriteScratch { counts, keyed, sorted, next, rows } = scratch;
        counts.clear();
        counts.resize(self.ends.len(), 0);
        for &(id, _) in &self.postings {
            counts[id as usize] += 1;
        }
        keyed.clear();
        keyed.extend(
            (0..self.ends.len() as u32)
                .filter(|&id| counts[id as usize] > 0)
                .map(|id| (prefix_key(self.token(id)), id)),
        );
        // A zero-padded key never orders against the bytes (a prefix pads below its
        // extensions); tokens that share their first eight bytes tie and the rest decides.
        keyed.sort_unstable_by(|&(ka, a), &(kb, b)| ka.cmp(&kb).then_with(|| self.token(a).cmp(self.token(b))));
        sorted.clear();
        sorted.extend(keyed.iter().map(|&(_, id)| id));

        put_u32(out, sorted.len() as u32);
        let mut end = 0u32;
        for &id in sorted.iter() {
            end += self.token(id).len() as u32;
            put_u32(out, end);
        }
        put_u32(out, end);
        sorted.iter().for_each(|&id| out.extend_from_slice(self.token(id)));

        // Each token's first slot in the row list, in sorted order; postings are in row order,
        // so filling the slots in that order keeps each token's rows ascending.
        next.clear();
        next.resize(self.ends.len(), 0);
        let mut end = 0u32;
        for &id in sorted.iter() {
            next[id as usize] = end;
            end += counts[id as usize];
        }
        rows.clear();
        rows.resize(end as usize, 0);
        for &(id, row) in &self.postings {
            let slot = &mut next[id as usize];
            rows[*slot as usize] = row;
            *slot += 1;
        }
        // Each token's rows as a first row and then differences, as varints: most differences
        // are small, so a row costs one or two bytes instead of four.
        let ends_at = out.len();
        out.resize(ends_at + 4 * sorted.len() + 4, 0);
        let packed_at = out.len();
        let mut from = 0usize;
        for (k, &id) in sorted.iter().enumerate() {
            let to = from + counts[id as usize] as usize;
            let mut previous = None;
            for &row in &rows[from..to] {
                put_varint(out, previous.map_or(row, |p| row - p));
                previous = Some(row);
            }
            from = to;
            let end = (out.len() - packed_at) as u32;
            out[ends_at + 4 * k..ends_at + 4 * k + 4].copy_from_slice(&end.to_le_bytes());
        }
        let total = (out.len() - packed_at) as u32;
        out[packed_at - 4..packed_at].copy_from_slice(&total.to_le_bytes());
    }
}

/// The first eight bytes of `t` as a big-endian integer, zero-padded: keys order as the
/// bytes do, up to ties among tokens that share those bytes.
fn prefix_key(t: &[u8]) -> u64 {
    let mut k = [0u8; 8];
    let n = t.len().min(8);
    k[..n].copy_from_slice(&t[..n]);
    u64::from_be_bytes(k)
}

fn token_of<'a>(bytes: &'a [u8], ends: &[u32], id: u32) -> &'a [u8] {
    let start = if id == 0 { 0 } else { ends[id as usize - 1] as usize };
    &bytes[start..ends[id as usize] as usize]
}
