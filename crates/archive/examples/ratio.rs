//! Measures the cold tier against `zstd -3` of the raw lines.
//!
//! ```text
//! cargo run --release -p mamori-archive --example ratio -- [--events N] [--level L]
//!     [--parsed] [--long-window LOG] [--block-events N] [--seed S] [--columns]
//! ```
//!
//! Generates realistic syslog-derived events (sshd, postfix, kernel firewall, squid; five
//! tenants; UUIDv7 ids), writes their `event.original` lines to a file and runs the real
//! `zstd -3` on it, then archives the events as mamori does (one segment per tenant and day,
//! listed in a manifest) and compares bytes on disk per event. Also reports encode and decode
//! throughput on one core. `--columns` adds what each column costs (each stream compressed
//! on its own, so the figures only add up roughly). Ends with the line
//! `archive: ratio X (mamori A B/event, zstd -3 B B/event)`.

#[path = "../tests/support/rng.rs"]
mod rng;
#[path = "../tests/support/synth.rs"]
mod synth;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;
use std::time::Instant;

use mamori_archive::segment::{SegmentMeta, SegmentOptions, SegmentReader, SegmentWriter};
use mamori_archive::{Manifest, verify};
use serde_json::Value;

struct Args {
    events: usize,
    level: i32,
    parsed: bool,
    long_window: Option<u32>,
    block_events: usize,
    seed: u64,
    columns: bool,
}

fn args() -> Args {
    let mut a = Args {
        events: 200_000,
        level: mamori_archive::block::DEFAULT_LEVEL,
        parsed: false,
        long_window: None,
        block_events: SegmentOptions::default().block_events,
        seed: 1,
        columns: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--events" => a.events = value().parse().expect("--events N"),
            "--level" => a.level = value().parse().expect("--level L"),
            "--parsed" => a.parsed = true,
            "--long-window" => a.long_window = Some(value().parse().expect("--long-window LOG")),
            "--block-events" => a.block_events = value().parse().expect("--block-events N"),
            "--seed" => a.seed = value().parse().expect("--seed S"),
            "--columns" => a.columns = true,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn main() {
    let a = args();
    let work = tempfile::tempdir().expect("a temporary directory");

    // The input, and the peer: zstd -3 over the raw lines, one per line.
    let mut synth = synth::Synth::new(a.seed, a.parsed);
    let generated: Vec<synth::Generated> = (0..a.events).map(|_| synth.next_event()).collect();
    let raw_path = work.path().join("raw.log");
    let mut raw = std::io::BufWriter::new(std::fs::File::create(&raw_path).expect("raw file"));
    let mut json_bytes = 0usize;
    for g in &generated {
        let line = g.event["event"]["original"].as_str().expect("an original line");
        writeln!(raw, "{line}").expect("write raw");
        json_bytes += serde_json::to_string(&g.event).expect("json").len() + 1;
    }
    drop(raw);
    let raw_len = std::fs::metadata(&raw_path).expect("raw file").len();
    let out = Command::new("zstd")
        .args(["-3", "-q", "-c"])
        .arg(&raw_path)
        .output()
        .expect("the zstd command (apt-get install zstd)");
    assert!(out.status.success(), "zstd failed");
    let zstd_bytes = out.stdout.len() as u64;

    // mamori: one segment per tenant and day, listed in the manifest.
    let archive = work.path().join("archive");
    let mut by_tenant: BTreeMap<&str, Vec<&synth::Generated>> = BTreeMap::new();
    for g in &generated {
        by_tenant.entry(g.tenant).or_default().push(g);
    }
    let options = SegmentOptions { block_events: a.block_events, long_window: a.long_window, ..Default::default() };
    let day = "2026-11-21";
    let mut manifest = Manifest::open(&archive).expect("manifest");
    let started = Instant::now();
    let mut files = Vec::new();
    for (tenant, events) in &by_tenant {
        let rel = manifest.new_segment_path(tenant, day).expect("path");
        let meta = SegmentMeta { tenant: tenant.to_string(), day: day.into(), level: a.level };
        let mut w = SegmentWriter::create_with(archive.join(&rel), meta, options).expect("segment");
        for g in events {
            w.push_ref(&g.event, g.timestamp_micros).expect("push");
        }
        let info = w.finish().expect("finish");
        manifest.add_segment(&info, tenant, day, 0, events.len() as u64).expect("manifest entry");
        files.push(info.path);
    }
    let encode = started.elapsed().as_secs_f64();
    drop(manifest);

    let mut archive_bytes = std::fs::metadata(archive.join("manifest.jsonl")).expect("manifest").len();
    let started = Instant::now();
    let mut decoded: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for f in &files {
        archive_bytes += std::fs::metadata(f).expect("segment").len();
        let r = SegmentReader::open(f).expect("open");
        let events: Vec<Value> = r.iter().map(|e| e.expect("event")).collect();
        decoded.insert(r.meta().tenant.clone(), events);
    }
    let decode = started.elapsed().as_secs_f64();
    for (tenant, events) in &by_tenant {
        let back = &decoded[*tenant];
        assert!(events.iter().map(|g| &g.event).eq(back.iter()), "{tenant}: round trip differs");
    }
    let report = verify(&archive).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);

    let n = a.events as f64;
    let mib = |bytes: usize, secs: f64| bytes as f64 / secs / 1e6;
    println!(
        "input: {} events, {} tenants, {:.1} MB of JSON ({:.0} B/event), {:.1} MB of raw lines",
        a.events,
        by_tenant.len(),
        json_bytes as f64 / 1e6,
        json_bytes as f64 / n,
        raw_len as f64 / 1e6
    );
    println!(
        "settings: zstd level {}, long window {:?}, {} events per block, {} events",
        a.level,
        a.long_window,
        a.block_events,
        if a.parsed { "parsed (per-application fields)" } else { "syslog (as mamori-collect makes them)" }
    );
    println!(
        "encode: {:.0} events/s, {:.1} MB/s of JSON (one core, including writing and fsync)",
        n / encode,
        mib(json_bytes, encode)
    );
    println!("decode: {:.0} events/s, {:.1} MB/s of JSON", n / decode, mib(json_bytes, decode));
    println!("verify: {} segments, {} events, no problems", report.segments_checked, report.events);
    if a.columns {
        print_columns(&files, a.level, n);
    }
    let ours = archive_bytes as f64 / n;
    let peer = zstd_bytes as f64 / n;
    println!("archive: ratio {:.3} (mamori {ours:.2} B/event, zstd -3 {peer:.2} B/event)", ours / peer);
}

/// Per column and stream, the bytes each takes compressed on its own, per event.
fn print_columns(files: &[std::path::PathBuf], level: i32, n: f64) {
    let mut per: BTreeMap<String, [usize; 6]> = BTreeMap::new();
    let z = |b: &[u8]| zstd::bulk::compress(b, level).map_or(0, |c| c.len());
    for f in files {
        let r = SegmentReader::open(f).expect("open");
        for i in 0..r.blocks().len() {
            let layout = mamori_archive::block::inspect(&r.read_block_bytes(i).expect("block")).expect("inspect");
            let rows = layout.directory + layout.rows;
            per.entry("(directory and row stream)".into()).or_default()[5] += z(&layout.body[..rows]);
            let mut at = rows;
            for (path, lens) in &layout.columns {
                let e = per.entry(path.clone()).or_default();
                for (k, len) in lens.iter().enumerate() {
                    e[k] += z(&layout.body[at..at + len]);
                    at += len;
                }
            }
        }
    }
    println!("{:<40} {:>7}   bytes   ints  times  hexes   toks   rows (B/event)", "column", "total");
    for (path, sizes) in per {
        let total: usize = sizes.iter().sum();
        if total as f64 / n >= 0.01 {
            let cells: Vec<String> = sizes.iter().map(|s| format!("{:6.2}", *s as f64 / n)).collect();
            println!("{path:<40} {:7.2} {}", total as f64 / n, cells.join(" "));
        }
    }
}
