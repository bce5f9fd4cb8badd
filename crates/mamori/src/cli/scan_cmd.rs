//! `mamori scan PATH...`: scan files and directories, exit 0 clean, 1 found, 2 error (as
//! clamscan does), with a progress bar on a terminal and `--json` output.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mamori_scan::{Engine, Limits, ScanReport, Session, SignatureConfig, SignatureStore, Verdict};

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files and directories to scan (directories recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// One JSON report per line on stdout, then a summary line.
    #[arg(long)]
    pub json: bool,
    /// YARA rules: a directory (searched recursively for .yar/.yara) or a file. Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// ClamAV databases (.cvd, .cld, .hdb, .hsb, .mdb, .msb, .ndb, .ldb, .fp, .ign2) and
    /// SHA-256 lists (.sha256): a directory or a file. Repeatable.
    #[arg(long = "clamav-db", value_name = "DIR")]
    pub clamav_db: Vec<PathBuf>,
    /// Also ask a running clamd (unix:/path, /path or host:port) and merge its verdict.
    #[arg(long, value_name = "ADDRESS")]
    pub clamd: Option<String>,
    /// Write every detection as an ECS event (NDJSON) to this file, for `mamori logs import`.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Print only infected and suspicious files (no OK lines).
    #[arg(long, short = 'i')]
    pub infected: bool,
    /// Scanning threads (default: the number of CPU cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// List each YARA rule file that fails to compile and each unsupported ClamAV signature
    /// kind, then exit (0 when everything compiled, 1 otherwise).
    #[arg(long)]
    pub check_signatures: bool,
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let config = SignatureConfig { clamav: args.clamav_db.clone(), yara: args.rules.clone() };
    let purge = crate::allocator::PromptPurge::start();
    let store = Arc::new(SignatureStore::open(config));
    crate::release_free_memory();
    drop(purge);
    let set = store.snapshot();
    let report = &set.report;
    eprintln!(
        "signatures: {} ClamAV ({} unsupported), {} YARA rules from {} files ({} failed), loaded in {:.1}s",
        set.clamav.len(),
        report.clamav.unsupported_total(),
        report.yara_rules,
        report.yara_files,
        report.yara_failures.len(),
        started.elapsed().as_secs_f64()
    );
    for (kind, count) in &report.clamav.unsupported {
        eprintln!("  unsupported {kind}: {count}");
    }
    for error in &report.errors {
        eprintln!("  error: {error}");
    }
    if args.check_signatures {
        for failure in &report.yara_failures {
            println!("FAIL {}: {}", failure.file, failure.reason);
        }
        let failed = report.yara_failures.len();
        println!("yara: {} passed, {failed} failed", report.yara_files);
        let ok = failed == 0 && report.errors.is_empty();
        return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    let mut engine = Engine::new(store.clone(), Limits::default());
    engine.clamd = args.clamd.as_deref().map(mamori_scan::clamd::Clamd::parse);
    let files = collect_files(&args.paths);
    let summary = scan_all(&engine, &files, &args)?;
    summary.print(&args, started.elapsed());
    Ok(ExitCode::from(summary.exit_code()))
}

#[derive(Default)]
struct Summary {
    files: u64,
    infected: u64,
    suspicious: u64,
    errors: u64,
    bytes: u64,
}

impl Summary {
    fn exit_code(&self) -> u8 {
        if self.infected + self.suspicious > 0 {
            1
        } else if self.errors > 0 {
            2
        } else {
            0
        }
    }

    fn print(&self, args: &ScanArgs, elapsed: std::time::Duration) {
        let seconds = elapsed.as_secs_f64();
        if args.json {
            let line = serde_json::json!({ "summary": {
                "files": self.files, "infected": self.infected, "suspicious": self.suspicious,
                "errors": self.errors, "bytes": self.bytes, "seconds": seconds,
            }});
            println!("{line}");
            return;
        }
        println!("\n----------- SCAN SUMMARY -----------");
        println!("Scanned files: {}", self.files);
        println!("Infected files: {}", self.infected);
        println!("Suspicious files: {}", self.suspicious);
        println!("Errors: {}", self.errors);
        println!("Data scanned: {:.2} MB", self.bytes as f64 / 1e6);
        println!("Time: {seconds:.3} sec");
    }
}

/// Files under `paths`, directories walked recursively (symbolic links not followed);
/// missing paths are kept so that their error is reported.
fn collect_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        let mut pending = vec![path.clone()];
        while let Some(current) = pending.pop() {
            match std::fs::symlink_metadata(&current) {
                Ok(meta) if meta.is_dir() => {
                    let mut entries: Vec<PathBuf> =
                        std::fs::read_dir(&current).into_iter().flatten().flatten().map(|e| e.path()).collect();
                    entries.sort_by(|a, b| b.cmp(a));
                    pending.extend(entries);
                }
                Ok(meta) if meta.file_type().is_symlink() => {}
                _ => out.push(current),
            }
        }
    }
    out
}

fn scan_all(engine: &Engine, files: &[PathBuf], args: &ScanArgs) -> anyhow::Result<Summary> {
    let bar = if std::io::stderr().is_terminal() && !args.json {
        let bar = ProgressBar::new(files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} files {binary_bytes_per_sec} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut events = match &args.events {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<ScanReport>();
    let mut summary = Summary::default();
    let stdout = std::io::stdout();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..jobs {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                // One session per thread: the YARA scanner is built once, not per file.
                let set = engine.store.snapshot();
                let mut session = Session::new(&set, &engine.limits);
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if sender.send(engine.scan_file_in(&mut session, path, "")).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut out = stdout.lock();
        for report in receiver {
            summary.files += 1;
            summary.bytes += report.size;
            match report.verdict {
                Verdict::Clean => {}
                Verdict::Infected { .. } => summary.infected += 1,
                Verdict::Suspicious { .. } => summary.suspicious += 1,
                Verdict::Error { .. } => summary.errors += 1,
            }
            bar.inc(1);
            bar.set_message(short_name(&report.name));
            let text = render(&report, args);
            if !text.is_empty() {
                bar.suspend(|| out.write_all(text.as_bytes()))?;
            }
            if let Some(events) = events.as_mut() {
                let now = jiff::Timestamp::now();
                for event in mamori_scan::events::detection_events(&report, "cli", None, now) {
                    writeln!(events, "{}", event.to_json())?;
                }
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    if let Some(mut events) = events {
        events.flush()?;
    }
    Ok(summary)
}

fn render(report: &ScanReport, args: &ScanArgs) -> String {
    if args.json {
        return format!("{}\n", serde_json::to_string(report).unwrap_or_default());
    }
    if report.verdict.is_clean() {
        return if args.infected { String::new() } else { format!("{}: OK\n", report.name) };
    }
    report.findings.iter().map(|finding| format!("{}\n", finding.describe())).collect()
}

fn short_name(name: &str) -> String {
    Path::new(name).file_name().map_or_else(|| name.to_string(), |n| n.to_string_lossy().into_owned())
}
