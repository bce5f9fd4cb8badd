//! The Sigma engine end to end: rule text in, events matched or not.

use std::path::Path;

use mamori_detect::{CompileOptions, Correlator, Pipeline, RuleSet};
use serde_json::{Value, json};

/// A rule set of one rule for Security events, with `detection` as YAML.
fn rule(detection: &str) -> RuleSet {
    let text = format!("title: t\nid: r\nlogsource: {{product: windows, service: security}}\ndetection:\n{detection}");
    let mut set = RuleSet::default();
    set.add_text(Path::new("t.yml"), &text, &Pipeline::default(), &CompileOptions::default());
    assert!(set.failures.is_empty(), "{:?}", set.failures);
    set
}

fn security(data: Value) -> Value {
    json!({"winlog": {"channel": "Security", "event_id": "4688", "event_data": data}})
}

fn hit(set: &RuleSet, data: Value) -> bool {
    !set.matches(&security(data)).is_empty()
}

#[test]
fn field_lists_maps_and_case_insensitivity() {
    let s = rule(
        "  sel:\n    CommandLine|contains:\n      - whoami\n      - ' /priv'\n    User: SYSTEM\n  condition: sel\n",
    );
    assert!(hit(&s, json!({"CommandLine": "c:\\WHOAMI.exe", "User": "system"})));
    assert!(!hit(&s, json!({"CommandLine": "c:\\whoami.exe", "User": "admin"})));
    assert!(!hit(&s, json!({"CommandLine": "dir", "User": "system"})));
}

#[test]
fn list_of_maps_is_an_or() {
    let s = rule("  sel:\n    - Image|endswith: '\\a.exe'\n    - Image|endswith: '\\b.exe'\n  condition: sel\n");
    assert!(hit(&s, json!({"Image": "C:\\x\\B.EXE"})));
    assert!(!hit(&s, json!({"Image": "C:\\x\\c.exe"})));
}

#[test]
fn contains_all_and_windash() {
    let s = rule(
        "  sel:\n    CommandLine|contains|all: [net, ' user']\n    CommandLine|windash|contains: ' -add'\n  condition: sel\n",
    );
    assert!(hit(&s, json!({"CommandLine": "net user x /add"})));
    assert!(hit(&s, json!({"CommandLine": "net user x –add"})));
    assert!(!hit(&s, json!({"CommandLine": "net x /add"})));
}

#[test]
fn regex_with_flags_is_cased_by_default() {
    let s = rule("  a:\n    CommandLine|re: 'ab+c'\n  condition: a\n");
    assert!(hit(&s, json!({"CommandLine": "xabbbc"})));
    assert!(!hit(&s, json!({"CommandLine": "xABBC"})));
    let s = rule("  a:\n    CommandLine|re|i: '^ab+c$'\n  condition: a\n");
    assert!(hit(&s, json!({"CommandLine": "ABBC"})));
    // Look-around goes to fancy-regex.
    let s = rule("  a:\n    CommandLine|re: 'foo(?!bar)'\n  condition: a\n");
    assert!(hit(&s, json!({"CommandLine": "foobaz"})));
    assert!(!hit(&s, json!({"CommandLine": "foobar"})));
}

#[test]
fn base64offset_and_utf16() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let s = rule("  a:\n    CommandLine|base64offset|contains: 'http://'\n  condition: a\n");
    for prefix in ["", "x", "xy"] {
        let cmd = format!("powershell -e {}", b64(format!("{prefix}http://evil").as_bytes()));
        assert!(hit(&s, json!({ "CommandLine": cmd })), "offset {}", prefix.len());
    }
    let s = rule("  a:\n    CommandLine|wide|base64offset|contains: 'iex'\n  condition: a\n");
    let utf16: Vec<u8> = "xiex(".encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert!(hit(&s, json!({ "CommandLine": b64(&utf16) })));
}

#[test]
fn cidr_numbers_exists_null_and_cased() {
    let s = rule("  a:\n    IpAddress|cidr: 10.0.0.0/8\n  condition: a\n");
    assert!(hit(&s, json!({"IpAddress": "10.1.2.3"})));
    assert!(!hit(&s, json!({"IpAddress": "11.1.2.3"})));
    let s = rule("  a:\n    LogonType|gte: 10\n  condition: a\n");
    assert!(hit(&s, json!({"LogonType": "10"})));
    assert!(!hit(&s, json!({"LogonType": "3"})));
    let s = rule("  a:\n    Extra|exists: true\n  condition: a\n");
    assert!(hit(&s, json!({"Extra": "x"})));
    assert!(!hit(&s, json!({})));
    let s = rule("  a:\n    Extra: null\n  condition: a\n");
    assert!(hit(&s, json!({})));
    assert!(hit(&s, json!({"Extra": ""})));
    assert!(!hit(&s, json!({"Extra": "x"})));
    let s = rule("  a:\n    User|cased: Admin\n  condition: a\n");
    assert!(hit(&s, json!({"User": "Admin"})));
    assert!(!hit(&s, json!({"User": "admin"})));
}

#[test]
fn fieldref_compares_two_fields() {
    let s = rule("  a:\n    TargetUserName|fieldref: SubjectUserName\n  condition: a\n");
    assert!(hit(&s, json!({"TargetUserName": "bob", "SubjectUserName": "BOB"})));
    assert!(!hit(&s, json!({"TargetUserName": "bob", "SubjectUserName": "eve"})));
}

#[test]
fn keywords_search_every_value() {
    let s = rule("  kw:\n    - mimikatz\n    - 'sekurlsa::'\n  condition: kw\n");
    assert!(hit(&s, json!({"Anything": "run Mimikatz now"})));
    assert!(!hit(&s, json!({"Anything": "calc"})));
}

#[test]
fn conditions_with_of_and_not() {
    let s = rule(
        "  sel_a:\n    A: '1'\n  sel_b:\n    B: '1'\n  filter:\n    C: '1'\n  condition: 1 of sel_* and not filter\n",
    );
    assert!(hit(&s, json!({"B": "1"})));
    assert!(!hit(&s, json!({"B": "1", "C": "1"})));
    assert!(!hit(&s, json!({})));
}

#[test]
fn scope_keeps_rules_to_their_log_source() {
    let s = rule("  a:\n    EventID: 4688\n  condition: a\n");
    let mut other = security(json!({}));
    other["winlog"]["channel"] = json!("System");
    assert!(s.matches(&other).is_empty());
    assert!(!s.matches(&security(json!({}))).is_empty());
}

#[test]
fn process_creation_reads_security_4688_with_renamed_fields() {
    let text = "title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n  \
                a: {Image|endswith: '\\evil.exe'}\n  condition: a\n";
    let mut set = RuleSet::default();
    set.add_text(Path::new("t.yml"), text, &Pipeline::default(), &CompileOptions::default());
    let sysmon = json!({"winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1,
                                   "event_data": {"Image": "C:\\evil.exe"}}});
    let sec = json!({"winlog": {"channel": "Security", "event_id": "4688",
                                "event_data": {"NewProcessName": "C:\\evil.exe"}}});
    assert_eq!(set.matches(&sysmon), [0]);
    assert_eq!(set.matches(&sec), [0]);
}

#[test]
fn mamori_datasets_with_ecs_fields() {
    let text =
        "title: t\nlogsource: {category: proxy}\ndetection:\n  a: {c-useragent|contains: sqlmap}\n  condition: a\n";
    let mut set = RuleSet::default();
    set.add_text(Path::new("t.yml"), text, &Pipeline::default(), &CompileOptions::default());
    let ev = json!({"event": {"dataset": "proxy.access"}, "user_agent": {"original": "sqlmap/1.0"}});
    assert_eq!(set.matches(&ev), [0]);
    let dns = json!({"event": {"dataset": "dns.query"}, "user_agent": {"original": "sqlmap/1.0"}});
    assert!(set.matches(&dns).is_empty());
}

#[test]
fn bad_rules_fail_with_reasons() {
    let mut set = RuleSet::default();
    let p = Pipeline::default();
    let o = CompileOptions::default();
    let base = "title: t\nlogsource: {product: windows}\ndetection:\n";
    set.add_text(Path::new("a.yml"), &format!("{base}  a: {{X|nosuch: 1}}\n  condition: a\n"), &p, &o);
    set.add_text(Path::new("b.yml"), &format!("{base}  a: {{X: 1}}\n  condition: a and b\n"), &p, &o);
    set.add_text(Path::new("c.yml"), &format!("{base}  a: {{X|re: '(('}}\n  condition: a\n"), &p, &o);
    set.add_text(Path::new("d.yml"), &format!("{base}  a: {{X|expand: '%x%'}}\n  condition: a\n"), &p, &o);
    set.add_text(Path::new("e.yml"), "title: [", &p, &o);
    let reasons: Vec<String> = set.failures.iter().map(|f| f.to_string()).collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].contains("unknown modifier 'nosuch'"));
    assert!(reasons[1].contains("'b' is not a search identifier"));
    assert!(reasons[2].contains("pattern"));
    assert!(reasons[3].contains("placeholder %x%"));
    assert!(reasons[4].contains("YAML"));
}

#[test]
fn event_count_correlation_by_group() {
    let text = "title: failed logon\nid: base\nname: failed_logon\nlogsource: {product: windows, service: security}\n\
                detection:\n  a: {EventID: 4625}\n  condition: a\n---\n\
                title: brute force\nid: corr\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  \
                group-by: [IpAddress]\n  timespan: 5m\n  condition: {gte: 3}\n";
    let mut set = RuleSet::default();
    set.add_text(Path::new("c.yml"), text, &Pipeline::default(), &CompileOptions::default());
    set.finish();
    assert!(set.failures.is_empty(), "{:?}", set.failures);
    assert_eq!(set.correlations.len(), 1);
    let mut corr = Correlator::default();
    let ev = |ip: &str, sec: u32| {
        json!({"@timestamp": format!("2026-01-01T00:0{}:00Z", sec), "winlog": {"channel": "Security", "event_id": "4625",
               "event_data": {"IpAddress": ip}}})
    };
    let mut fired = Vec::new();
    for (ip, t) in [("1.1.1.1", 0), ("2.2.2.2", 1), ("1.1.1.1", 2), ("1.1.1.1", 3)] {
        let e = ev(ip, t);
        for r in set.matches(&e) {
            fired.extend(corr.observe(&set.correlations, r, &e));
        }
    }
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].group, [("IpAddress".to_string(), "1.1.1.1".to_string())]);
    assert_eq!(fired[0].count, 3);
}

#[test]
fn temporal_ordered_needs_the_order() {
    let text = "title: a\nname: ra\nlogsource: {product: windows, service: security}\ndetection:\n  a: {EventID: 1}\n  condition: a\n---\n\
                title: b\nname: rb\nlogsource: {product: windows, service: security}\ndetection:\n  a: {EventID: 2}\n  condition: a\n---\n\
                title: seq\ncorrelation:\n  type: temporal_ordered\n  rules: [ra, rb]\n  group-by: [H]\n  timespan: 1h\n";
    let mut set = RuleSet::default();
    set.add_text(Path::new("c.yml"), text, &Pipeline::default(), &CompileOptions::default());
    set.finish();
    assert!(set.failures.is_empty(), "{:?}", set.failures);
    let ev = |id: u32, min: u32| json!({"@timestamp": format!("2026-01-01T00:{min:02}:00Z"), "winlog": {"channel": "Security", "event_id": id.to_string(), "event_data": {"H": "h"}}});
    let run = |order: &[(u32, u32)]| {
        let mut corr = Correlator::default();
        let mut n = 0;
        for &(id, min) in order {
            let e = ev(id, min);
            for r in set.matches(&e) {
                n += corr.observe(&set.correlations, r, &e).len();
            }
        }
        n
    };
    assert_eq!(run(&[(1, 0), (2, 1)]), 1);
    assert_eq!(run(&[(2, 0), (1, 1)]), 0);
}
