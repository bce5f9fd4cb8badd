//! What the conformance runners share: the overrides file and the pass/fail tally.

use std::collections::BTreeMap;
use std::path::Path;

/// `KEY reason...` per line (blank lines and `#` comments ignored): failures known and why.
pub fn load_overrides(p: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(p).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace).map(|(k, r)| (k.to_string(), r.trim().to_string())))
        .collect()
}

/// Passes and failures, and the failures the overrides file does not explain.
pub struct Tally {
    pub overrides: BTreeMap<String, String>,
    pub passed: usize,
    pub failed: usize,
    pub unexpected: usize,
}

impl Tally {
    pub fn new(overrides: BTreeMap<String, String>) -> Self {
        Tally { overrides, passed: 0, failed: 0, unexpected: 0 }
    }

    /// Counts one case; a failure prints `KNOWN key: reason` when any of `keys` is listed in
    /// the overrides (the first key names the case), `FAIL key: why` otherwise.
    pub fn record(&mut self, keys: &[&str], outcome: Result<(), String>) {
        let Err(why) = outcome else {
            self.passed += 1;
            return;
        };
        self.failed += 1;
        let key = keys[0];
        match keys.iter().find_map(|k| self.overrides.get(*k)) {
            Some(reason) => println!("KNOWN {key}: {reason}"),
            None => {
                self.unexpected += 1;
                println!("FAIL {key}: {why}");
            }
        }
    }

    /// A file that could not be read: an unexplained failure.
    pub fn unreadable(&mut self, what: &str, why: &str) {
        println!("FAIL {what}: {why}");
        self.failed += 1;
        self.unexpected += 1;
    }

    /// Says how many failures the overrides file does not explain, if any.
    pub fn report_unexpected(&self, suite: &str) {
        if self.unexpected > 0 {
            eprintln!("{suite}: {} failures are not in the overrides file", self.unexpected);
        }
    }
}
