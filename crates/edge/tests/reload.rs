//! Reload: a ruleset that does not compile is refused with its file and line, and the rules in
//! force keep working; a good configuration is put in force without a new listener.

mod common;

use common::*;
use mamori_core::config::edge::{RuleIds, RulesetConfig, WafMode};

const SQLI: &str = "/?id=1%27%20OR%201=1--";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_ruleset_leaves_the_running_one_in_force() {
    let o = origin("a").await;
    let good = config(vec![site("www", "www.example.jp", &[o.addr], WafMode::Block)]);
    let edge = start_edge(good.clone()).await;
    assert_eq!(get(&edge, "www.example.jp", SQLI).await.status, 403);

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.conf");
    std::fs::write(&broken, "# a comment\nSecRule ARGS \"@rx a\" \"id:1,phase:2,deny\"\nSecRule ARGS \"@nosuchop x\" \"id:2,phase:2,deny\"\n").unwrap();
    let mut bad = good.clone();
    bad.rulesets.insert("crs".into(), RulesetConfig { setup: None, rules: vec![broken.display().to_string()] });
    let e = edge.ctx.reload(bad, std::path::Path::new(".")).await.unwrap_err().to_string();
    assert!(e.contains("broken.conf:3"), "file and line: {e}");
    assert_eq!(get(&edge, "www.example.jp", SQLI).await.status, 403, "the old rules still block");

    // A good change applies: the rule is excluded now.
    let mut changed = good.clone();
    changed.sites[0].exclude_rules = vec![RuleIds::one(942100)];
    edge.ctx.reload(changed, std::path::Path::new(".")).await.unwrap();
    assert_eq!(get(&edge, "www.example.jp", SQLI).await.status, 200);
}
