//! Encoding a column: for each value the first of these that applies, cheapest first.
//!
//! 1. strings equal to an earlier value of the same event: `COPY` (hostname twice, ...);
//! 2. timestamps and hex ids: deltas, decided per column when the block is finished;
//! 3. strings already seen in the column: `DICT`;
//! 4. strings and integers written in `event.original`: references, by boundary number when
//!    they are whole tokens;
//! 5. anything else literally, long strings with their numbers taken out (`TOK_STR`).

use std::collections::HashMap;

use serde_json::{Number, Value};

use super::super::original::Original;
use super::super::text::{self, TsForm};
use super::*;
use super::{hex, toks};
use crate::varint;

/// Builds one column.
pub struct ColumnWriter {
    pub path: Vec<String>,
    bytes: Vec<u8>,
    toks: toks::TokWriter,
    ints: Vec<u8>,
    int_state: IntState,
    /// Each timestamp and the previous timestamp of its event, if any.
    times: Vec<(i128, Option<i128>)>,
    hexes: Vec<hex::HexCell>,
    dict: HashMap<Box<str>, u32>,
    dict_len: usize,
    /// The boundary where the column's last integer was found in `event.original`.
    last_int_bound: Option<usize>,
    template: Vec<u8>,
}

impl ColumnWriter {
    pub fn new(path: Vec<String>) -> Self {
        ColumnWriter {
            path,
            bytes: Vec::new(),
            toks: toks::TokWriter::default(),
            ints: Vec::new(),
            int_state: IntState::default(),
            times: Vec::new(),
            hexes: Vec::new(),
            dict: HashMap::new(),
            dict_len: 0,
            last_int_bound: None,
            template: Vec::new(),
        }
    }

    /// Appends one scalar: its tag and small numbers to `row`, the rest to the column's
    /// streams. `earlier` are the values of the same event coded before this one, in the
    /// order the decoder sees them.
    pub fn push(&mut self, v: &Value, ev: &mut EventState<'_>, earlier: &[&Value], row: &mut Vec<u8>) {
        match v {
            Value::Null => row.push(tag::NULL),
            Value::Bool(false) => row.push(tag::FALSE),
            Value::Bool(true) => row.push(tag::TRUE),
            Value::Number(n) => {
                let original = ev.original.as_ref().filter(|_| ev.searches > 0);
                if original.is_some() {
                    ev.searches -= 1;
                }
                self.push_number(n, original, row)
            }
            Value::String(s) => self.push_str(s, ev, earlier, row),
            // Shapes turn arrays and objects into structure; only scalars reach a column.
            Value::Array(_) | Value::Object(_) => row.push(tag::NULL),
        }
    }

    fn push_number(&mut self, n: &Number, original: Option<&Original<'_>>, row: &mut Vec<u8>) {
        if let Some(i) = n.as_i64().filter(|i| Number::from(*i) == *n) {
            if let Some(o) = original
                && self.push_int_ref(i, o, row)
            {
                return;
            }
            let z = varint::zigzag(self.int_state.code(i));
            if z < 0x80 {
                row.push(tag::INT);
                row.push(z as u8);
            } else {
                row.push(tag::INT_WIDE);
                varint::put_u64(&mut self.ints, z);
            }
            self.int_state.update(i);
        } else if let Some(u) = n.as_u64().filter(|u| Number::from(*u) == *n) {
            row.push(tag::U64);
            varint::put_u64(row, u);
        } else if let Some(f) = n.as_f64().filter(|f| Number::from_f64(*f).as_ref() == Some(n)) {
            row.push(tag::F64);
            self.bytes.extend_from_slice(&f.to_le_bytes());
        } else {
            // Only reachable with serde_json's `arbitrary_precision`: keep the exact text.
            row.push(tag::NUM_TEXT);
            self.bytes.extend_from_slice(n.to_string().as_bytes());
            self.bytes.push(END);
        }
    }

    /// An integer as a position in `event.original`: always when it is large, and when it is
    /// small only at the same boundary as last time (a PRI, a fixed field), where the position
    /// costs nothing while a coincidental match elsewhere would cost more than the number.
    fn push_int_ref(&mut self, i: i64, o: &Original<'_>, row: &mut Vec<u8>) -> bool {
        let at = text::int_positions(o.text, i);
        let bound = at.iter().find_map(|&p| o.bound_index(p).map(|b| (p, b)));
        let large = i.unsigned_abs() >= MIN_INT_REF;
        if let Some((_, b)) = bound {
            let stable = self.last_int_bound == Some(b);
            self.last_int_bound = Some(b);
            if stable || large {
                row.push(tag::INT_REF_B);
                varint::put_u64(row, b as u64);
                return true;
            }
        } else if let Some(&p) = at.first().filter(|_| large) {
            row.push(tag::INT_REF);
            varint::put_u64(row, p as u64);
            return true;
        }
        false
    }

    fn push_str(&mut self, s: &str, ev: &mut EventState<'_>, earlier: &[&Value], row: &mut Vec<u8>) {
        if let Some(back) = earlier.iter().rev().take(COPY_WINDOW).position(|v| v.as_str() == Some(s)) {
            row.push(tag::COPY);
            varint::put_u64(row, back as u64 + 1);
            return;
        }
        if let Some((nanos, form)) = text::parse_timestamp(s) {
            row.push(match form {
                TsForm::Display => tag::TS,
                TsForm::Fixed(d) => tag::TS_FIXED + d,
            });
            self.times.push((nanos, ev.last_ts));
            ev.last_ts = Some(nanos);
            return;
        }
        if let Some((hi, lo)) = text::parse_hex32(s) {
            let ms = hex::v7_millis(hi, lo);
            let base_ms = ev.last_ts.filter(|_| ms.is_some()).map(hex::millis_of);
            row.push(if base_ms.is_some() { tag::HEX_V7 } else { tag::HEX32 });
            self.hexes.push(hex::HexCell { hi, lo, base_ms });
            if let Some(ms) = ms {
                ev.last_ts = Some(hex::v7_nanos(ms));
            }
            return;
        }
        if s.len() <= DICT_MAX_LEN
            && let Some(&i) = self.dict.get(s)
        {
            row.push(tag::DICT);
            varint::put_u64(row, u64::from(i));
            return;
        }
        if s.len() >= MIN_REF_LEN
            && ev.searches > 0
            && let Some(o) = &ev.original
        {
            ev.searches -= 1;
            if push_ref(s, o, row) {
                return;
            }
        }
        self.push_literal(s, row);
    }

    fn push_literal(&mut self, s: &str, row: &mut Vec<u8>) {
        self.template.clear();
        let tokenised = s.len() >= MIN_TOK_LEN
            && s.bytes().any(|b| b.is_ascii_digit())
            && text::tokenize(s, &mut self.template, &mut |ctx, v| self.toks.push(ctx, v)) > 0;
        if tokenised {
            row.push(tag::TOK_STR);
            self.bytes.extend_from_slice(&self.template);
        } else {
            row.push(tag::STR);
            self.bytes.extend_from_slice(s.as_bytes());
        }
        self.bytes.push(END);
        if s.len() <= DICT_MAX_LEN && self.dict_len < DICT_CAP {
            self.dict.entry(s.into()).or_insert(self.dict_len as u32);
            self.dict_len += 1;
        }
    }

    /// The column's parameters and streams.
    pub fn finish(self) -> (ColumnHead, [Vec<u8>; STREAMS]) {
        let mut head = ColumnHead { path: self.path, ..Default::default() };
        let (in_event, unit, times) = encode_times(&self.times);
        if in_event {
            head.flags |= TIME_IN_EVENT;
        }
        head.time_unit = unit;
        let (shift, hexes) = hex::encode(&self.hexes);
        head.hex_shift = shift;
        (head, [self.bytes, self.ints, times, hexes, self.toks.finish()])
    }
}

/// A string as a part of `event.original`, by boundary numbers when it is whole tokens.
fn push_ref(s: &str, o: &Original<'_>, row: &mut Vec<u8>) -> bool {
    let mut first = None;
    for at in text::find_all(o.text.as_bytes(), s.as_bytes()).take(4) {
        let end = at + s.len();
        first.get_or_insert(at);
        if let Some(a) = o.bound_index(at)
            && let Some(b) = o.bound_index(end)
        {
            if end == o.text.len() {
                row.push(tag::REF_END_B);
                varint::put_u64(row, a as u64);
            } else {
                row.push(tag::REF_B);
                varint::put_u64(row, a as u64);
                varint::put_u64(row, (b - a) as u64);
            }
            return true;
        }
    }
    let Some(at) = first else {
        return false;
    };
    if at + s.len() == o.text.len() {
        row.push(tag::REF_END);
        varint::put_u64(row, at as u64);
    } else {
        row.push(tag::REF);
        varint::put_u64(row, at as u64);
        varint::put_u64(row, s.len() as u64);
    }
    true
}

/// Timestamps as deltas, from the previous one of the column or from the previous one of the
/// same event (`event.ingested` after `@timestamp`: the delay, not the gap between events),
/// whichever is smaller, in the coarsest unit every delta is a multiple of.
fn encode_times(values: &[(i128, Option<i128>)]) -> (bool, u8, Vec<u8>) {
    let column: Vec<i128> = values
        .iter()
        .scan(0i128, |prev, &(t, _)| {
            let d = t - *prev;
            *prev = t;
            Some(d)
        })
        .collect();
    let in_event: Option<Vec<i128>> = values.iter().map(|&(t, base)| base.map(|b| t - b)).collect();
    let (col_unit, col_size) = unit_and_size(&column);
    let mut chosen = (false, col_unit, column);
    if let Some(deltas) = in_event {
        let (unit, size) = unit_and_size(&deltas);
        if size < col_size {
            chosen = (true, unit, deltas);
        }
    }
    let (in_event, unit, deltas) = chosen;
    let div = 10i128.pow(u32::from(unit));
    let mut out = Vec::new();
    for d in deltas {
        varint::put_u128(&mut out, varint::zigzag128(d / div));
    }
    (in_event, unit, out)
}

fn unit_and_size(deltas: &[i128]) -> (u8, usize) {
    let unit = deltas.iter().map(|&d| decimal_zeros(d)).min().unwrap_or(0);
    let div = 10i128.pow(u32::from(unit));
    let size = deltas
        .iter()
        .map(|&d| {
            let z = varint::zigzag128(d / div);
            (128 - (z | 1).leading_zeros() as usize).div_ceil(7)
        })
        .sum();
    (unit, size)
}

/// How many trailing decimal zeros `t` has, at most 9.
fn decimal_zeros(mut t: i128) -> u8 {
    let mut n = 0;
    while n < 9 && t % 10 == 0 {
        t /= 10;
        n += 1;
    }
    n
}
