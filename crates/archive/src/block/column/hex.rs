//! 32-character hex ids in the `hexes` stream.
//!
//! mamori's event ids are UUIDv7 (RFC 9562) written as 32 lowercase hex digits: 48 bits of
//! Unix milliseconds, the version 7, 12 bits of per-process salt, the variant bits and a
//! 62-bit counter. Two codings, chosen per value:
//!
//! - `HEX_V7`, for a UUIDv7 in an event that already has a timestamp: the milliseconds as a
//!   zigzag delta from that timestamp (the id is made when the event is received, so this is
//!   the receive delay), then zigzag deltas of the low 16 bits of the high half (version and
//!   salt, constant) and of the low half (the counter) from the column's previous id;
//! - `HEX32`, for anything else: the column's first id as two plain varints, later ones as
//!   zigzag deltas of both halves from the previous id, the high half's shifted right by the
//!   column's `hex_shift` (the trailing zero bits every such delta has).
//!
//! Either way, a UUIDv7's milliseconds then become the event's latest timestamp, so that a
//! later `event.ingested` is coded as the microseconds after the id's millisecond.

use super::super::text;
use crate::error::{Error, Result};
use crate::varint::{self, Reader};

const NANOS_PER_MS: i128 = 1_000_000;

/// The milliseconds of a UUIDv7 given as its two halves.
pub fn v7_millis(hi: u64, lo: u64) -> Option<i64> {
    ((hi >> 12) & 0xf == 7 && lo >> 62 == 0b10).then_some((hi >> 16) as i64)
}

/// The event timestamp a UUIDv7 stands for.
pub fn v7_nanos(ms: i64) -> i128 {
    i128::from(ms) * NANOS_PER_MS
}

/// The millisecond a timestamp in nanoseconds falls in.
pub fn millis_of(nanos: i128) -> i64 {
    nanos.div_euclid(NANOS_PER_MS) as i64
}

/// One id waiting for the column to be finished.
pub struct HexCell {
    pub hi: u64,
    pub lo: u64,
    /// For `HEX_V7`: the millisecond of the event's timestamp it is coded from.
    pub base_ms: Option<i64>,
}

/// Writes the `hexes` stream; returns the shift and the stream.
pub fn encode(cells: &[HexCell]) -> (u8, Vec<u8>) {
    let shift = cells
        .windows(2)
        .filter(|w| w[1].base_ms.is_none())
        .map(|w| w[1].hi.wrapping_sub(w[0].hi))
        .filter(|d| *d != 0)
        .map(u64::trailing_zeros)
        .min()
        .unwrap_or(0)
        .min(63);
    let mut out = Vec::new();
    let mut prev: Option<(u64, u64)> = None;
    for c in cells {
        let (phi, plo) = prev.unwrap_or((0, 0));
        match (c.base_ms, prev) {
            (Some(base), _) => {
                let ms = (c.hi >> 16) as i64;
                varint::put_u64(&mut out, varint::zigzag(ms.wrapping_sub(base)));
                let low = (c.hi & 0xffff) as i64 - (phi & 0xffff) as i64;
                varint::put_u64(&mut out, varint::zigzag(low));
            }
            (None, None) => varint::put_u64(&mut out, c.hi),
            (None, Some(_)) => {
                let d = (c.hi.wrapping_sub(phi) as i64) >> shift;
                varint::put_u64(&mut out, varint::zigzag(d));
            }
        }
        if prev.is_none() && c.base_ms.is_none() {
            varint::put_u64(&mut out, c.lo);
        } else {
            varint::put_u64(&mut out, varint::zigzag(c.lo.wrapping_sub(plo) as i64));
        }
        prev = Some((c.hi, c.lo));
    }
    (shift as u8, out)
}

/// Reads ids back.
#[derive(Default)]
pub struct HexReader {
    prev: Option<(u64, u64)>,
}

impl HexReader {
    /// The next id; `base_ms` is given for `HEX_V7`.
    pub fn next(&mut self, r: &mut Reader<'_>, shift: u8, base_ms: Option<i64>) -> Result<String> {
        let (phi, plo) = self.prev.unwrap_or((0, 0));
        let hi = match (base_ms, self.prev) {
            (Some(base), _) => {
                let ms = base.wrapping_add(varint::unzigzag(r.u64()?));
                let low = ((phi & 0xffff) as i64).wrapping_add(varint::unzigzag(r.u64()?));
                if !(0..1 << 48).contains(&ms) || !(0..=0xffff).contains(&low) {
                    return Err(Error::damaged("a UUIDv7 id out of range"));
                }
                ((ms as u64) << 16) | low as u64
            }
            (None, None) => r.u64()?,
            (None, Some(_)) => {
                let d = varint::unzigzag(r.u64()?).wrapping_shl(u32::from(shift));
                phi.wrapping_add(d as u64)
            }
        };
        let lo = if self.prev.is_none() && base_ms.is_none() {
            r.u64()?
        } else {
            plo.wrapping_add(varint::unzigzag(r.u64()?) as u64)
        };
        self.prev = Some((hi, lo));
        Ok(text::format_hex32(hi, lo))
    }
}
