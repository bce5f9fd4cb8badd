//! Live evaluation: batches of accepted events (their JSON records) in, alerts out.
//!
//! The caller (the server) feeds it the log store's durable batches and writes the alerts
//! back into the store; this module holds the rules, the correlation windows and the counters.

use std::sync::OnceLock;

use jiff::Timestamp;
use mamori_core::event::Event;
use prometheus_client::metrics::counter::Counter;
use serde_json::Value;

use crate::alert;
use crate::correlation::Correlator;
use crate::monitor::Monitors;
use crate::ruleset::RuleSet;

struct Metrics {
    evaluated: Counter,
    alerts: Counter,
    unreadable: Counter,
    skipped: Counter,
    suppressed: Counter,
}

fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let m = Metrics {
            evaluated: Counter::default(),
            alerts: Counter::default(),
            unreadable: Counter::default(),
            skipped: Counter::default(),
            suppressed: Counter::default(),
        };
        let reg = mamori_core::metrics::register;
        reg("detect_events_evaluated", "Events evaluated by the Sigma rules", m.evaluated.clone());
        reg("detect_alerts", "Alerts raised by Sigma rules, correlations and monitor rules", m.alerts.clone());
        reg("detect_alerts_suppressed", "Alerts dropped by a suppression rule", m.suppressed.clone());
        reg("detect_events_unreadable", "Accepted records detection could not read as JSON", m.unreadable.clone());
        reg(
            "detect_events_skipped",
            "Accepted events left unevaluated because detection fell behind (queue full)",
            m.skipped.clone(),
        );
        m
    })
}

/// Counts events that were not evaluated because the queue was full.
pub fn count_skipped(n: u64) {
    metrics().skipped.inc_by(n);
}

/// The rules and their state.
pub struct LiveDetector {
    rules: RuleSet,
    correlator: Correlator,
    monitors: Monitors,
}

impl LiveDetector {
    pub fn new(rules: RuleSet) -> Self {
        LiveDetector { rules, correlator: Correlator::default(), monitors: Monitors::default() }
    }

    /// Rules re-read from their files; correlation windows start again (rule numbers changed).
    pub fn set_rules(&mut self, rules: RuleSet) {
        self.rules = rules;
        self.correlator = Correlator::default();
    }

    /// The monitor rules of a new revision (unchanged rules keep their counts).
    pub fn set_monitors(&mut self, monitors: Monitors) {
        self.monitors.replace(monitors);
    }

    /// Whether any event could raise an alert (otherwise batches need not be read).
    pub fn is_idle(&self) -> bool {
        self.rules.rules.is_empty() && self.monitors.is_empty()
    }

    /// Absence alerts due at `now` (call every few seconds).
    pub fn tick(&mut self, now: Timestamp) -> Vec<Event> {
        let alerts = self.monitors.tick(now);
        self.finish(alerts, now)
    }

    /// Drops suppressed alerts and counts the rest.
    fn finish(&self, mut alerts: Vec<Event>, now: Timestamp) -> Vec<Event> {
        if !self.monitors.is_empty() {
            let before = alerts.len();
            alerts.retain(|a| serde_json::to_value(a).map_or(true, |v| !self.monitors.suppressed(&v, now)));
            metrics().suppressed.inc_by((before - alerts.len()) as u64);
        }
        metrics().alerts.inc_by(alerts.len() as u64);
        alerts
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Evaluates the records of one batch; returns the alerts to store.
    pub fn evaluate<R: AsRef<[u8]>>(&mut self, records: impl Iterator<Item = R>, now: Timestamp) -> Vec<Event> {
        let mut alerts = Vec::new();
        let mut evaluated = 0;
        if self.is_idle() {
            return Vec::new();
        }
        for record in records {
            let mut event: Value = match serde_json::from_slice(record.as_ref()) {
                Ok(v) => v,
                Err(_) => {
                    metrics().unreadable.inc();
                    continue;
                }
            };
            // Our own alerts are not evaluated again (no rule is meant for them, and a loop
            // must be impossible).
            if event.pointer("/event/dataset").and_then(Value::as_str) == Some(alert::DATASET) {
                continue;
            }
            evaluated += 1;
            // Windows events forwarded by NXLog read as Winlogbeat's.
            crate::nxlog::normalize(&mut event);
            alerts.extend(self.monitors.observe(&event, now));
            let mut matched = Vec::new();
            self.rules.for_each_match(&event, |r| matched.push(r));
            for r in matched {
                alerts.push(alert::rule_alert(&self.rules.rules[r], &event, now));
                for hit in self.correlator.observe(&self.rules.correlations, r, &event) {
                    alerts.push(alert::correlation_alert(&self.rules.correlations[hit.correlation], &hit, now));
                }
            }
        }
        metrics().evaluated.inc_by(evaluated);
        self.finish(alerts, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, Pipeline};

    #[test]
    fn batches_give_tenant_scoped_alerts_and_alerts_are_not_reevaluated() {
        let mut rules = RuleSet::default();
        let text = "title: any proxy\nid: p\nlogsource: {category: proxy}\ndetection:\n  a: {url.domain|endswith: '.evil'}\n  condition: a\n";
        rules.add_text(std::path::Path::new("p.yml"), text, &Pipeline::default(), &CompileOptions::default());
        let mut live = LiveDetector::new(rules);
        let a = br#"{"event":{"id":"1","dataset":"proxy.access"},"organization":{"id":"midori"},"url":{"domain":"x.evil"}}"#;
        let b =
            br#"{"event":{"id":"2","dataset":"proxy.access"},"organization":{"id":"aoba"},"url":{"domain":"ok.jp"}}"#;
        let bad = b"not json";
        let alerts = live.evaluate([&a[..], &b[..], &bad[..]].into_iter(), Timestamp::UNIX_EPOCH);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].tenant(), "midori");
        let again = serde_json::to_vec(&alerts[0]).unwrap();
        assert!(live.evaluate([&again[..]].into_iter(), Timestamp::UNIX_EPOCH).is_empty());
    }

    #[test]
    fn monitors_raise_and_suppress_alerts() {
        let mut live = LiveDetector::new(RuleSet::default());
        assert!(live.is_idle());
        let config: mamori_core::config::monitor::MonitorConfig = toml::from_str(
            "[[threshold]]\nid = \"many-denials\"\nquery = \"event.action:denied\"\ncount = 2\nwindow_secs = 60\ngroup_by = [\"source.ip\"]\n\
             [[suppress]]\nquery = \"detect.monitor.group.source.ip:10.9.9.9\"\nreason = \"the scanner\"\n",
        )
        .unwrap();
        live.set_monitors(Monitors::new(&config, &[], Timestamp::UNIX_EPOCH).unwrap());
        let denied = |ip: &str| {
            format!(r#"{{"organization":{{"id":"midori"}},"event":{{"action":"denied"}},"source":{{"ip":"{ip}"}}}}"#)
        };
        let batch = [denied("10.1.1.1"), denied("10.9.9.9"), denied("10.1.1.1"), denied("10.9.9.9")];
        let alerts = live.evaluate(batch.iter().map(|s| s.as_bytes()), Timestamp::UNIX_EPOCH);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].extra["detect"]["monitor"]["group"]["source.ip"], "10.1.1.1");
    }
}
