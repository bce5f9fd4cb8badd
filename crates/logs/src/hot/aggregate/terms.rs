//! Counting one field's values per segment by their native form.

use std::net::Ipv6Addr;

use mamori_query::agg::TermsPartial;
use rustc_hash::FxHashMap;
use tantivy::DocId;
use tantivy::columnar::{Column, StrColumn};

use crate::hot::schema::from_v6;

/// The columns a field's values can be in.
#[derive(Default)]
pub struct TermColumns {
    pub str: Option<StrColumn>,
    pub i64: Option<Column<i64>>,
    pub u64: Option<Column<u64>>,
    pub f64: Option<Column<f64>>,
    pub bool: Option<Column<bool>>,
    pub ip: Option<Column<Ipv6Addr>>,
    pub time: Option<Column<tantivy::DateTime>>,
}

/// Counts of a field's values by native form, mergeable across segments and partitions.
/// Strings are by value (term ordinals are per segment).
#[derive(Debug, Clone, Default)]
pub struct NativeTerms {
    strs: FxHashMap<String, u64>,
    /// Addresses as 128-bit integers: hashing the integer is several times faster.
    ips: FxHashMap<u128, u64>,
    ints: FxHashMap<i64, u64>,
    uints: FxHashMap<u64, u64>,
    floats: FxHashMap<u64, u64>,
    bools: [u64; 2],
    times: FxHashMap<i64, u64>,
    /// Events whose values span several column types (rare), counted by string form.
    mixed: FxHashMap<String, u64>,
    missing: u64,
}

impl NativeTerms {
    pub fn merge(&mut self, other: NativeTerms) {
        fn add<K: std::hash::Hash + Eq>(a: &mut FxHashMap<K, u64>, mut b: FxHashMap<K, u64>) {
            if a.len() < b.len() {
                std::mem::swap(a, &mut b);
            }
            a.reserve(b.len());
            for (k, n) in b {
                *a.entry(k).or_default() += n;
            }
        }
        add(&mut self.strs, other.strs);
        add(&mut self.ips, other.ips);
        add(&mut self.ints, other.ints);
        add(&mut self.uints, other.uints);
        add(&mut self.floats, other.floats);
        add(&mut self.times, other.times);
        add(&mut self.mixed, other.mixed);
        self.bools[0] += other.bools[0];
        self.bools[1] += other.bools[1];
        self.missing += other.missing;
    }

    /// The counts by string form, as the archive scanner keeps them.
    pub fn into_partial(self) -> TermsPartial {
        let mut out = TermsPartial::default();
        for (v, n) in self.strs.into_iter().chain(self.mixed) {
            out.add_n(&v, n);
        }
        self.ips.into_iter().for_each(|(v, n)| out.add_n(&from_v6(Ipv6Addr::from_bits(v)).to_string(), n));
        self.ints.into_iter().for_each(|(v, n)| out.add_n(&v.to_string(), n));
        self.uints.into_iter().for_each(|(v, n)| out.add_n(&v.to_string(), n));
        self.floats.into_iter().for_each(|(v, n)| {
            if let Some(s) = float_string(v) {
                out.add_n(&s, n)
            }
        });
        self.times.into_iter().for_each(|(v, n)| out.add_n(&time_string(v), n));
        for (b, n) in self.bools.iter().enumerate().filter(|(_, n)| **n > 0) {
            out.add_n(if b == 1 { "true" } else { "false" }, *n);
        }
        for _ in 0..self.missing {
            out.add_missing();
        }
        out
    }
}

/// Which single column holds a field in a segment, when only one does (the usual case).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Only {
    Str,
    Ip,
    I64,
    Several,
}

/// Counts one field in one segment; string values by term ordinal until the end.
pub struct TermCounter {
    cols: TermColumns,
    only: Only,
    ords: Vec<u64>,
    counts: NativeTerms,
    // Per-event scratch, reused.
    doc_ords: Vec<u64>,
    doc_ips: Vec<u128>,
    doc_ints: Vec<i64>,
    doc_uints: Vec<u64>,
    doc_floats: Vec<u64>,
    doc_bools: Vec<bool>,
    doc_times: Vec<i64>,
}

impl TermCounter {
    pub fn new(cols: TermColumns) -> Self {
        let terms = cols.str.as_ref().map_or(0, |c| c.num_terms());
        let present = [
            cols.str.is_some(),
            cols.ip.is_some(),
            cols.i64.is_some(),
            cols.u64.is_some(),
            cols.f64.is_some(),
            cols.bool.is_some(),
            cols.time.is_some(),
        ];
        let only = match present {
            [true, false, false, false, false, false, false] => Only::Str,
            [false, true, false, false, false, false, false] => Only::Ip,
            [false, false, true, false, false, false, false] => Only::I64,
            _ => Only::Several,
        };
        TermCounter {
            cols,
            only,
            ords: vec![0; terms],
            counts: NativeTerms::default(),
            doc_ords: Vec::new(),
            doc_ips: Vec::new(),
            doc_ints: Vec::new(),
            doc_uints: Vec::new(),
            doc_floats: Vec::new(),
            doc_bools: Vec::new(),
            doc_times: Vec::new(),
        }
    }

    /// Counts the distinct values of one event.
    pub fn collect(&mut self, doc: DocId) {
        // One column, one value: the common case, without the general bookkeeping.
        let single = match (self.only, &self.cols) {
            (Only::Str, TermColumns { str: Some(c), .. }) => {
                single(c.ords().values_for_doc(doc)).map(|o| self.ords[o as usize] += 1)
            }
            (Only::Ip, TermColumns { ip: Some(c), .. }) => {
                single(c.values_for_doc(doc)).map(|v| *self.counts.ips.entry(v.to_bits()).or_default() += 1)
            }
            (Only::I64, TermColumns { i64: Some(c), .. }) => {
                single(c.values_for_doc(doc)).map(|v| *self.counts.ints.entry(v).or_default() += 1)
            }
            _ => None,
        };
        if single.is_some() {
            return;
        }
        fill(&mut self.doc_ords, self.cols.str.as_ref().map(|c| c.term_ords(doc)));
        fill(&mut self.doc_ips, self.cols.ip.as_ref().map(|c| c.values_for_doc(doc).map(Ipv6Addr::to_bits)));
        fill(&mut self.doc_ints, self.cols.i64.as_ref().map(|c| c.values_for_doc(doc)));
        fill(&mut self.doc_uints, self.cols.u64.as_ref().map(|c| c.values_for_doc(doc)));
        fill(&mut self.doc_floats, self.cols.f64.as_ref().map(|c| c.values_for_doc(doc).map(f64::to_bits)));
        fill(&mut self.doc_bools, self.cols.bool.as_ref().map(|c| c.values_for_doc(doc)));
        fill(
            &mut self.doc_times,
            self.cols.time.as_ref().map(|c| c.values_for_doc(doc).map(|t| t.into_timestamp_micros())),
        );
        let kinds = [
            self.doc_ords.len(),
            self.doc_ips.len(),
            self.doc_ints.len(),
            self.doc_uints.len(),
            self.doc_floats.len(),
            self.doc_bools.len(),
            self.doc_times.len(),
        ]
        .iter()
        .filter(|n| **n > 0)
        .count();
        let c = &mut self.counts;
        match kinds {
            0 => c.missing += 1,
            1 => {
                for o in &self.doc_ords {
                    self.ords[*o as usize] += 1;
                }
                count(&mut c.ips, &self.doc_ips);
                count(&mut c.ints, &self.doc_ints);
                count(&mut c.uints, &self.doc_uints);
                count(&mut c.floats, &self.doc_floats);
                count(&mut c.times, &self.doc_times);
                for b in &self.doc_bools {
                    c.bools[*b as usize] += 1;
                }
            }
            _ => {
                let mut values: Vec<String> = Vec::new();
                if let Some(col) = &self.cols.str {
                    values.extend(self.doc_ords.iter().map(|o| ord_string(col, *o)));
                }
                values.extend(self.doc_ips.iter().map(|v| from_v6(Ipv6Addr::from_bits(*v)).to_string()));
                values.extend(self.doc_ints.iter().map(|v| v.to_string()));
                values.extend(self.doc_uints.iter().map(|v| v.to_string()));
                values.extend(self.doc_floats.iter().filter_map(|v| float_string(*v)));
                values.extend(self.doc_bools.iter().map(|v| v.to_string()));
                values.extend(self.doc_times.iter().map(|v| time_string(*v)));
                values.sort_unstable();
                values.dedup();
                for v in values {
                    *c.mixed.entry(v).or_default() += 1;
                }
            }
        }
    }

    /// The segment's counts, string ordinals resolved.
    pub fn harvest(mut self) -> NativeTerms {
        if let Some(col) = &self.cols.str {
            for (ord, n) in self.ords.iter().enumerate().filter(|(_, n)| **n > 0) {
                *self.counts.strs.entry(ord_string(col, ord as u64)).or_default() += *n;
            }
        }
        self.counts
    }
}

/// The only value of an iterator, or `None` when it has none or several.
fn single<T>(mut values: impl Iterator<Item = T>) -> Option<T> {
    match (values.next(), values.next()) {
        (Some(v), None) => Some(v),
        _ => None,
    }
}

/// Replaces `buf` with one event's values, sorted and without repeats.
fn fill<T: Ord + Copy>(buf: &mut Vec<T>, values: Option<impl Iterator<Item = T>>) {
    buf.clear();
    if let Some(v) = values {
        buf.extend(v);
        if buf.len() > 1 {
            buf.sort_unstable();
            buf.dedup();
        }
    }
}

fn count<T: std::hash::Hash + Eq + Copy>(map: &mut FxHashMap<T, u64>, values: &[T]) {
    for v in values {
        *map.entry(*v).or_default() += 1;
    }
}

fn ord_string(col: &StrColumn, ord: u64) -> String {
    let mut s = String::new();
    let _ = col.ord_to_str(ord, &mut s);
    s
}

fn float_string(bits: u64) -> Option<String> {
    serde_json::Number::from_f64(f64::from_bits(bits)).map(|n| n.to_string())
}

fn time_string(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map(|t| t.to_string()).unwrap_or_default()
}
