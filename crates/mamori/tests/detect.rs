//! Live detection in `mamori up`: Sigma rules of `[detect]` on events ingested through the
//! API (here by `mamori logs import` against the running server); alerts land in the store in
//! the tenant of the event that matched. And `mamori hunt` over what was stored.

mod common;

use std::io::Write;

use common::*;

const PROXY_RULE: &str = "title: SQLMap user agent\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\nlevel: high\n\
tags: [attack.initial-access, attack.t1190]\nlogsource: {category: proxy}\ndetection:\n  selection:\n    \
c-useragent|contains: sqlmap\n  condition: selection\n";

const LOGON_RULE: &str = "title: Failed logon\nid: aaaaaaaa-0000-0000-0000-000000000001\nname: failed_logon\nlevel: low\n\
logsource: {product: windows, service: security}\ndetection:\n  selection:\n    EventID: 4625\n  condition: selection\n---\n\
title: Password guessing\nid: aaaaaaaa-0000-0000-0000-000000000002\nlevel: high\ncorrelation:\n  type: event_count\n  \
rules: [failed_logon]\n  group-by: [IpAddress]\n  timespan: 10m\n  condition: {gte: 3}\n";

#[test]
fn ingested_events_raise_tenant_scoped_alerts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("rules/proxy.yml"), PROXY_RULE).unwrap();
    std::fs::write(dir.path().join("rules/logon.yml"), LOGON_RULE).unwrap();
    let mut m = Instance::configure(dir.path(), |t| t.replace("[detect]\n", "[detect]\nrules = [\"rules\"]\n"));
    m.start();
    let events = dir.path().join("events.ndjson");
    let mut f = std::fs::File::create(&events).unwrap();
    let now = jiff::Timestamp::now();
    for (tenant, agent) in [("aoba", "sqlmap/1.7"), ("midori", "Mozilla/5.0"), ("aoba", "SQLMap/1.8")] {
        writeln!(
            f,
            r#"{{"@timestamp":"{now}","event":{{"dataset":"proxy.access"}},"organization":{{"id":"{tenant}"}},"user_agent":{{"original":"{agent}"}}}}"#
        )
        .unwrap();
    }
    for i in 0..3 {
        writeln!(
            f,
            r#"{{"@timestamp":"{now}","event":{{"dataset":"winlog"}},"organization":{{"id":"midori"}},"winlog":{{"channel":"Security","event_id":"4625","record_id":"{i}","event_data":{{"IpAddress":"10.1.2.3"}}}}}}"#
        )
        .unwrap();
    }
    drop(f);
    let out = m.cli_ok(&["logs", "import", events.to_str().unwrap()]);
    assert!(out.contains("imported 6 events"), "{out}");
    assert!(m.log_text().contains("detect: 2 Sigma rules (1 correlations"), "{}", m.log_text());

    let sqlmap = "event.dataset:detect.alert AND rule.id:11111111-2222-3333-4444-555555555555";
    assert_eq!(m.wait_count(&format!("{sqlmap} AND organization.id:aoba"), 2), 2);
    assert_eq!(m.count(&format!("{sqlmap} AND organization.id:midori")), 0);
    assert_eq!(m.count("event.kind:alert AND event.severity:73 AND tags:attack.t1190"), 2);
    // Three failed logons: three low alerts and the correlation, all in midori.
    assert_eq!(
        m.wait_count("event.dataset:detect.alert AND rule.name:\"Failed logon\" AND organization.id:midori", 3),
        3
    );
    assert_eq!(
        m.wait_count("event.dataset:detect.alert AND rule.name:\"Password guessing\" AND organization.id:midori", 1),
        1
    );
    m.stop();

    // Hunting over what was stored finds the same events.
    let out = m.cli_ok(&[
        "hunt",
        "--rules",
        dir.path().join("rules").to_str().unwrap(),
        "--last",
        "1d",
        "--format",
        "csv",
        "event.dataset:proxy.access OR event.dataset:winlog",
    ]);
    assert_eq!(out.lines().filter(|l| l.contains("SQLMap user agent")).count(), 2, "{out}");
    assert_eq!(out.lines().filter(|l| l.contains("Password guessing")).count(), 1, "{out}");
}
