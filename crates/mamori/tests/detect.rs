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

    // SIGHUP (`mamori reload`) re-reads the rule files.
    std::fs::write(
        dir.path().join("rules/curl.yml"),
        "title: curl\nid: cccccccc-0000-0000-0000-000000000001\nlevel: low\nlogsource: {category: proxy}\n\
         detection: {s: {c-useragent|startswith: curl/}, condition: s}\n",
    )
    .unwrap();
    m.signal(libc::SIGHUP);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !m.log_text().contains("Sigma rules reloaded") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let curl = dir.path().join("curl.ndjson");
    std::fs::write(
        &curl,
        format!(
            r#"{{"@timestamp":"{now}","event":{{"dataset":"proxy.access"}},"organization":{{"id":"aoba"}},"user_agent":{{"original":"curl/8.5"}}}}"#
        ) + "\n",
    )
    .unwrap();
    m.cli_ok(&["logs", "import", curl.to_str().unwrap()]);
    assert_eq!(m.wait_count("event.dataset:detect.alert AND rule.id:cccccccc-0000-0000-0000-000000000001", 1), 1);
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
    // Hits over the store name their tenant (the second column).
    assert!(out.lines().next().unwrap().starts_with("Timestamp,Tenant,"), "{out}");
    assert!(out.lines().filter(|l| l.contains("SQLMap user agent")).all(|l| l.split(',').nth(1) == Some("aoba")));
    assert_eq!(out.lines().filter(|l| l.contains("Password guessing")).count(), 1, "{out}");
}

/// An HTTP endpoint on 127.0.0.1 that keeps each POSTed JSON body and answers 200.
fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let mut conn = conn.unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
            seen.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
        }
    });
    (url, got)
}

#[test]
fn monitor_rules_of_revisions_raise_routed_and_suppressed_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let (url, received) = webhook_receiver();
    let monitor = format!(
        "dedup_secs = 300\n[[detect.monitor.threshold]]\nid = \"denied-burst\"\nquery = \"event.action:denied\"\n\
         count = 3\nwindow_secs = 600\ngroup_by = [\"source.ip\"]\nlevel = \"high\"\n\
         [[detect.channels]]\nname = \"soc-hook\"\nkind = \"webhook\"\nurl = \"{url}\"\ntoken = \"tok-secret-1\"\nmin_level = \"medium\"\n"
    );
    let mut m = Instance::configure(dir.path(), |t| t.replace("dedup_secs = 300\n", &monitor));
    m.start();
    let import = |name: &str| {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        let now = jiff::Timestamp::now();
        for ip in ["10.1.2.3", "10.1.9.9"] {
            for _ in 0..3 {
                writeln!(
                    f,
                    r#"{{"@timestamp":"{now}","event":{{"dataset":"proxy.access","action":"denied"}},"organization":{{"id":"midori"}},"source":{{"ip":"{ip}"}}}}"#
                )
                .unwrap();
            }
        }
        drop(f);
        m.cli_ok(&["logs", "import", path.to_str().unwrap()]);
    };
    import("first.ndjson");
    let burst = "event.dataset:detect.alert AND rule.id:denied-burst AND organization.id:midori";
    assert_eq!(m.wait_count(burst, 2), 2);
    assert_eq!(m.count(&format!("{burst} AND event.kind:alert AND event.severity:73")), 2);

    // A new revision from the file adds a suppression rule; the threshold rule keeps counting.
    let text = std::fs::read_to_string(&m.config).unwrap().replace(
        "dedup_secs = 300\n",
        "dedup_secs = 300\n[[detect.monitor.suppress]]\nquery = \"detect.monitor.group.source.ip:10.1.9.9\"\nreason = \"the library's scanner\"\n",
    );
    std::fs::write(&m.config, text).unwrap();
    m.cli_ok(&["reload"]);
    // The server applies the revision (and hands it to detection) before the next batch.
    assert_eq!(m.wait_count("event.dataset:mamori.config AND event.action:revision_applied", 2), 2);
    import("second.ndjson");
    assert_eq!(m.wait_count(burst, 3), 3);
    assert_eq!(m.count(&format!("{burst} AND detect.monitor.group.source.ip:10.1.9.9")), 1);

    // Both first alerts reached the webhook; the third repeats the first within the window.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while received.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(bodies.iter().all(|b| b["rule"]["id"] == "denied-burst" && b["organization"]["id"] == "midori"));
    m.stop();
    assert!(!m.log_text().contains("tok-secret-1"));
}

/// Waits until the server's output holds `text` at least `n` times (the deadline only bounds a
/// failing test).
fn wait_log(m: &Instance, text: &str, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while m.log_text().matches(text).count() < n {
        assert!(std::time::Instant::now() < deadline, "no {n}× '{text}' in:\n{}", m.log_text());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Waits until the webhook has `n` bodies and gives them.
fn wait_bodies(received: &std::sync::Mutex<Vec<serde_json::Value>>, n: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while received.lock().unwrap().len() < n && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    received.lock().unwrap().clone()
}

const SCANNER_RULE: &str = "title: Scanner user agent\nid: eeeeeeee-0000-0000-0000-000000000001\nlevel: high\n\
logsource: {category: proxy}\ndetection: {s: {c-useragent|expand: '%Scanners%'}, condition: s}\n";

#[test]
fn reloads_move_alert_channels_and_placeholders_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("rules/proxy.yml"), PROXY_RULE).unwrap();
    std::fs::write(dir.path().join("rules/scanner.yml"), SCANNER_RULE).unwrap();
    let (first_url, first) = webhook_receiver();
    let (second_url, second) = webhook_receiver();
    let webhook = |url: &str, placeholders: &str| {
        format!(
            "dedup_secs = 300\n{placeholders}[[detect.channels]]\nname = \"soc-hook\"\nkind = \"webhook\"\n\
             url = \"{url}\"\ntoken = \"tok-secret-2\"\n"
        )
    };
    let started = webhook(&first_url, "");
    let mut m = Instance::configure(dir.path(), |t| {
        t.replace("[detect]\n", "[detect]\nrules = [\"rules\"]\n").replace("dedup_secs = 300\n", &started)
    });
    m.start();
    let import = |name: &str, events: &[(&str, &str)]| {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        let now = jiff::Timestamp::now();
        for (host, agent) in events {
            writeln!(
                f,
                r#"{{"@timestamp":"{now}","event":{{"dataset":"proxy.access"}},"organization":{{"id":"aoba"}},"host":{{"name":"{host}"}},"user_agent":{{"original":"{agent}"}}}}"#
            )
            .unwrap();
        }
        drop(f);
        m.cli_ok(&["logs", "import", path.to_str().unwrap()]);
    };
    let rule_ids = |bodies: &[serde_json::Value]| -> Vec<String> {
        let mut ids: Vec<String> = bodies.iter().map(|b| b["rule"]["id"].as_str().unwrap().to_string()).collect();
        ids.sort();
        ids
    };
    // The scanner rule names a placeholder the file does not define yet: not loaded.
    assert!(m.log_text().contains("detect: 1 Sigma rules (0 correlations; 1 not loaded"), "{}", m.log_text());
    import("one.ndjson", &[("pc1", "sqlmap/1.7"), ("pc1", "Nikto/2.5.0")]);
    assert_eq!(rule_ids(&wait_bodies(&first, 1)), ["11111111-2222-3333-4444-555555555555"]);

    // `mamori reload`: another webhook URL, and the placeholder's values.
    let text = std::fs::read_to_string(&m.config).unwrap();
    let moved = webhook(&second_url, "[detect.placeholders]\nScanners = [\"Nikto/2.5.0\"]\n");
    std::fs::write(&m.config, text.replace(&started, &moved)).unwrap();
    m.cli_ok(&["reload"]);
    wait_log(&m, "detection reloaded: Sigma rules reloaded: 2 rules", 1);
    import("two.ndjson", &[("pc2", "sqlmap/1.7"), ("pc2", "Nikto/2.5.0")]);
    let got = wait_bodies(&second, 2);
    assert_eq!(rule_ids(&got), ["11111111-2222-3333-4444-555555555555", "eeeeeeee-0000-0000-0000-000000000001"]);
    assert!(got.iter().all(|b| b["host"]["name"] == "pc2"), "{got:?}");

    // A webhook URL that is not HTTP: `mamori reload` refuses the file.
    std::fs::write(&m.config, text.replace(&started, &webhook("ftp://127.0.0.1/alerts", ""))).unwrap();
    let out = m.cli(&["reload"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("detect.channels[0].url") && err.contains("refused"), "{err}");
    // An e-mail channel whose CA file is missing cannot be built: refused by `mamori reload`,
    // and by the server when it is sent SIGHUP anyway; the running channels stay.
    let mail = "dedup_secs = 300\n[[detect.channels]]\nname = \"soc-mail\"\nkind = \"email\"\nserver = \"127.0.0.1:25\"\n\
                from = \"mamori@soc.example.jp\"\nto = [\"soc@example.jp\"]\nusername = \"soc\"\n\
                password = \"smtp-secret-3\"\ntls = \"starttls\"\nca_file = \"missing-ca.pem\"\n";
    std::fs::write(&m.config, text.replace(&started, mail)).unwrap();
    let out = m.cli(&["reload"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("channel soc-mail") && err.contains("refused"), "{err}");
    m.signal(libc::SIGHUP);
    wait_log(&m, "detection keeps its running rules and alert channels", 1);
    import("three.ndjson", &[("pc3", "sqlmap/1.9")]);
    let got = wait_bodies(&second, 3);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2]["host"]["name"], "pc3");
    assert_eq!(first.lock().unwrap().len(), 1);
    m.stop();
    let log = m.log_text();
    assert!(!log.contains("tok-secret-2") && !log.contains("smtp-secret-3"));
    assert!(!err.contains("smtp-secret-3"));
}
