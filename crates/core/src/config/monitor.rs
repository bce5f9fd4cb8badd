//! `[detect.monitor]`: event monitoring beyond Sigma, in mamori's query language. Threshold rules
//! (N events within a window, per group), absence rules (silence for a while: liveness) and
//! suppression rules (known noise, with a reason and an expiry). Part of the versioned
//! configuration: every change becomes a revision and is applied live.
//!
//! A rule with a `tenant` applies to that tenant's events; without one it applies to every
//! tenant, each counted on its own.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::diagnostic::{FieldPath, Problem};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threshold: Vec<ThresholdRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absence: Vec<AbsenceRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppress: Vec<SuppressionRule>,
}

/// An alert when at least `count` events match `query` within `window_secs`, per value of
/// `group_by` (several fields: per combination).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRule {
    /// Unique among monitor rules; the alert's `rule.id`.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub query: String,
    pub count: u64,
    pub window_secs: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(default)]
    pub level: AlertLevel,
}

/// An alert when no event matching `query` arrived for `silence_secs`: per value of `group_by`
/// once a value has been seen (a host that stops sending), and per tenant from the start when
/// there is no `group_by` (a tenant whose logs stop). Raised once, raised again after events
/// resume and stop again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsenceRule {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub query: String,
    pub silence_secs: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(default)]
    pub level: AlertLevel,
}

/// Alerts matching `query` (on the alert event: `rule.id:...`, `host.name:...`) are not stored
/// nor routed until `expires`; counted in `detect_alerts_suppressed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionRule {
    pub query: String,
    /// Why (kept with the revision; required so that noise filters stay explained).
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// RFC 3339 time after which the rule no longer applies; absent: until removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
}

/// Sigma's levels, lowest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    Informational,
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Informational => "informational",
            AlertLevel::Low => "low",
            AlertLevel::Medium => "medium",
            AlertLevel::High => "high",
            AlertLevel::Critical => "critical",
        }
    }

    /// A Sigma rule's `level` text; unknown or absent is informational.
    pub fn from_sigma(level: Option<&str>) -> AlertLevel {
        match level {
            Some("low") => AlertLevel::Low,
            Some("medium") => AlertLevel::Medium,
            Some("high") => AlertLevel::High,
            Some("critical") => AlertLevel::Critical,
            _ => AlertLevel::Informational,
        }
    }
}

impl MonitorConfig {
    pub fn is_empty(&self) -> bool {
        self.threshold.is_empty() && self.absence.is_empty() && self.suppress.is_empty()
    }

    /// Problems of the rules: queries that do not parse, unknown tenants, duplicate ids, zero
    /// windows.
    pub fn validate(&self, path: &FieldPath, tenants: &[&str], problems: &mut Vec<Problem>) {
        let mut ids = std::collections::BTreeMap::new();
        let mut check_common =
            |p: FieldPath, id: Option<&str>, tenant: &Option<String>, query: &str, problems: &mut Vec<Problem>| {
                if let Some(id) = id {
                    if id.trim().is_empty() {
                        problems.push(Problem::new(p.key("id"), "a monitor rule needs an id"));
                    } else if let Some(first) = ids.insert(id.to_string(), p.to_string()) {
                        problems.push(Problem::new(p.key("id"), format!("id '{id}' is also used by {first}")));
                    }
                }
                if let Some(t) = tenant
                    && !tenants.contains(&t.as_str())
                {
                    problems.push(Problem::new(p.key("tenant"), format!("no tenant with id '{t}'")));
                }
                if let Err(e) = mamori_query::parse(query, Timestamp::now()) {
                    problems.push(Problem::new(p.key("query"), format!("the query does not parse: {}", e.message)));
                }
            };
        for (i, r) in self.threshold.iter().enumerate() {
            let p = path.key("threshold").index(i);
            check_common(p.clone(), Some(&r.id), &r.tenant, &r.query, problems);
            if r.count == 0 {
                problems.push(Problem::new(p.key("count"), "count must be at least 1"));
            }
            if r.window_secs == 0 {
                problems.push(Problem::new(p.key("window_secs"), "window_secs must be at least 1"));
            }
        }
        for (i, r) in self.absence.iter().enumerate() {
            let p = path.key("absence").index(i);
            check_common(p.clone(), Some(&r.id), &r.tenant, &r.query, problems);
            if r.silence_secs == 0 {
                problems.push(Problem::new(p.key("silence_secs"), "silence_secs must be at least 1"));
            }
        }
        for (i, r) in self.suppress.iter().enumerate() {
            let p = path.key("suppress").index(i);
            check_common(p.clone(), None, &r.tenant, &r.query, problems);
            if r.reason.trim().is_empty() {
                problems.push(Problem::new(p.key("reason"), "a suppression rule needs a reason"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_rule_field() {
        let cfg: MonitorConfig = toml::from_str(
            r#"
[[threshold]]
id = "a"
query = "event.action:("
count = 0
window_secs = 60
[[absence]]
id = "a"
tenant = "nowhere"
query = "*"
silence_secs = 60
[[suppress]]
query = "rule.id:x"
reason = " "
"#,
        )
        .unwrap();
        let mut problems = Vec::new();
        cfg.validate(&FieldPath::root().key("detect").key("monitor"), &["midori"], &mut problems);
        let text: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
        assert_eq!(text.len(), 5, "{text:?}");
        assert!(text[0].starts_with("detect.monitor.threshold[0].query"), "{text:?}");
        assert!(text.iter().any(|t| t.contains("absence[0].id: id 'a' is also used")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("absence[0].tenant")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("suppress[0].reason")), "{text:?}");
    }
}
