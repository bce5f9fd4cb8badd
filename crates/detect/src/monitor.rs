//! Event monitoring beyond Sigma (`[detect.monitor]`): threshold rules, absence (liveness) rules
//! and suppression rules, written in mamori's query language and evaluated live.
//!
//! Windows are measured in arrival time (`now` of the batch), not in the events' own
//! timestamps: a sender with a wrong clock neither hides a burst nor fakes one. The state is
//! in memory; after a restart, absence clocks start again from the start.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};
use mamori_core::config::monitor::{AbsenceRule, AlertLevel, MonitorConfig, SuppressionRule, ThresholdRule};
use mamori_core::event::Event;
use mamori_core::tenant::UNASSIGNED;
use mamori_query::{CompiledQuery, FieldPath, string_form};
use rustc_hash::FxHashMap;
use serde_json::{Value, json};

use crate::alert;

/// Groups kept per rule at most; beyond it new groups are not tracked (counted in `dropped`).
const MAX_GROUPS: usize = 100_000;

/// (tenant, values of `group_by`).
type GroupKey = (String, Vec<String>);

struct Threshold {
    rule: ThresholdRule,
    query: CompiledQuery,
    group_by: Vec<FieldPath>,
    window: SignedDuration,
    seen: FxHashMap<GroupKey, VecDeque<Timestamp>>,
}

struct Absence {
    rule: AbsenceRule,
    query: CompiledQuery,
    group_by: Vec<FieldPath>,
    silence: SignedDuration,
    /// Last arrival and whether the silence was already reported.
    last: FxHashMap<GroupKey, (Timestamp, bool)>,
}

struct Suppression {
    rule: SuppressionRule,
    query: CompiledQuery,
}

/// The compiled rules of a revision and their state.
#[derive(Default)]
pub struct Monitors {
    thresholds: Vec<Threshold>,
    absences: Vec<Absence>,
    suppressions: Vec<Suppression>,
    /// Groups not tracked because a rule had [`MAX_GROUPS`] already.
    pub dropped: u64,
}

fn compile(query: &str, now: Timestamp) -> Result<CompiledQuery, String> {
    mamori_query::parse(query, now)
        .map(|q| CompiledQuery::new(&q))
        .map_err(|e| format!("query '{query}': {}", e.message))
}

fn secs(s: u64) -> SignedDuration {
    SignedDuration::from_secs(i64::try_from(s).unwrap_or(i64::MAX / 2))
}

fn tenant_of(event: &Value) -> &str {
    event.pointer("/organization/id").and_then(Value::as_str).unwrap_or(UNASSIGNED)
}

/// The values of the group fields (the first value of each); `None` when one is missing.
fn group_values(fields: &[FieldPath], event: &Value) -> Option<Vec<String>> {
    fields.iter().map(|f| f.values(event).first().and_then(|v| string_form(v)).map(|s| s.into_owned())).collect()
}

impl Monitors {
    /// Compiles the rules; `tenants` are the configured ones (absence rules without `group_by`
    /// watch each from `now`). The configuration was validated, so errors are unexpected.
    pub fn new(config: &MonitorConfig, tenants: &[String], now: Timestamp) -> Result<Monitors, String> {
        let mut m = Monitors::default();
        for r in &config.threshold {
            m.thresholds.push(Threshold {
                query: compile(&r.query, now)?,
                group_by: r.group_by.iter().map(|f| FieldPath::new(f)).collect(),
                window: secs(r.window_secs),
                seen: FxHashMap::default(),
                rule: r.clone(),
            });
        }
        for r in &config.absence {
            let mut last = FxHashMap::default();
            if r.group_by.is_empty() {
                let watched: Vec<&String> = match &r.tenant {
                    Some(t) => vec![t],
                    None => tenants.iter().collect(),
                };
                for t in watched {
                    last.insert((t.clone(), Vec::new()), (now, false));
                }
            }
            m.absences.push(Absence {
                query: compile(&r.query, now)?,
                group_by: r.group_by.iter().map(|f| FieldPath::new(f)).collect(),
                silence: secs(r.silence_secs),
                last,
                rule: r.clone(),
            });
        }
        for r in &config.suppress {
            m.suppressions.push(Suppression { query: compile(&r.query, now)?, rule: r.clone() });
        }
        Ok(m)
    }

    /// A new revision's rules, keeping the state of the rules it did not change.
    pub fn replace(&mut self, mut next: Monitors) {
        for t in &mut next.thresholds {
            if let Some(old) = self.thresholds.iter_mut().find(|o| o.rule == t.rule) {
                t.seen = std::mem::take(&mut old.seen);
            }
        }
        for a in &mut next.absences {
            if let Some(old) = self.absences.iter_mut().find(|o| o.rule == a.rule) {
                a.last = std::mem::take(&mut old.last);
            }
        }
        next.dropped = self.dropped;
        *self = next;
    }

    pub fn is_empty(&self) -> bool {
        self.thresholds.is_empty() && self.absences.is_empty() && self.suppressions.is_empty()
    }

    /// Counts one ingested event; returns the threshold alerts it completes.
    pub fn observe(&mut self, event: &Value, now: Timestamp) -> Vec<Event> {
        let tenant = tenant_of(event);
        let mut alerts = Vec::new();
        for t in &mut self.thresholds {
            if t.rule.tenant.as_deref().is_some_and(|x| x != tenant) || !t.query.matches(event) {
                continue;
            }
            let Some(group) = group_values(&t.group_by, event) else { continue };
            let key = (tenant.to_string(), group);
            if !t.seen.contains_key(&key) && t.seen.len() >= MAX_GROUPS {
                self.dropped += 1;
                continue;
            }
            let times = t.seen.entry(key.clone()).or_default();
            times.push_back(now);
            while times.front().is_some_and(|f| *f < now - t.window) {
                times.pop_front();
            }
            if times.len() as u64 >= t.rule.count {
                let first = times.front().copied().unwrap_or(now);
                // Counting starts again: one alert per burst of `count`.
                times.clear();
                let details = json!({"type": "threshold", "count": t.rule.count, "window_secs": t.rule.window_secs,
                    "group": group_object(&t.rule.group_by, &key.1), "first": first.to_string(), "last": now.to_string()});
                let message = format!(
                    "{}: {} events within {} s ({})",
                    title(&t.rule.title, &t.rule.id),
                    t.rule.count,
                    t.rule.window_secs,
                    t.rule.query
                );
                alerts.push(monitor_alert(
                    &t.rule.id,
                    &t.rule.title,
                    t.rule.level,
                    &key,
                    &t.rule.group_by,
                    details,
                    message,
                    now,
                ));
            }
        }
        for a in &mut self.absences {
            if a.rule.tenant.as_deref().is_some_and(|x| x != tenant) || !a.query.matches(event) {
                continue;
            }
            let Some(group) = group_values(&a.group_by, event) else { continue };
            let key = (tenant.to_string(), group);
            if !a.last.contains_key(&key) && a.last.len() >= MAX_GROUPS {
                self.dropped += 1;
                continue;
            }
            a.last.insert(key, (now, false));
        }
        alerts
    }

    /// Absence alerts due at `now` (call every few seconds); forgets threshold groups whose
    /// window has passed.
    pub fn tick(&mut self, now: Timestamp) -> Vec<Event> {
        let mut alerts = Vec::new();
        for a in &mut self.absences {
            for (key, (last, reported)) in a.last.iter_mut() {
                if *reported || now - a.silence < *last {
                    continue;
                }
                *reported = true;
                let details = json!({"type": "absence", "silence_secs": a.rule.silence_secs,
                    "group": group_object(&a.rule.group_by, &key.1), "last_seen": last.to_string()});
                let message = format!(
                    "{}: no event for {} s since {last} ({})",
                    title(&a.rule.title, &a.rule.id),
                    a.rule.silence_secs,
                    a.rule.query
                );
                alerts.push(monitor_alert(
                    &a.rule.id,
                    &a.rule.title,
                    a.rule.level,
                    key,
                    &a.rule.group_by,
                    details,
                    message,
                    now,
                ));
            }
        }
        for t in &mut self.thresholds {
            let window = t.window;
            t.seen.retain(|_, times| times.back().is_some_and(|b| *b >= now - window));
        }
        alerts
    }

    /// Whether a suppression rule in force covers the alert.
    pub fn suppressed(&self, alert: &Value, now: Timestamp) -> bool {
        let tenant = tenant_of(alert);
        self.suppressions.iter().any(|s| {
            s.rule.expires.is_none_or(|e| now < e)
                && s.rule.tenant.as_deref().is_none_or(|t| t == tenant)
                && s.query.matches(alert)
        })
    }
}

fn title<'a>(title: &'a Option<String>, id: &'a str) -> &'a str {
    title.as_deref().unwrap_or(id)
}

fn group_object(fields: &[String], values: &[String]) -> Value {
    Value::Object(fields.iter().cloned().zip(values.iter().map(|v| json!(v))).collect())
}

#[allow(clippy::too_many_arguments)]
fn monitor_alert(
    id: &str,
    name: &Option<String>,
    level: AlertLevel,
    key: &GroupKey,
    group_by: &[String],
    details: Value,
    message: String,
    now: Timestamp,
) -> Event {
    let mut e = Event::new(now, alert::DATASET);
    e.event.kind = Some("alert".into());
    e.event.module = Some("detect".into());
    e.event.severity = Some(alert::severity(Some(level.as_str())));
    e.set_tenant(&key.0);
    e.extra.insert(
        "rule".into(),
        json!({"id": id, "name": title(name, id), "ruleset": "mamori-monitor", "x_level": level.as_str()}),
    );
    e.extra.insert("detect".into(), json!({ "monitor": details }));
    // A host group is the host an analyst pivots on.
    if let Some(i) = group_by.iter().position(|f| f == "host.name") {
        e.host = Some(mamori_core::event::Host { name: Some(key.1[i].clone()), ..Default::default() });
    }
    e.message = Some(message);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml_text: &str) -> MonitorConfig {
        toml::from_str(toml_text).unwrap()
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn login_failure(tenant: &str, user: &str) -> Value {
        json!({"organization": {"id": tenant}, "event": {"dataset": "auth", "outcome": "failure"}, "user": {"name": user}})
    }

    #[test]
    fn threshold_counts_per_tenant_and_group_within_the_window() {
        let c = config(
            "[[threshold]]\nid = \"brute\"\nquery = \"event.outcome:failure\"\ncount = 3\nwindow_secs = 60\ngroup_by = [\"user.name\"]\nlevel = \"high\"\n",
        );
        let mut m = Monitors::new(&c, &[], at(0)).unwrap();
        assert!(m.observe(&login_failure("midori", "taro"), at(0)).is_empty());
        assert!(m.observe(&login_failure("aoba", "taro"), at(1)).is_empty());
        assert!(m.observe(&login_failure("midori", "hanako"), at(2)).is_empty());
        assert!(m.observe(&login_failure("midori", "taro"), at(3)).is_empty());
        // The first one left the window: still two.
        assert!(m.observe(&login_failure("midori", "taro"), at(61)).is_empty());
        let alerts = m.observe(&login_failure("midori", "taro"), at(62));
        assert_eq!(alerts.len(), 1);
        let a = serde_json::to_value(&alerts[0]).unwrap();
        assert_eq!(a["organization"]["id"], "midori");
        assert_eq!(a["rule"]["id"], "brute");
        assert_eq!(a["event"]["kind"], "alert");
        assert_eq!(a["event"]["severity"], 73);
        assert_eq!(a["detect"]["monitor"]["group"]["user.name"], "taro");
        // Counting starts again after an alert.
        assert!(m.observe(&login_failure("midori", "taro"), at(63)).is_empty());
        // Not the query, no group field: not counted.
        assert!(m.observe(&json!({"organization": {"id": "midori"}, "user": {"name": "taro"}}), at(64)).is_empty());
    }

    #[test]
    fn absence_reports_silent_hosts_and_tenants_once() {
        let c = config(
            "[[absence]]\nid = \"quiet-host\"\nquery = \"event.dataset:winlog\"\nsilence_secs = 600\ngroup_by = [\"host.name\"]\n\
             [[absence]]\nid = \"quiet-tenant\"\ntenant = \"aoba\"\nquery = \"*\"\nsilence_secs = 600\n",
        );
        let mut m = Monitors::new(&c, &["midori".into(), "aoba".into()], at(0)).unwrap();
        let dc = json!({"organization": {"id": "midori"}, "event": {"dataset": "winlog"}, "host": {"name": "dc01"}});
        assert!(m.observe(&dc, at(10)).is_empty());
        assert!(m.tick(at(500)).is_empty());
        let alerts = m.tick(at(611));
        assert_eq!(alerts.len(), 2);
        let host = alerts.iter().find(|a| a.extra["rule"]["id"] == "quiet-host").unwrap();
        assert_eq!(host.tenant(), "midori");
        assert_eq!(host.host.as_ref().unwrap().name.as_deref(), Some("dc01"));
        let tenant = alerts.iter().find(|a| a.extra["rule"]["id"] == "quiet-tenant").unwrap();
        assert_eq!(tenant.tenant(), "aoba");
        // Once only, again after events resume and stop.
        assert!(m.tick(at(1000)).is_empty());
        m.observe(&dc, at(1100));
        assert_eq!(m.tick(at(1701)).len(), 1);
    }

    #[test]
    fn suppression_by_query_tenant_and_expiry() {
        let c = config(
            "[[suppress]]\nquery = \"rule.id:noisy\"\nreason = \"known scanner\"\ntenant = \"midori\"\nexpires = \"2027-01-01T00:00:00Z\"\n",
        );
        let m = Monitors::new(&c, &[], at(0)).unwrap();
        let alert = json!({"organization": {"id": "midori"}, "rule": {"id": "noisy"}});
        let before: Timestamp = "2026-12-31T00:00:00Z".parse().unwrap();
        let after: Timestamp = "2027-01-02T00:00:00Z".parse().unwrap();
        assert!(m.suppressed(&alert, before));
        assert!(!m.suppressed(&alert, after));
        assert!(!m.suppressed(&json!({"organization": {"id": "aoba"}, "rule": {"id": "noisy"}}), before));
        assert!(!m.suppressed(&json!({"organization": {"id": "midori"}, "rule": {"id": "other"}}), before));
    }

    #[test]
    fn a_new_revision_keeps_the_state_of_unchanged_rules() {
        let text = "[[threshold]]\nid = \"t\"\nquery = \"*\"\ncount = 2\nwindow_secs = 60\n";
        let mut m = Monitors::new(&config(text), &[], at(0)).unwrap();
        let e = json!({"organization": {"id": "midori"}});
        assert!(m.observe(&e, at(1)).is_empty());
        m.replace(Monitors::new(&config(text), &[], at(2)).unwrap());
        assert_eq!(m.observe(&e, at(3)).len(), 1);
    }
}
