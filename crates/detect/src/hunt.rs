//! Hunting: a rule set over stored or file events, giving a timeline of hits (in the spirit of
//! Hayabusa's), correlations included.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::correlation::Correlator;
use crate::error::EvtxError;
use crate::event::FieldPath;
use crate::evtx::{self, EvtxIssue, EvtxStats};
use crate::ruleset::RuleSet;

/// One line of the timeline.
#[derive(Debug, Clone)]
pub struct Hit {
    pub timestamp: String,
    /// The rule (detection) or correlation that fired.
    pub title: String,
    pub rule_id: Option<String>,
    pub level: Option<String>,
    pub tags: Vec<String>,
    pub computer: String,
    /// `organization.id` of the event (hunts over the store span tenants); empty for files.
    pub tenant: String,
    pub channel: String,
    pub event_id: String,
    pub record_id: String,
    /// The event's most telling fields, `Name: value ¦ ...`.
    pub details: String,
    pub file: String,
}

impl Hit {
    /// The hit as one JSON object (the `--format jsonl` line).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "@timestamp": self.timestamp,
            "rule": {"id": self.rule_id, "name": self.title, "level": self.level, "tags": self.tags},
            "host": {"name": self.computer},
            "winlog": {"channel": self.channel, "event_id": self.event_id, "record_id": self.record_id},
            "details": self.details,
            "log": {"file": {"path": self.file}},
        });
        if !self.tenant.is_empty() {
            v["organization"] = json!({"id": self.tenant});
        }
        v
    }
}

/// Order of Sigma levels, for `--min-level`.
pub fn level_rank(level: Option<&str>) -> u8 {
    match level {
        Some("informational") => 1,
        Some("low") => 2,
        Some("medium") => 3,
        Some("high") => 4,
        Some("critical") => 5,
        _ => 0,
    }
}

/// Matches of one file: (rule index, event).
pub fn evtx_matches(
    path: &Path,
    rules: &RuleSet,
    on_issue: &mut dyn FnMut(EvtxIssue),
) -> Result<(Vec<(usize, Value)>, EvtxStats), EvtxError> {
    let mut out = Vec::new();
    let stats = evtx::read_file(
        path,
        &mut |event| {
            let mut first = None;
            rules.for_each_match(&event, |r| match first {
                // Keep the event once; later rules of the same event share a copy.
                None => first = Some(vec![r]),
                Some(ref mut v) => v.push(r),
            });
            if let Some(matched) = first {
                for r in matched {
                    out.push((r, event.clone()));
                }
            }
        },
        on_issue,
    )?;
    Ok((out, stats))
}

/// Builds the timeline from matches (any order): sorted by time, with the correlations that
/// fire when the matches are replayed in that order.
pub fn timeline(rules: &RuleSet, mut matches: Vec<(usize, Value)>) -> Vec<Hit> {
    matches.sort_by(|a, b| ts(&a.1).cmp(ts(&b.1)));
    let mut correlator = Correlator::default();
    let mut hits = Vec::with_capacity(matches.len());
    for (r, event) in &matches {
        let rule = &rules.rules[*r];
        hits.push(hit_of(&rule.meta.title, rule.meta.id.clone(), rule.meta.level.clone(), &rule.meta.tags, event));
        for c in correlator.observe(&rules.correlations, *r, event) {
            let corr = &rules.correlations[c.correlation];
            let mut h = hit_of(&corr.meta.title, corr.meta.id.clone(), corr.meta.level.clone(), &corr.meta.tags, event);
            h.details = format!(
                "{} {} in group {}",
                c.count,
                format!("{:?}", corr.kind).to_lowercase(),
                c.group.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
            );
            hits.push(h);
        }
    }
    hits
}

fn ts(v: &Value) -> &str {
    v.get("@timestamp").and_then(Value::as_str).unwrap_or("")
}

/// Fields shown first in the details column when the event has them.
const DETAIL_FIELDS: [&str; 12] = [
    "CommandLine",
    "Image",
    "ParentImage",
    "TargetFilename",
    "TargetObject",
    "Details",
    "QueryName",
    "DestinationIp",
    "TargetUserName",
    "IpAddress",
    "ServiceName",
    "ScriptBlockText",
];

fn hit_of(title: &str, rule_id: Option<String>, level: Option<String>, tags: &[String], event: &Value) -> Hit {
    let text = |p: &str| FieldPath::new(p).lookup(event).map(plain).unwrap_or_default();
    let data = FieldPath::new("winlog.event_data").lookup(event);
    let mut details = Vec::new();
    if let Some(Value::Object(d)) = data {
        for f in DETAIL_FIELDS {
            if let Some(v) = d.get(f).map(plain).filter(|v| !v.is_empty()) {
                details.push(format!("{f}: {v}"));
            }
        }
        if details.is_empty() {
            details.extend(d.iter().take(4).map(|(k, v)| format!("{k}: {}", plain(v))));
        }
    } else if let Some(m) = event.get("message").and_then(Value::as_str) {
        details.push(m.to_string());
    }
    Hit {
        timestamp: ts(event).to_string(),
        title: title.to_string(),
        rule_id,
        level,
        tags: tags.to_vec(),
        computer: Some(text("winlog.computer_name")).filter(|c| !c.is_empty()).unwrap_or_else(|| text("host.name")),
        tenant: text("organization.id"),
        channel: text("winlog.channel"),
        event_id: text("winlog.event_id"),
        record_id: text("winlog.record_id"),
        details: details.join(" ¦ "),
        file: text("log.file.path"),
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What a timeline holds, in the spirit of Hayabusa's results summary: hits per level (highest
/// first), the first and last hit, and the computers with the most hits.
pub fn summary(hits: &[Hit]) -> String {
    if hits.is_empty() {
        return "no hits".into();
    }
    let mut levels = [0usize; 6];
    let mut computers: std::collections::BTreeMap<&str, usize> = Default::default();
    for h in hits {
        levels[level_rank(h.level.as_deref()) as usize] += 1;
        *computers.entry(if h.computer.is_empty() { "-" } else { &h.computer }).or_default() += 1;
    }
    let names = ["other", "informational", "low", "medium", "high", "critical"];
    let by_level: Vec<String> =
        (0..6).rev().filter(|&i| levels[i] > 0).map(|i| format!("{} {}", names[i], levels[i])).collect();
    let mut top: Vec<(&str, usize)> = computers.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = top.iter().take(5).map(|(c, n)| format!("{c} ({n})")).collect();
    let (first, last) = hits
        .iter()
        .map(|h| h.timestamp.as_str())
        .filter(|t| !t.is_empty())
        .fold((None::<&str>, None::<&str>), |(lo, hi), t| {
            (Some(lo.map_or(t, |l| l.min(t))), Some(hi.map_or(t, |h| h.max(t))))
        });
    format!(
        "hits by level: {}; first {}, last {}; most hits: {}",
        by_level.join(", "),
        first.unwrap_or("-"),
        last.unwrap_or("-"),
        top.join(", ")
    )
}

/// `.evtx` files under the paths (directories recursively), in name order.
pub fn evtx_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
            entries.sort();
            for e in entries {
                if e.is_dir() {
                    out.extend(evtx_files(&[e])?);
                } else if e.extension().is_some_and(|x| x.eq_ignore_ascii_case("evtx")) {
                    out.push(e);
                }
            }
        } else {
            std::fs::metadata(p)?;
            out.push(p.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(ts: &str, level: Option<&str>, computer: &str) -> Hit {
        let event = json!({"@timestamp": ts, "organization": {"id": "midori"}, "host": {"name": computer}});
        hit_of("r", None, level.map(str::to_string), &[], &event)
    }

    #[test]
    fn hits_carry_the_tenant_and_the_summary_counts_levels_and_computers() {
        let hits = [
            hit("2026-11-22T10:00:02Z", Some("high"), "pc1"),
            hit("2026-11-22T10:00:01Z", Some("critical"), "pc2"),
            hit("2026-11-22T10:00:03Z", Some("high"), "pc2"),
            hit("2026-11-22T10:00:04Z", None, ""),
        ];
        assert_eq!(hits[0].tenant, "midori");
        assert_eq!(hits[0].to_json()["organization"]["id"], "midori");
        assert_eq!(
            summary(&hits),
            "hits by level: critical 1, high 2, other 1; first 2026-11-22T10:00:01Z, last 2026-11-22T10:00:04Z; \
             most hits: pc2 (2), - (1), pc1 (1)"
        );
        assert_eq!(summary(&[]), "no hits");
        let file = hit_of("r", None, None, &[], &json!({"winlog": {"computer_name": "dc1"}}));
        assert!(file.tenant.is_empty() && file.to_json().get("organization").is_none());
    }
}
