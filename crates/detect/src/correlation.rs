//! Sigma correlation rules (specification v2): `event_count`, `value_count`, `temporal` and
//! `temporal_ordered` over the matches of other rules, grouped by fields within a timespan.
//!
//! [`CorrelationRule`] is the compiled rule; [`Correlator`] keeps the windows per group and
//! says when a correlation fires. Time is the events' `@timestamp`, so hunting over old logs
//! correlates as live evaluation does.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value as Json;
use serde_norway::{Mapping, Value};

use crate::compiled::CompiledRule;
use crate::error::CompileError;
use crate::event::{FieldPath, scalar_text as event_text};
use crate::rule::{RuleMeta, scalar_text, string_field};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

/// `condition: {gte: 10}` (several bounds all hold).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CountCondition {
    pub bounds: Vec<(String, u64)>,
    /// The field whose distinct values `value_count` counts.
    pub field: Option<String>,
}

impl CountCondition {
    fn holds(&self, n: u64) -> bool {
        self.bounds.iter().all(|(op, v)| match op.as_str() {
            "gt" => n > *v,
            "gte" => n >= *v,
            "lt" => n < *v,
            "lte" => n <= *v,
            "eq" => n == *v,
            "neq" => n != *v,
            _ => false,
        })
    }
}

#[derive(Debug, Clone)]
pub struct CorrelationRule {
    pub meta: RuleMeta,
    pub kind: CorrelationType,
    /// The referred rules by id or name, as written.
    pub rule_refs: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan: SignedDuration,
    pub condition: CountCondition,
    /// `aliases: {alias: {rule name: field}}`: a group-by name read from a different field per rule.
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    /// Rule indices in the rule set, in `rule_refs` order (after [`CorrelationRule::resolve`]).
    pub resolved: Vec<usize>,
    /// Per resolved rule: the group-by paths and the value_count field path.
    paths: Vec<(Vec<FieldPath>, Option<FieldPath>)>,
}

impl CorrelationRule {
    pub fn compile(meta: RuleMeta, m: &Mapping) -> Result<CorrelationRule, CompileError> {
        let kind = match string_field(m, "type")?.as_deref() {
            Some("event_count") => CorrelationType::EventCount,
            Some("value_count") => CorrelationType::ValueCount,
            Some("temporal") => CorrelationType::Temporal,
            Some("temporal_ordered") => CorrelationType::TemporalOrdered,
            Some(other) => return Err(CompileError::Invalid(format!("unknown correlation type '{other}'"))),
            None => return Err(CompileError::Missing("correlation type")),
        };
        let rule_refs = list(m, "rules");
        if rule_refs.is_empty() {
            return Err(CompileError::Missing("correlation rules"));
        }
        let timespan = parse_timespan(&string_field(m, "timespan")?.ok_or(CompileError::Missing("timespan"))?)?;
        let mut condition = CountCondition::default();
        match m.get("condition") {
            Some(Value::Mapping(c)) => {
                for (k, v) in c {
                    let k = scalar_text(k).unwrap_or_default();
                    if k == "field" {
                        condition.field = scalar_text(v);
                        continue;
                    }
                    let n = scalar_text(v)
                        .and_then(|t| t.parse::<u64>().ok())
                        .ok_or_else(|| CompileError::Invalid(format!("condition {k} needs a number")))?;
                    if !["gt", "gte", "lt", "lte", "eq", "neq"].contains(&k.as_str()) {
                        return Err(CompileError::Invalid(format!("unknown correlation condition '{k}'")));
                    }
                    condition.bounds.push((k, n));
                }
            }
            None if matches!(kind, CorrelationType::Temporal | CorrelationType::TemporalOrdered) => {}
            _ => return Err(CompileError::Missing("correlation condition")),
        }
        if kind == CorrelationType::ValueCount && condition.field.is_none() {
            return Err(CompileError::Invalid("value_count needs condition.field".into()));
        }
        let mut aliases = Vec::new();
        if let Some(Value::Mapping(a)) = m.get("aliases") {
            for (alias, per_rule) in a {
                let Value::Mapping(per_rule) = per_rule else { continue };
                let map = per_rule.iter().filter_map(|(r, f)| Some((scalar_text(r)?, scalar_text(f)?))).collect();
                aliases.push((scalar_text(alias).unwrap_or_default(), map));
            }
        }
        Ok(CorrelationRule {
            meta,
            kind,
            rule_refs,
            group_by: list(m, "group-by"),
            timespan,
            condition,
            aliases,
            resolved: Vec::new(),
            paths: Vec::new(),
        })
    }

    /// Finds the referred rules among `rules` and their fields.
    pub fn resolve(&mut self, rules: &[CompiledRule]) -> Result<(), CompileError> {
        self.resolved.clear();
        self.paths.clear();
        for r in &self.rule_refs {
            let found = rules
                .iter()
                .position(|c| c.meta.id.as_deref() == Some(r.as_str()) || c.meta.name.as_deref() == Some(r.as_str()))
                .ok_or_else(|| CompileError::Invalid(format!("correlation refers to unknown rule '{r}'")))?;
            let rule = &rules[found];
            let path = |sigma: &str| -> FieldPath {
                // An alias is read from the field named for this rule.
                let sigma = self
                    .aliases
                    .iter()
                    .find(|(a, _)| a == sigma)
                    .and_then(|(_, per)| per.iter().find(|(name, _)| name == r).map(|(_, f)| f.as_str()))
                    .unwrap_or(sigma);
                rule.variants.first().map_or_else(|| FieldPath::new(sigma), |v| v.target.field_path(sigma))
            };
            let group = self.group_by.iter().map(|g| path(g)).collect();
            let field = self.condition.field.as_deref().map(path);
            self.resolved.push(found);
            self.paths.push((group, field));
        }
        Ok(())
    }
}

fn list(m: &Mapping, key: &str) -> Vec<String> {
    match m.get(key) {
        Some(Value::Sequence(s)) => s.iter().filter_map(scalar_text).collect(),
        Some(v) => scalar_text(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// `30s`, `5m`, `1h`, `2d` (Sigma's timespan units; `M` and `y` are not fixed lengths).
pub fn parse_timespan(text: &str) -> Result<SignedDuration, CompileError> {
    let bad = || CompileError::Invalid(format!("timespan '{text}' is not a number followed by s, m, h, d or w"));
    let t = text.trim();
    let unit = t.chars().last().ok_or_else(bad)?;
    let n: i64 = t[..t.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        'w' => 7 * 86400,
        _ => return Err(bad()),
    };
    Ok(SignedDuration::from_secs(n.saturating_mul(secs)))
}

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationHit {
    pub correlation: usize,
    /// `organization.id` of the correlated events (empty when they have none).
    pub tenant: String,
    /// `field=value` of the group.
    pub group: Vec<(String, String)>,
    /// What was counted: events, distinct values, or rules seen.
    pub count: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

#[derive(Debug, Default)]
struct GroupState {
    /// (time, counted value) of matches inside the window.
    seen: VecDeque<(Timestamp, Option<String>, usize)>,
}

/// The per-group windows of a rule set's correlations.
#[derive(Debug, Default)]
pub struct Correlator {
    groups: FxHashMap<(usize, Vec<String>), GroupState>,
}

/// Windows kept at most (oldest groups are dropped beyond it, counted by the caller).
const MAX_GROUPS: usize = 1_000_000;

impl Correlator {
    /// Feeds the match of rule `rule` on `event`; returns the correlations that fire.
    pub fn observe(&mut self, correlations: &[CorrelationRule], rule: usize, event: &Json) -> Vec<CorrelationHit> {
        let mut hits = Vec::new();
        let Some(time) = event_time(event) else { return hits };
        for (ci, c) in correlations.iter().enumerate() {
            for (pos, _) in c.resolved.iter().enumerate().filter(|(_, r)| **r == rule) {
                let (group_paths, field_path) = &c.paths[pos];
                // Groups never span tenants: the tenant leads the key.
                let tenant = event.pointer("/organization/id").and_then(Json::as_str).unwrap_or("");
                let key: Vec<String> = std::iter::once(tenant.to_string())
                    .chain(
                        group_paths
                            .iter()
                            .map(|p| p.lookup(event).and_then(event_text).map(|t| t.into_owned()).unwrap_or_default()),
                    )
                    .collect();
                let value =
                    field_path.as_ref().and_then(|p| p.lookup(event).and_then(event_text)).map(|t| t.into_owned());
                if c.kind == CorrelationType::ValueCount && value.is_none() {
                    continue;
                }
                if self.groups.len() >= MAX_GROUPS && !self.groups.contains_key(&(ci, key.clone())) {
                    continue;
                }
                let state = self.groups.entry((ci, key.clone())).or_default();
                state.seen.push_back((time, value, pos));
                while state.seen.front().is_some_and(|(t, _, _)| time.duration_since(*t) > c.timespan) {
                    state.seen.pop_front();
                }
                if let Some(count) = fires(c, &state.seen) {
                    let first = state.seen.front().map_or(time, |s| s.0);
                    state.seen.clear();
                    let group = c.group_by.iter().cloned().zip(key.iter().skip(1).cloned()).collect();
                    hits.push(CorrelationHit {
                        correlation: ci,
                        tenant: key[0].clone(),
                        group,
                        count,
                        first,
                        last: time,
                    });
                }
            }
        }
        hits
    }
}

fn fires(c: &CorrelationRule, seen: &VecDeque<(Timestamp, Option<String>, usize)>) -> Option<u64> {
    match c.kind {
        CorrelationType::EventCount => {
            let n = seen.len() as u64;
            c.condition.holds(n).then_some(n)
        }
        CorrelationType::ValueCount => {
            let n = seen.iter().filter_map(|s| s.1.as_deref()).collect::<FxHashSet<_>>().len() as u64;
            c.condition.holds(n).then_some(n)
        }
        CorrelationType::Temporal => {
            let n = seen.iter().map(|s| s.2).collect::<FxHashSet<_>>().len() as u64;
            let all = n == c.resolved.len() as u64;
            (all && (c.condition.bounds.is_empty() || c.condition.holds(n))).then_some(n)
        }
        CorrelationType::TemporalOrdered => {
            // The rules must appear in their listed order inside the window.
            let mut next = 0;
            for s in seen {
                if s.2 == next {
                    next += 1;
                    if next == c.resolved.len() {
                        return Some(next as u64);
                    }
                }
            }
            None
        }
    }
}

/// The event's `@timestamp`.
pub fn event_time(event: &Json) -> Option<Timestamp> {
    event.get("@timestamp").and_then(Json::as_str).and_then(|t| t.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("5m").unwrap(), SignedDuration::from_secs(300));
        assert_eq!(parse_timespan("1d").unwrap(), SignedDuration::from_secs(86400));
        assert!(parse_timespan("1M").is_err());
        assert!(parse_timespan("").is_err());
    }
}
