//! Configuration from the operator's side: checking, refusing bad files, revisions from the
//! file, the CLI and rollbacks, applied to the running server without a restart.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn check_config_reports_every_problem_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let m = Instance::configure(dir.path(), |t| {
        t.replace("hot_days = 90", "hot_days = 90\nhot_dayz = 3")
            .replace("networks = [\"10.2.0.0/16\", \"fd00:2::/48\"]", "networks = [\"10.1.128.0/17\", \"10.2.0.0/33\"]")
            .replace("archive_years = 7", "archive_years = 3")
    });
    let out = m.cli(&["check-config"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("mamori.toml:")).collect();
    // A value of the wrong type stops reading there; unknown keys seen before it are reported too.
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].contains(":44:") && lines[0].contains("unknown field 'hot_dayz'"), "{err}");
    assert!(lines[1].contains("invalid IP address"), "{err}");

    let m = Instance::configure(dir.path(), |t| {
        t.replace("hot_days = 90", "hot_days = 90\nhot_dayz = 3")
            .replace("networks = [\"10.2.0.0/16\", \"fd00:2::/48\"]", "networks = [\"10.1.128.0/17\"]")
            .replace("archive_years = 7", "archive_years = 3")
    });
    let out = m.cli(&["check-config", "--json"]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = v["problems"].as_array().unwrap();
    let text = serde_json::to_string(problems).unwrap();
    assert_eq!(problems.len(), 3, "{text}");
    assert!(text.contains("unknown field 'hot_dayz'"), "{text}");
    assert!(text.contains("overlaps 10.1.0.0/16 of tenant 'midori'"), "{text}");
    assert!(text.contains("below the required 5 years"), "{text}");
    assert!(problems.iter().all(|p| p["line"].as_u64().unwrap() > 0));
}

#[test]
fn revisions_from_file_cli_and_rollback_apply_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Instance::configure(dir.path(), |t| t);
    m.start();
    let send_from_2 = |msg: &str| {
        let sock = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
        sock.send_to(format!("<13>Nov 21 10:00:00 host app: {msg}").as_bytes(), m.syslog).unwrap();
    };

    // 127.0.0.2 is nobody's: unassigned.
    send_from_2("before");
    assert_eq!(m.wait_count("before AND organization.id:unassigned", 1), 1);

    // The CLI adds a tenant owning 127.0.0.0/30 ... but 127.0.0.1 is a sender of midori, which is
    // fine (senders are not networks). The running server applies it without a restart.
    m.cli_ok(&[
        "tenant",
        "add",
        "--id",
        "sakura",
        "--name-ja",
        "さくら村",
        "--name-en",
        "Sakura Village",
        "--network",
        "127.0.0.0/30",
        "--reason",
        "new member",
    ]);
    let history = m.cli_ok(&["config", "history"]);
    assert!(history.contains("new member"), "{history}");
    std::thread::sleep(Duration::from_secs(3));
    send_from_2("after-add");
    assert_eq!(m.wait_count("after-add AND organization.id:sakura", 1), 1, "{}", m.log_text());
    let diff = m.cli_ok(&["config", "diff", "1", "2"]);
    assert!(diff.contains("+ tenants.sakura"), "{diff}");

    // An invalid file is refused by reload; the running configuration stays.
    let good = std::fs::read_to_string(&m.config).unwrap();
    std::fs::write(&m.config, good.replace("network_model = \"beta\"", "network_model = \"gamma\"")).unwrap();
    let out = m.cli(&["reload"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mamori.toml:"), "{}", String::from_utf8_lossy(&out.stderr));
    m.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_secs(1));
    send_from_2("after-bad-reload");
    assert!(m.log_text().contains("the configuration was refused; the running one stays"), "{}", m.log_text());
    // (The CLI itself needs a valid file, so put the good one back before searching.)
    std::fs::write(&m.config, &good).unwrap();
    assert_eq!(m.wait_count("after-bad-reload AND organization.id:sakura", 1), 1);

    // Reloading the unchanged good file keeps the CLI's change.
    assert!(m.cli_ok(&["reload"]).contains("unchanged"));

    // Rollback to revision 1 removes sakura again.
    m.cli_ok(&["config", "rollback", "1", "--reason", "sakura joins next year"]);
    std::thread::sleep(Duration::from_secs(3));
    send_from_2("after-rollback");
    assert_eq!(m.wait_count("after-rollback AND organization.id:unassigned", 1), 1);
    let history = m.cli_ok(&["config", "history", "--json"]);
    let revs: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(revs[0]["source"], "rollback");
    // Every applied revision is itself an event the SOC can search.
    assert!(m.wait_count("event.dataset:mamori.config", 3) >= 3);
    m.stop();
}
