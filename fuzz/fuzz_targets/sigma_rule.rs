//! Sigma rules come from rule repositories an operator points mamori at: any text must load
//! as rules or be refused with a reason, never panic; what compiles evaluates any event. The
//! condition parser is reached on its own too, with the first line as the condition.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mamori_detect::{CompileOptions, Pipeline, RuleSet};

/// Read once: parsing the built-in Windows pipeline per input would dominate the run.
static PIPELINE: LazyLock<Pipeline> = LazyLock::new(Pipeline::default);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let names: Vec<String> = ["sel", "sel_a", "filter", "_x"].iter().map(|s| s.to_string()).collect();
    let condition = text.lines().next().unwrap_or_default();
    if let Ok(expr) = mamori_detect::condition::parse(condition, &names) {
        let _ = expr.eval(&mut |i| i % 2 == 0);
    }
    let mut set = RuleSet::default();
    set.add_text(std::path::Path::new("fuzz.yml"), text, &PIPELINE, &CompileOptions::default());
    set.finish();
    let event = serde_json::json!({"winlog": {"channel": "Security", "event_id": "4688",
        "event_data": {"CommandLine": text, "Image": "C:\\x.exe", "IpAddress": "10.0.0.1", "n": "5"}},
        "event": {"dataset": "proxy.access"}, "url": {"full": text}});
    let _ = set.matches(&event);
});
