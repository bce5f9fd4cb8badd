//! Compiling one search identifier of a `detection` section (a map of field conditions, a list
//! of maps, or a list of keywords) into a matcher over events.

use std::net::IpAddr;

use aho_corasick::AhoCorasick;
use ipnet::IpNet;
use serde_json::Value as Json;
use serde_norway::Value;

use crate::error::CompileError;
use crate::event::{EventView, FieldPath, any_leaf_text, any_text, scalar_text};
use crate::modifier::{Modifier, Stage, transform};
use crate::pattern::{SigmaString, StrMatcher};
use crate::rule;

/// What the compiler needs from the pipeline.
pub struct CompileContext<'a> {
    /// Sigma field name → event field path.
    pub field: &'a dyn Fn(&str) -> FieldPath,
    /// Placeholder name → values (for `expand`); `None` when unknown.
    pub placeholder: &'a dyn Fn(&str) -> Option<Vec<String>>,
}

/// One search identifier: any of its alternatives (a list of maps is an OR).
#[derive(Debug)]
pub struct Search {
    pub alternatives: Vec<Conjunction>,
}

/// All field conditions of one map.
#[derive(Debug)]
pub struct Conjunction {
    pub items: Vec<FieldMatcher>,
}

/// One `Field|modifiers: values` item, or keywords (no field).
#[derive(Debug)]
pub struct FieldMatcher {
    /// `None` for keywords: any value of the event.
    pub field: Option<FieldPath>,
    /// `all` modifier: every value must match.
    pub all: bool,
    pub values: Vec<ValueMatcher>,
    /// For each value, a literal every text it matches contains (ASCII case folded), when it
    /// has one: what the prefilter looks for.
    pub needles: Vec<Option<String>>,
    /// Case-insensitive substrings of `values`, in one automaton (the common
    /// `CommandLine|contains: [...]` list costs one pass over the text).
    merged_contains: Option<AhoCorasick>,
}

#[derive(Debug)]
pub enum ValueMatcher {
    Str(StrMatcher),
    /// `null`: the field is absent, null or empty.
    Null,
    Regex(Regex),
    Cidr(IpNet),
    Compare(CompareOp, f64),
    Exists(bool),
    /// The value of another field, compared as text (case-insensitive unless `cased`).
    FieldRef {
        other: FieldPath,
        cased: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug)]
pub enum Regex {
    Plain(regex::Regex),
    /// Look-around or back-references.
    Fancy(Box<fancy_regex::Regex>),
}

impl Regex {
    fn is_match(&self, s: &str) -> bool {
        match self {
            Regex::Plain(r) => r.is_match(s),
            // A pattern that exceeds the backtracking limit does not match (never a panic).
            Regex::Fancy(r) => r.is_match(s).unwrap_or(false),
        }
    }
}

impl Search {
    pub fn compile(def: &Value, ctx: &CompileContext) -> Result<Search, CompileError> {
        let alternatives = match def {
            Value::Mapping(m) => vec![Conjunction::compile(m, ctx)?],
            Value::Sequence(items) if items.iter().all(|i| matches!(i, Value::Mapping(_))) => items
                .iter()
                .map(|i| match i {
                    Value::Mapping(m) => Conjunction::compile(m, ctx),
                    _ => unreachable!("checked above"),
                })
                .collect::<Result<_, _>>()?,
            Value::Sequence(_) | Value::String(_) | Value::Number(_) => {
                vec![Conjunction { items: vec![FieldMatcher::compile(None, &[], def, ctx)?] }]
            }
            _ => {
                return Err(CompileError::Invalid(
                    "a search must be a map, a list of maps or a list of keywords".into(),
                ));
            }
        };
        Ok(Search { alternatives })
    }

    pub fn matches(&self, event: &EventView) -> bool {
        self.alternatives.iter().any(|c| c.items.iter().all(|f| f.matches(event)))
    }

    /// The only exact values `field` can have for this search to match (`EventID: [4624,
    /// 4625]` in every alternative), or `None` when any value can. The rule index uses it.
    pub fn required_values(&self, field: &str) -> Option<Vec<String>> {
        let mut all = Vec::new();
        for alt in &self.alternatives {
            let found = alt.items.iter().find_map(|f| f.exact_values(field))?;
            all.extend(found);
        }
        Some(all)
    }
}

impl Conjunction {
    fn compile(m: &serde_norway::Mapping, ctx: &CompileContext) -> Result<Conjunction, CompileError> {
        let mut items = Vec::with_capacity(m.len());
        for (k, v) in m {
            let key = rule::scalar_text(k).ok_or_else(|| CompileError::Invalid("a field name must be text".into()))?;
            let mut parts = key.split('|');
            let name = parts.next().unwrap_or_default();
            let mods = parts.map(Modifier::parse).collect::<Result<Vec<_>, _>>()?;
            let field = (!name.is_empty()).then_some(name);
            items.push(FieldMatcher::compile(field, &mods, v, ctx)?);
        }
        Ok(Conjunction { items })
    }
}

impl FieldMatcher {
    fn compile(
        field: Option<&str>,
        mods: &[Modifier],
        value: &Value,
        ctx: &CompileContext,
    ) -> Result<FieldMatcher, CompileError> {
        let raw: Vec<&Value> = match value {
            Value::Sequence(items) => items.iter().collect(),
            v => vec![v],
        };
        if raw.is_empty() {
            return Err(CompileError::Invalid(format!("{} has an empty list of values", field.unwrap_or("keywords"))));
        }
        let has = |m: Modifier| mods.contains(&m);
        let path = field.map(ctx.field);
        let all = has(Modifier::All);
        let cased = has(Modifier::Cased);
        let mut needles = Vec::new();
        let values = if has(Modifier::Exists) {
            raw.iter().map(|v| exists_value(v)).collect::<Result<_, _>>()?
        } else if has(Modifier::Cidr) {
            raw.iter().map(|v| cidr_value(v)).collect::<Result<_, _>>()?
        } else if let Some(op) = compare_op(mods) {
            raw.iter().map(|v| compare_value(v, op)).collect::<Result<_, _>>()?
        } else if has(Modifier::Re) {
            raw.iter().map(|v| regex_value(v, mods)).collect::<Result<_, _>>()?
        } else if has(Modifier::FieldRef) {
            raw.iter()
                .map(|v| {
                    let name = rule::scalar_text(v)
                        .ok_or_else(|| CompileError::Invalid("fieldref needs a field name".into()))?;
                    Ok(ValueMatcher::FieldRef { other: (ctx.field)(&name), cased })
                })
                .collect::<Result<_, CompileError>>()?
        } else {
            string_values(field.is_none(), mods, &raw, cased, ctx, &mut needles)?
        };
        needles.resize(values.len(), None);
        let merged_contains = if all { None } else { merge_contains(&values)? };
        Ok(FieldMatcher { field: path, all, values, needles, merged_contains })
    }

    pub fn matches(&self, event: &EventView) -> bool {
        let Some(path) = &self.field else {
            return self.keyword_matches(event.event);
        };
        let found = event.get(path);
        let one = |m: &ValueMatcher| value_matches(m, found, event);
        if self.all {
            return self.values.iter().all(one);
        }
        if let (Some(ac), Some(v)) = (&self.merged_contains, found)
            && any_text(v, &mut |t| ac.is_match(t))
        {
            return true;
        }
        self.values.iter().filter(|m| !(self.merged_contains.is_some() && is_folded_contains(m))).any(one)
    }

    /// The values when this item is `field: [exact values]` (no `all`, no wildcards).
    fn exact_values(&self, field: &str) -> Option<Vec<String>> {
        if self.all || self.field.as_ref()?.as_str() != field {
            return None;
        }
        self.values
            .iter()
            .map(|v| match v {
                ValueMatcher::Str(StrMatcher::Exact { text, .. }) => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    fn keyword_matches(&self, event: &Json) -> bool {
        let one_text = |m: &ValueMatcher, t: &str| match m {
            ValueMatcher::Str(s) => s.is_match(t),
            ValueMatcher::Regex(r) => r.is_match(t),
            _ => false,
        };
        if self.all {
            return self.values.iter().all(|m| any_leaf_text(event, &mut |t| one_text(m, t)));
        }
        // One walk over the event: the merged substrings, then the other values.
        let merged = self.merged_contains.is_some();
        any_leaf_text(event, &mut |t| {
            self.merged_contains.as_ref().is_some_and(|ac| ac.is_match(t))
                || self.values.iter().filter(|m| !(merged && is_folded_contains(m))).any(|m| one_text(m, t))
        })
    }
}

fn is_folded_contains(m: &ValueMatcher) -> bool {
    matches!(m, ValueMatcher::Str(s) if s.folded_needle().is_some())
}

fn merge_contains(values: &[ValueMatcher]) -> Result<Option<AhoCorasick>, CompileError> {
    let needles: Vec<&str> = values
        .iter()
        .filter_map(|v| match v {
            ValueMatcher::Str(s) => s.folded_needle(),
            _ => None,
        })
        .collect();
    if needles.len() < 2 {
        return Ok(None);
    }
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(needles)
        .map(Some)
        .map_err(|e| CompileError::Pattern(e.to_string()))
}

fn value_matches(m: &ValueMatcher, found: Option<&Json>, event: &EventView) -> bool {
    match m {
        ValueMatcher::Null => match found {
            None | Some(Json::Null) => true,
            Some(Json::String(s)) => s.is_empty(),
            _ => false,
        },
        ValueMatcher::Exists(want) => found.is_some_and(|v| !v.is_null()) == *want,
        ValueMatcher::Str(s) => found.is_some_and(|v| any_text(v, &mut |t| s.is_match(t))),
        ValueMatcher::Regex(r) => found.is_some_and(|v| any_text(v, &mut |t| r.is_match(t))),
        ValueMatcher::Cidr(net) => {
            found.is_some_and(|v| any_text(v, &mut |t| t.parse::<IpAddr>().is_ok_and(|ip| net.contains(&ip))))
        }
        ValueMatcher::Compare(op, n) => found.is_some_and(|v| {
            any_text(v, &mut |t| {
                t.trim().parse::<f64>().is_ok_and(|x| match op {
                    CompareOp::Gt => x > *n,
                    CompareOp::Gte => x >= *n,
                    CompareOp::Lt => x < *n,
                    CompareOp::Lte => x <= *n,
                })
            })
        }),
        ValueMatcher::FieldRef { other, cased } => {
            let (Some(a), Some(b)) = (found.and_then(scalar_text), event.get(other).and_then(scalar_text)) else {
                return false;
            };
            if *cased { a == b } else { a.to_lowercase() == b.to_lowercase() }
        }
    }
}

/// Plain values through the transforming modifiers into string matchers.
fn string_values(
    keywords: bool,
    mods: &[Modifier],
    raw: &[&Value],
    cased: bool,
    ctx: &CompileContext,
    needles: &mut Vec<Option<String>>,
) -> Result<Vec<ValueMatcher>, CompileError> {
    let mut out = Vec::new();
    for v in raw {
        let text = match v {
            Value::Null => {
                out.push(ValueMatcher::Null);
                needles.push(None);
                continue;
            }
            Value::String(s) => SigmaString::parse(s),
            other => SigmaString::literal(
                &rule::scalar_text(other).ok_or_else(|| CompileError::Invalid("a value must be a scalar".into()))?,
            ),
        };
        let mut stages = vec![Stage::Text(text)];
        for m in mods {
            stages = transform(*m, stages, ctx.placeholder)?;
        }
        // Encoded values are case-sensitive: base64 text differs by case.
        let encoded = mods.iter().any(|m| matches!(m, Modifier::Base64 | Modifier::Base64Offset));
        for s in stages {
            let Stage::Text(mut s) = s else {
                return Err(CompileError::Modifier {
                    modifier: "utf16".into(),
                    reason: "an encoded value must go through base64 or base64offset".into(),
                });
            };
            // A keyword is a substring of any value unless it places its own wildcards.
            if keywords
                && !mods.iter().any(|m| matches!(m, Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith))
            {
                s.prepend_any();
                s.append_any();
            }
            needles.push(s.needle(cased || encoded).map(str::to_string));
            out.push(ValueMatcher::Str(StrMatcher::compile(&s, cased || encoded)?));
        }
    }
    Ok(out)
}

fn exists_value(v: &Value) -> Result<ValueMatcher, CompileError> {
    match v {
        Value::Bool(b) => Ok(ValueMatcher::Exists(*b)),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
            Ok(ValueMatcher::Exists(s.eq_ignore_ascii_case("true")))
        }
        _ => {
            Err(CompileError::Modifier { modifier: "exists".into(), reason: "the value must be true or false".into() })
        }
    }
}

fn cidr_value(v: &Value) -> Result<ValueMatcher, CompileError> {
    let text = rule::scalar_text(v).unwrap_or_default();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map(ValueMatcher::Cidr)
        .map_err(|_| CompileError::Modifier { modifier: "cidr".into(), reason: format!("'{text}' is not a network") })
}

fn compare_op(mods: &[Modifier]) -> Option<CompareOp> {
    mods.iter().find_map(|m| match m {
        Modifier::Gt => Some(CompareOp::Gt),
        Modifier::Gte => Some(CompareOp::Gte),
        Modifier::Lt => Some(CompareOp::Lt),
        Modifier::Lte => Some(CompareOp::Lte),
        _ => None,
    })
}

fn compare_value(v: &Value, op: CompareOp) -> Result<ValueMatcher, CompileError> {
    let text = rule::scalar_text(v).unwrap_or_default();
    text.trim().parse::<f64>().map(|n| ValueMatcher::Compare(op, n)).map_err(|_| CompileError::Modifier {
        modifier: format!("{op:?}").to_lowercase(),
        reason: format!("'{text}' is not a number"),
    })
}

fn regex_value(v: &Value, mods: &[Modifier]) -> Result<ValueMatcher, CompileError> {
    let pattern = rule::scalar_text(v).ok_or_else(|| CompileError::Invalid("re needs a pattern".into()))?;
    let mut flags = String::new();
    for (m, f) in [(Modifier::ReI, 'i'), (Modifier::ReM, 'm'), (Modifier::ReS, 's')] {
        if mods.contains(&m) {
            flags.push(f);
        }
    }
    let full = if flags.is_empty() { pattern.clone() } else { format!("(?{flags}){pattern}") };
    match regex::RegexBuilder::new(&full).size_limit(1 << 23).build() {
        Ok(r) => Ok(ValueMatcher::Regex(Regex::Plain(r))),
        Err(plain) => fancy_regex::Regex::new(&full)
            .map(|r| ValueMatcher::Regex(Regex::Fancy(Box::new(r))))
            .map_err(|_| CompileError::Pattern(format!("re '{pattern}': {plain}"))),
    }
}
