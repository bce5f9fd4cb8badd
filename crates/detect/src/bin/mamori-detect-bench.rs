//! Live evaluation rate (`bench/sigma-live`): all rules of a folder against the events of EVTX
//! files replayed from memory, on one thread. Parsing is outside the timing: it measures what
//! live evaluation costs per ingested event.
//!
//!   mamori-detect-bench RULES_DIR ROUNDS EVTX_FILE_OR_DIR...
//!
//! `bench/hunt-evtx`: the work of `mamori hunt evtx` (the same library calls: parse, match,
//! timeline) on one thread, files read from disk, MB/min of EVTX.
//!
//!   mamori-detect-bench hunt RULES_DIR EVTX_FILE_OR_DIR...

use std::path::PathBuf;
use std::time::Instant;

use mamori_detect::{CompileOptions, Pipeline, RuleSet, evtx, hunt};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("hunt") {
        return hunt_files(&args[2..]);
    }
    if args.len() < 4 {
        eprintln!("usage: mamori-detect-bench RULES_DIR ROUNDS EVTX_FILE_OR_DIR...");
        std::process::exit(2);
    }
    let rules_dir = PathBuf::from(&args[1]);
    let rounds: usize = args[2].parse().expect("ROUNDS is a number");
    let inputs: Vec<PathBuf> = args[3..].iter().map(PathBuf::from).collect();
    let started = Instant::now();
    let rules = RuleSet::load(&[rules_dir], &Pipeline::default(), &CompileOptions::default());
    let compile = started.elapsed();
    let mut events = Vec::new();
    for f in hunt::evtx_files(&inputs).expect("readable inputs") {
        let _ = evtx::read_file(&f, &mut |e| events.push(e), &mut |_| {});
    }
    let cpu = cpu_time();
    let started = Instant::now();
    let mut hits = 0u64;
    for _ in 0..rounds {
        for e in &events {
            rules.for_each_match(e, |_| hits += 1);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_time() - cpu;
    let n = (events.len() * rounds) as f64;
    println!(
        "{} rules ({} failed) compiled in {:.2} s; {} events x {rounds} rounds, {} hits per round",
        rules.rules.len(),
        rules.failures.len(),
        compile.as_secs_f64(),
        events.len(),
        hits / rounds.max(1) as u64
    );
    println!("{:.0} events/s per core (CPU time {cpu:.2} s, wall {wall:.2} s)", n / cpu.max(1e-9));
    // DETAIL=1: where the time goes, by channel and event ID (the costliest first).
    if std::env::var_os("DETAIL").is_some() {
        println!("index: {}", rules.index_summary());
        for (r, rule) in rules.rules.iter().enumerate() {
            let any = rule.variants.iter().enumerate().any(|(v, var)| {
                matches!(&var.target.scope, mamori_detect::pipeline::Scope::Windows { channels, .. } if channels.is_empty())
                    && rule.event_ids(v).is_some_and(|ids| ids.is_empty())
            });
            if any {
                println!("  on every Windows event: {r} {}", rule.meta.title);
            }
        }
        let mut by: std::collections::HashMap<String, (usize, f64)> = Default::default();
        for e in &events {
            let key = format!(
                "{} {}",
                e["winlog"]["channel"].as_str().unwrap_or("-"),
                e["winlog"]["event_id"].as_str().unwrap_or("-")
            );
            let t = Instant::now();
            rules.for_each_match(e, |_| {});
            let slot = by.entry(key).or_default();
            slot.0 += 1;
            slot.1 += t.elapsed().as_secs_f64();
        }
        // The costliest rules on the costliest kind of event.
        let sample: Vec<_> = events
            .iter()
            .filter(|e| {
                e["winlog"]["event_id"] == "1" && e["winlog"]["channel"] == "Microsoft-Windows-Sysmon/Operational"
            })
            .collect();
        let mut per_rule = Vec::new();
        for (r, rule) in rules.rules.iter().enumerate() {
            for v in 0..rule.variants.len() {
                let t = Instant::now();
                for e in &sample {
                    rule.matches_variant(v, e);
                }
                per_rule.push((t.elapsed().as_secs_f64(), r));
            }
        }
        per_rule.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (secs, r) in per_rule.iter().take(10) {
            println!(
                "  rule {}: {:.1} µs per event",
                rules.rules[*r].meta.title,
                secs * 1e6 / sample.len().max(1) as f64
            );
        }
        let mut rows: Vec<_> = by.into_iter().collect();
        rows.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
        for (k, (count, secs)) in rows.iter().take(15) {
            println!("  {k}: {count} events, {:.1} µs each, {:.3} s", secs * 1e6 / *count as f64, secs);
        }
    }
}

/// CPU time of this process (user + system), seconds.
fn cpu_time() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn hunt_files(args: &[String]) {
    let rules = RuleSet::load(&[PathBuf::from(&args[0])], &Pipeline::default(), &CompileOptions::default());
    let inputs: Vec<PathBuf> = args[1..].iter().map(PathBuf::from).collect();
    let files = hunt::evtx_files(&inputs).expect("readable inputs");
    let started = Instant::now();
    let cpu = cpu_time();
    let mut bytes = 0u64;
    let mut matches = Vec::new();
    for f in &files {
        if let Ok((found, stats)) = hunt::evtx_matches(f, &rules, &mut |_| {}) {
            bytes += stats.bytes;
            matches.extend(found);
        }
    }
    let hits = hunt::timeline(&rules, matches).len();
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_time() - cpu;
    println!(
        "{} files, {:.1} MB, {hits} hits in {wall:.2} s wall, {cpu:.2} s CPU: {:.0} MB/min",
        files.len(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / cpu.max(1e-9) * 60.0
    );
}
