//! Conformance runners of the detection engine, called by `scripts/conformance.d/sigma-*` and
//! `evtx`. Each prints its failures, then `SUITE: N passed, M failed`.
//!
//!   mamori-detect-conformance rules SIGMA_DIR        every rule under SIGMA_DIR/rules* compiles
//!   mamori-detect-conformance regression SIGMA_DIR [EXTRA...]
//!                                                    each regression case matches its EVTX sample;
//!                                                    EXTRA: more folders of SigmaHQ rules (each
//!                                                    one's rules* folders, or the folder itself)
//!   mamori-detect-conformance evtx SAMPLES_DIR       every sample parses or fails clearly

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mamori_detect::evtx::{self, EvtxIssue};
use mamori_detect::{CompileOptions, Pipeline, RuleSet};
use serde_norway::Value;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(suite), Some(dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: mamori-detect-conformance rules|regression|evtx DIR [EXTRA_RULES_DIR...]");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    match suite.as_str() {
        "rules" => rules(&dir),
        "regression" => regression(&dir, &args[3..].iter().map(PathBuf::from).collect::<Vec<_>>()),
        "evtx" => evtx_samples(&dir),
        other => {
            eprintln!("unknown suite {other}");
            ExitCode::from(2)
        }
    }
}

/// `rules`, `rules-emerging-threats`, ... under the Sigma folder.
fn rule_dirs(sigma: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(sigma).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    dirs.retain(|p| p.is_dir() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("rules")));
    dirs.sort();
    dirs
}

fn rules(sigma: &Path) -> ExitCode {
    let dirs = rule_dirs(sigma);
    if dirs.is_empty() {
        println!("sigma-rules: no rules* folder under {}", sigma.display());
        println!("sigma-rules: 0 passed, 0 failed");
        return ExitCode::FAILURE;
    }
    let set = RuleSet::load(&dirs, &Pipeline::default(), &CompileOptions::default());
    for f in &set.failures {
        let path = f.path.strip_prefix(sigma).unwrap_or(&f.path);
        println!("FAIL {}: {}", path.display(), f.error);
    }
    let unmapped = set.unmapped().count();
    println!(
        "{} detection rules, {} correlation rules; {unmapped} compile but have no log source among mamori's events (cloud, linux, ...)",
        set.rules.len(),
        set.correlations.len()
    );
    let passed = set.rules.len() + set.correlations.len();
    println!("sigma-rules: {passed} passed, {} failed", set.failures.len());
    ExitCode::SUCCESS
}

fn find_info_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            find_info_files(&p, out);
        } else if p.file_name().is_some_and(|n| n == "info.yml") {
            out.push(p);
        }
    }
}

fn regression(sigma: &Path, extra: &[PathBuf]) -> ExitCode {
    let mut infos = Vec::new();
    find_info_files(&sigma.join("regression_data"), &mut infos);
    if infos.is_empty() {
        println!("sigma-regression: no regression_data under {}", sigma.display());
        println!("sigma-regression: 0 passed, 0 failed");
        return ExitCode::FAILURE;
    }
    let pipeline = Pipeline::default();
    let mut dirs = rule_dirs(sigma);
    for e in extra {
        if !e.is_dir() {
            println!("sigma-regression: the extra rule folder {} does not exist", e.display());
            println!("sigma-regression: 0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
        let inner = rule_dirs(e);
        match inner.is_empty() {
            true => dirs.push(e.clone()),
            false => dirs.extend(inner),
        }
    }
    let names: Vec<String> =
        dirs.iter().filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    println!("rule folders: {}", names.join(", "));
    let all = RuleSet::load(&dirs, &pipeline, &CompileOptions::default());
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for info in &infos {
        let case = info.parent().unwrap_or(sigma).strip_prefix(sigma).unwrap_or(info).display().to_string();
        match run_case(sigma, info, &all) {
            Ok(Outcome::Passed) => passed += 1,
            Ok(Outcome::NoTests) => {
                skipped += 1;
                println!("SKIP {case}: info.yml lists no regression test (upstream commented it out)");
            }
            Err(reason) => {
                failed += 1;
                println!("FAIL {case}: {reason}");
            }
        }
    }
    println!("sigma-regression: {passed} passed, {failed} failed, {skipped} skipped");
    ExitCode::SUCCESS
}

enum Outcome {
    Passed,
    NoTests,
}

/// One case: the rule of `info.yml` matches its EVTX sample (`match_count` times when given).
fn run_case(sigma: &Path, info: &Path, all: &RuleSet) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(info).map_err(|e| format!("cannot read info.yml: {e}"))?;
    let doc: Value = serde_norway::from_str(&text).map_err(|e| format!("info.yml: {e}"))?;
    let rule_id = doc
        .get("rule_metadata")
        .and_then(|m| m.get(0))
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str)
        .ok_or("info.yml names no rule id")?;
    let rule = all.rules.iter().position(|r| r.meta.id.as_deref() == Some(rule_id)).ok_or_else(|| {
        match all.failures.iter().find(|f| f.path.to_string_lossy().contains(rule_id)) {
            Some(f) => format!("rule {rule_id} did not compile: {}", f.error),
            None => {
                // regression_data/<rules folder>/...: upstream keeps the rule in the same folder.
                let folder = info
                    .strip_prefix(sigma.join("regression_data"))
                    .ok()
                    .and_then(|p| p.components().next())
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!(
                    "rule {rule_id} is in none of the rule folders read; upstream keeps it under {folder}/, \
                     which the test data lacks (MAMORI_SIGMA_EXTRA_RULES can name a copy)"
                )
            }
        }
    })?;
    let Some(tests) = doc.get("regression_tests_info").and_then(Value::as_sequence) else {
        return Ok(Outcome::NoTests);
    };
    for t in tests {
        let path = t.get("path").and_then(Value::as_str).ok_or("a test has no path")?;
        let want = t.get("match_count").and_then(Value::as_u64);
        let mut count = 0u64;
        let mut issues = Vec::new();
        let file = sigma.join(path);
        evtx::read_file(
            &file,
            &mut |event| {
                let mut hit = false;
                all.for_each_match(&event, |r| hit |= r == rule);
                count += u64::from(hit);
            },
            &mut |i: EvtxIssue| issues.push(i.message),
        )
        .map_err(|e| e.to_string())?;
        let ok = match want {
            Some(n) => count == n,
            None => count >= 1,
        };
        if !ok {
            let expect = want.map_or("at least 1".to_string(), |n| n.to_string());
            let why = all.rules[rule].unmapped.as_deref().map(|u| format!(" ({u})")).unwrap_or_default();
            return Err(format!("{count} matching events, info.yml expects {expect}{why}{}", issue_note(&issues)));
        }
    }
    Ok(Outcome::Passed)
}

fn issue_note(issues: &[String]) -> String {
    match issues.first() {
        Some(first) => format!("; {} damaged parts, first: {first}", issues.len()),
        None => String::new(),
    }
}

fn evtx_samples(dir: &Path) -> ExitCode {
    let Ok(rd) = std::fs::read_dir(dir) else {
        println!("evtx: cannot read {}", dir.display());
        println!("evtx: 0 passed, 0 failed");
        return ExitCode::FAILURE;
    };
    let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut issues = Vec::new();
        let mut records = 0u64;
        match evtx::read_file(f, &mut |_| records += 1, &mut |i| issues.push(i.message)) {
            Ok(stats) if stats.panicked => {
                failed += 1;
                println!("FAIL {name}: the parser panicked after {records} records");
            }
            Ok(_) => {
                passed += 1;
                println!("ok {name}: {records} records{}", issue_note(&issues));
            }
            Err(e) => {
                // A specific error (not EVTX, damaged header) is a pass: it says what is wrong.
                passed += 1;
                println!("ok {name}: rejected: {e}");
            }
        }
    }
    println!("evtx: {passed} passed, {failed} failed");
    ExitCode::SUCCESS
}
