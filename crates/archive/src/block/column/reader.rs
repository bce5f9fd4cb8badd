//! Decoding a column value by value, mirroring the writer. Every read is checked: a damaged
//! column gives an error naming the column and what did not fit, never a panic.

use serde_json::{Number, Value};

use super::super::text::{self, TsForm};
use super::hex;
use super::toks::TokReader;
use super::*;
use crate::error::{Error, Result};
use crate::varint::{self, Reader};

/// Reads one column back, value by value.
pub struct ColumnReader<'a> {
    head: ColumnHead,
    streams: [Reader<'a>; STREAMS],
    ints: IntState,
    prev_time: i128,
    hex: hex::HexReader,
    dict: Vec<String>,
    toks: TokReader<'a>,
}

impl<'a> ColumnReader<'a> {
    pub fn new(head: ColumnHead, mut streams: [Reader<'a>; STREAMS]) -> Result<Self> {
        let toks = TokReader::new(streams[TOKS].rest())
            .map_err(|e| Error::damaged(format!("column {}: {e}", head.path.join("."))))?;
        Ok(ColumnReader {
            head,
            streams,
            ints: IntState::default(),
            prev_time: 0,
            hex: hex::HexReader::default(),
            dict: Vec::new(),
            toks,
        })
    }

    fn err(&self, message: impl std::fmt::Display) -> Error {
        Error::damaged(format!("column {}: {message}", self.head.path.join(".")))
    }

    /// The next value, whose tag and small numbers come from `row`; `earlier` are the values
    /// of the same event decoded before it.
    pub fn next(&mut self, ev: &mut EventState<'_>, earlier: &[Value], row: &mut Reader<'_>) -> Result<Value> {
        self.next_inner(ev, earlier, row).map_err(|e| match e {
            Error::Damaged(m) => self.err(m),
            other => other,
        })
    }

    fn next_inner(&mut self, ev: &mut EventState<'_>, earlier: &[Value], row: &mut Reader<'_>) -> Result<Value> {
        let t = row.u8()?;
        Ok(match t {
            tag::NULL => Value::Null,
            tag::FALSE => Value::Bool(false),
            tag::TRUE => Value::Bool(true),
            tag::INT | tag::INT_WIDE => {
                let z = if t == tag::INT { u64::from(row.u8()?) } else { self.streams[INTS].u64()? };
                let v = self.ints.value(varint::unzigzag(z));
                self.ints.update(v);
                Value::from(v)
            }
            tag::U64 => Value::from(row.u64()?),
            tag::F64 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(self.streams[BYTES].bytes(8)?);
                let f = f64::from_le_bytes(a);
                Value::Number(Number::from_f64(f).ok_or_else(|| Error::damaged(format!("{f} is not a JSON number")))?)
            }
            tag::NUM_TEXT => {
                let s = self.literal()?;
                Value::Number(
                    serde_json::from_str::<Number>(&s).map_err(|_| Error::damaged("a number's text does not parse"))?,
                )
            }
            tag::STR => {
                let s = self.literal()?;
                self.remember(&s);
                Value::String(s)
            }
            tag::TOK_STR => {
                let template = self.streams[BYTES].until(END)?;
                let mut out = Vec::with_capacity(template.len() + template.len() / 2);
                let toks = &mut self.toks;
                text::detokenize(template, &mut |ctx| toks.next(ctx), &mut out)?;
                let s = String::from_utf8(out).map_err(|_| Error::damaged("a tokenised string is not UTF-8"))?;
                self.remember(&s);
                Value::String(s)
            }
            tag::DICT => {
                let i = row.u64()?;
                let s = usize::try_from(i)
                    .ok()
                    .and_then(|i| self.dict.get(i))
                    .ok_or_else(|| Error::damaged(format!("dictionary index {i} of {}", self.dict.len())))?;
                Value::String(s.clone())
            }
            tag::COPY => {
                let back = row.u64()?;
                let v = usize::try_from(back)
                    .ok()
                    .and_then(|b| earlier.len().checked_sub(b))
                    .and_then(|i| earlier.get(i))
                    .filter(|v| v.is_string())
                    .ok_or_else(|| Error::damaged(format!("copy of the value {back} back of {}", earlier.len())))?;
                v.clone()
            }
            tag::REF | tag::REF_END | tag::REF_B | tag::REF_END_B => {
                let o = ev.original.as_ref().ok_or_else(|| Error::damaged("a reference without event.original"))?;
                let lens = row;
                let (start, end) = match t {
                    tag::REF => {
                        let a = lens.u64()?;
                        (usize::try_from(a).ok(), a.checked_add(lens.u64()?).and_then(|e| usize::try_from(e).ok()))
                    }
                    tag::REF_END => (usize::try_from(lens.u64()?).ok(), Some(o.text.len())),
                    tag::REF_B => {
                        let a = lens.u64()?;
                        let n = lens.u64()?;
                        (o.bound_pos(a), a.checked_add(n).and_then(|b| o.bound_pos(b)))
                    }
                    _ => (o.bound_pos(lens.u64()?), Some(o.text.len())),
                };
                let part = start.zip(end).and_then(|(a, e)| o.text.get(a..e)).ok_or_else(|| {
                    Error::damaged(format!("reference outside event.original ({} bytes)", o.text.len()))
                })?;
                Value::String(part.to_string())
            }
            tag::INT_REF | tag::INT_REF_B => {
                let o = ev.original.as_ref().ok_or_else(|| Error::damaged("a reference without event.original"))?;
                let at = row.u64()?;
                let pos = if t == tag::INT_REF { usize::try_from(at).ok() } else { o.bound_pos(at) };
                let v = pos
                    .and_then(|p| text::int_at(o.text, p))
                    .ok_or_else(|| Error::damaged(format!("no integer at position {at} of event.original")))?;
                Value::from(v)
            }
            tag::HEX32 | tag::HEX_V7 => {
                let base_ms = if t == tag::HEX_V7 {
                    Some(
                        ev.last_ts
                            .map(hex::millis_of)
                            .ok_or_else(|| Error::damaged("a UUIDv7 without an earlier timestamp"))?,
                    )
                } else {
                    None
                };
                let s = self.hex.next(&mut self.streams[HEXES], self.head.hex_shift, base_ms)?;
                if let Some((hi, lo)) = text::parse_hex32(&s)
                    && let Some(ms) = hex::v7_millis(hi, lo)
                {
                    ev.last_ts = Some(hex::v7_nanos(ms));
                }
                Value::String(s)
            }
            tag::TS..=tag::LAST => {
                let d = varint::unzigzag128(self.streams[TIMES].u128()?);
                let base = if self.head.flags & TIME_IN_EVENT != 0 {
                    ev.last_ts.ok_or_else(|| Error::damaged("a timestamp delta without an earlier one"))?
                } else {
                    self.prev_time
                };
                let nanos = d
                    .checked_mul(10i128.pow(u32::from(self.head.time_unit)))
                    .and_then(|d| d.checked_add(base))
                    .ok_or_else(|| Error::damaged("timestamp overflows"))?;
                let form = if t == tag::TS { TsForm::Display } else { TsForm::Fixed(t - tag::TS_FIXED) };
                let s = text::format_timestamp(nanos, form)?;
                self.prev_time = nanos;
                ev.last_ts = Some(nanos);
                Value::String(s)
            }
            other => return Err(Error::damaged(format!("unknown value tag {other}"))),
        })
    }

    fn literal(&mut self) -> Result<String> {
        let b = self.streams[BYTES].until(END)?;
        String::from_utf8(b.to_vec()).map_err(|_| Error::damaged("a string is not UTF-8"))
    }

    fn remember(&mut self, s: &str) {
        if s.len() <= DICT_MAX_LEN && self.dict.len() < DICT_CAP {
            self.dict.push(s.to_string());
        }
    }

    /// Checks that every stream was read to its end: leftovers mean a damaged block.
    pub fn finish(&self) -> Result<()> {
        for (r, name) in self.streams.iter().zip(STREAM_NAMES) {
            if !r.is_empty() {
                return Err(self.err(format!("{} bytes left in its {name} stream", r.remaining())));
            }
        }
        if !self.toks.is_empty() {
            return Err(self.err("numbers left in its toks stream"));
        }
        Ok(())
    }
}
