//! The index schema of a day partition and how an event becomes an index document.
//!
//! Fields the SOC filters and aggregates on most (time, tenant, dataset, IP addresses) get
//! dedicated columns; free text (`message`, `error.message`) is tokenized; every other leaf
//! value goes into one JSON field indexed verbatim and as a column, so any field can be
//! searched exactly and counted. The whole event is stored compressed for retrieval.

use std::net::IpAddr;

use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, IpAddrOptions, JsonObjectOptions, NumericOptions,
    OwnedValue, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime, TantivyDocument};

use super::leaves::{Leaf, for_each_leaf};

/// Name of the tokenizer shared with the query language (see `mamori_query::text`).
pub const TEXT_TOKENIZER: &str = "mamori_text";

pub const F_LSN: &str = "_lsn";
pub const F_TIMESTAMP: &str = "@timestamp";
pub const F_TENANT: &str = "organization.id";
pub const F_DATASET: &str = "event.dataset";
/// String forms of every keyword value (and IP addresses as written), indexed verbatim:
/// exact match, wildcards, string ranges.
pub const F_KEYWORDS: &str = "_kws";
/// Typed keyword values as columns: numeric ranges, exists, terms aggregations.
pub const F_KEYWORD_COLUMNS: &str = "_kw";
/// Numbers written as strings (`"443"`), as columns, so that numeric ranges see them too.
pub const F_NUMERIC_SHADOW: &str = "_kwn";
/// Names of the full-text fields an event has (text fields have no column to test).
pub const F_PRESENT: &str = "_present";
pub const F_SOURCE: &str = "_src";

use mamori_query::schema::{IP_FIELDS, TEXT_FIELDS, TIME_FIELDS};
/// Keyword values longer than this are not indexed (they stay in the stored event).
const MAX_KEYWORD_BYTES: usize = 8 * 1024;

/// Handles to the fields of the schema.
#[derive(Debug, Clone)]
pub struct Fields {
    pub schema: Schema,
    pub lsn: Field,
    pub timestamp: Field,
    pub tenant: Field,
    pub dataset: Field,
    pub keywords_index: Field,
    pub keywords_fast: Field,
    pub numeric_shadow: Field,
    pub present: Field,
    pub source: Field,
    pub texts: Vec<(&'static str, Field)>,
    pub ips: Vec<(&'static str, Field)>,
    pub times: Vec<(&'static str, Field)>,
}

impl Fields {
    pub fn new() -> Fields {
        let mut b = Schema::builder();
        let date = || DateOptions::default().set_indexed().set_fast().set_precision(DateTimePrecision::Microseconds);
        let lsn = b.add_u64_field(F_LSN, NumericOptions::default().set_indexed().set_fast());
        let timestamp = b.add_date_field(F_TIMESTAMP, date());
        let tenant = b.add_text_field(F_TENANT, TextOptions::from(STRING).set_fast("raw"));
        let dataset = b.add_text_field(F_DATASET, TextOptions::from(STRING).set_fast("raw"));
        let keywords_index = b.add_json_field(
            F_KEYWORDS,
            JsonObjectOptions::default()
                .set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer("raw")
                        .set_index_option(IndexRecordOption::Basic)
                        .set_fieldnorms(false),
                )
                .set_expand_dots_enabled(),
        );
        let keywords_fast =
            b.add_json_field(F_KEYWORD_COLUMNS, JsonObjectOptions::default().set_fast("raw").set_expand_dots_enabled());
        let numeric_shadow =
            b.add_json_field(F_NUMERIC_SHADOW, JsonObjectOptions::default().set_fast("raw").set_expand_dots_enabled());
        let present = b.add_text_field(F_PRESENT, STRING);
        let source = b.add_bytes_field(F_SOURCE, tantivy::schema::STORED);
        let text_options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TEXT_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let texts = TEXT_FIELDS.iter().map(|name| (*name, b.add_text_field(name, text_options.clone()))).collect();
        let ips = IP_FIELDS
            .iter()
            .map(|name| (*name, b.add_ip_addr_field(name, IpAddrOptions::default().set_indexed().set_fast())))
            .collect();
        let times = TIME_FIELDS
            .iter()
            .filter(|n| **n != F_TIMESTAMP)
            .map(|name| (*name, b.add_date_field(name, date())))
            .collect();
        let schema = b.build();
        Fields {
            schema,
            lsn,
            timestamp,
            tenant,
            dataset,
            keywords_index,
            keywords_fast,
            numeric_shadow,
            present,
            source,
            texts,
            ips,
            times,
        }
    }

    /// The document for one event given as its stored JSON, and the event's `@timestamp`.
    pub fn document(
        &self,
        lsn: u64,
        json: &[u8],
    ) -> Result<(TantivyDocument, Option<jiff::Timestamp>), serde_json::Error> {
        let mut doc = TantivyDocument::new();
        doc.add_u64(self.lsn, lsn);
        doc.add_bytes(self.source, json);
        let mut kw = Keywords::default();
        let mut time = None;
        let mut buf = String::new();
        for_each_leaf(json, &mut |field, leaf| {
            if field == F_TIMESTAMP && time.is_none() {
                time = leaf_time(leaf);
            }
            self.add_leaf(&mut doc, &mut kw, &mut buf, field, leaf);
        })?;
        kw.add_to(&mut doc, self);
        Ok((doc, time))
    }

    fn add_leaf(&self, doc: &mut TantivyDocument, kw: &mut Keywords, buf: &mut String, field: &str, leaf: Leaf<'_>) {
        match self.dedicated(field) {
            Some(Dedicated::Time(f)) => {
                if let Some(t) = leaf_time(leaf) {
                    doc.add_date(f, to_datetime(t));
                    return;
                }
            }
            Some(Dedicated::Keyword(f)) => {
                if let Leaf::Str(s) = leaf {
                    doc.add_text(f, s);
                    return;
                }
            }
            Some(Dedicated::Text(f)) => {
                if leaf.string_form(buf).is_some() {
                    doc.add_text(f, buf.as_str());
                    doc.add_text(self.present, field);
                }
                return;
            }
            Some(Dedicated::Ip(f)) => {
                if let Leaf::Str(s) = leaf
                    && let Ok(ip) = s.trim().parse::<IpAddr>()
                {
                    doc.add_ip_addr(f, to_v6(ip.to_canonical()));
                    // The written form too, for wildcards such as `source.ip:10.1.*`.
                    kw.index(field, leaf, buf);
                    return;
                }
            }
            None if mamori_query::field_kind(field) == mamori_query::FieldKind::StoredOnly => return,
            None => {}
        }
        kw.index(field, leaf, buf);
        kw.column(field, leaf);
    }

    /// The dedicated field for `name`, when it has one.
    pub fn dedicated(&self, name: &str) -> Option<Dedicated> {
        match name {
            F_TIMESTAMP => Some(Dedicated::Time(self.timestamp)),
            F_TENANT => Some(Dedicated::Keyword(self.tenant)),
            F_DATASET => Some(Dedicated::Keyword(self.dataset)),
            n => self.dedicated_names().find(|(f, _)| *f == n).map(|(_, d)| d),
        }
    }

    /// Every field with a column or index of its own.
    pub fn dedicated_names(&self) -> impl Iterator<Item = (&'static str, Dedicated)> + '_ {
        [
            (F_TIMESTAMP, Dedicated::Time(self.timestamp)),
            (F_TENANT, Dedicated::Keyword(self.tenant)),
            (F_DATASET, Dedicated::Keyword(self.dataset)),
        ]
        .into_iter()
        .chain(self.texts.iter().map(|(n, f)| (*n, Dedicated::Text(*f))))
        .chain(self.ips.iter().map(|(n, f)| (*n, Dedicated::Ip(*f))))
        .chain(self.times.iter().map(|(n, f)| (*n, Dedicated::Time(*f))))
    }
}

impl Default for Fields {
    fn default() -> Self {
        Fields::new()
    }
}

/// Keyword values of one event, gathered per path before they become JSON objects. Paths come
/// in document order, so a repeated path (an array) is found by a short scan from the end.
#[derive(Default)]
struct Keywords {
    index: Vec<(String, Vec<OwnedValue>)>,
    columns: Vec<(String, Vec<OwnedValue>)>,
    shadows: Vec<(String, Vec<OwnedValue>)>,
}

fn push(list: &mut Vec<(String, Vec<OwnedValue>)>, field: &str, v: OwnedValue) {
    match list.iter_mut().rev().find(|(k, _)| k == field) {
        Some((_, vs)) => vs.push(v),
        None => list.push((field.to_string(), vec![v])),
    }
}

/// The instant a leaf holds (see `mamori_query::time::event_time`).
fn leaf_time(leaf: Leaf<'_>) -> Option<jiff::Timestamp> {
    use mamori_query::time::{time_from_millis, time_from_millis_f64, time_from_str};
    match leaf {
        Leaf::Str(s) => time_from_str(s),
        Leaf::I64(ms) => time_from_millis(ms),
        Leaf::U64(ms) => time_from_millis_f64(ms as f64),
        Leaf::F64(ms) => time_from_millis_f64(ms),
        Leaf::Bool(_) => None,
    }
}

impl Keywords {
    fn index(&mut self, field: &str, leaf: Leaf<'_>, buf: &mut String) {
        if leaf.string_form(buf).is_some() && buf.len() <= MAX_KEYWORD_BYTES {
            push(&mut self.index, field, OwnedValue::Str(buf.clone()));
        }
    }

    fn column(&mut self, field: &str, leaf: Leaf<'_>) {
        let v = match leaf {
            Leaf::Str(s) if s.len() <= MAX_KEYWORD_BYTES => {
                if let Some(x) = mamori_query::parse_number(s.trim()) {
                    push(&mut self.shadows, field, OwnedValue::F64(x));
                }
                OwnedValue::Str(s.to_string())
            }
            Leaf::Str(_) => return,
            Leaf::I64(i) => OwnedValue::I64(i),
            Leaf::U64(u) => OwnedValue::U64(u),
            Leaf::F64(f) => OwnedValue::F64(f),
            Leaf::Bool(b) => OwnedValue::Bool(b),
        };
        push(&mut self.columns, field, v);
    }

    fn add_to(self, doc: &mut TantivyDocument, fields: &Fields) {
        for (map, field) in [
            (self.index, fields.keywords_index),
            (self.columns, fields.keywords_fast),
            (self.shadows, fields.numeric_shadow),
        ] {
            if !map.is_empty() {
                let object = map
                    .into_iter()
                    .map(|(k, mut v)| (k, if v.len() == 1 { v.pop().expect("one") } else { OwnedValue::Array(v) }))
                    .collect();
                doc.add_field_value(field, &OwnedValue::Object(object));
            }
        }
    }
}

/// How a field with its own column is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dedicated {
    Time(Field),
    Keyword(Field),
    Ip(Field),
    Text(Field),
}

pub fn to_datetime(ts: jiff::Timestamp) -> DateTime {
    DateTime::from_timestamp_micros(ts.as_microsecond())
}

pub fn to_v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

pub fn from_v6(ip: std::net::Ipv6Addr) -> IpAddr {
    match ip.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(ip),
    }
}
