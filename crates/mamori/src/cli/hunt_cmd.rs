//! `mamori hunt`: Sigma rules over EVTX files (`hunt evtx`) or over the log store, printed as
//! a timeline (table, CSV or JSON lines).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use mamori_detect::hunt::{self, Hit};
use mamori_detect::{CompileOptions, Pipeline, RuleSet};
use mamori_logs::SearchRequest;

use super::ConfigArg;
use super::context::Context;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HuntArgs {
    #[command(subcommand)]
    pub command: Option<HuntCommand>,
    #[command(flatten)]
    pub store: StoreHunt,
}

#[derive(Subcommand, Debug)]
pub enum HuntCommand {
    /// Run Sigma rules over Windows event log files (.evtx, directories searched recursively).
    Evtx {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        output: RuleOutput,
    },
}

/// Over the log store.
#[derive(Args, Debug)]
pub struct StoreHunt {
    #[command(flatten)]
    config: ConfigArg,
    /// Which events: a query (e.g. 'event.dataset:winlog'), a time range, tenants.
    #[command(flatten)]
    range: super::event_range::EventRange,
    /// Events read at most.
    #[arg(long, default_value_t = 1_000_000)]
    max_events: usize,
    #[command(flatten)]
    output: Option<RuleOutput>,
}

#[derive(Args, Debug, Clone)]
pub struct RuleOutput {
    /// Sigma rule files or directories (repeat for several).
    #[arg(long, required = true)]
    rules: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Leave out hits below this level (informational, low, medium, high, critical).
    #[arg(long)]
    min_level: Option<String>,
    /// Write the timeline to this file instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Values of a placeholder for Sigma's `expand` modifier (`%name%`), e.g.
    /// `--placeholder Admins=administrator,admin` (repeat for several). Over the log store the
    /// configuration's `[detect.placeholders]` apply too; a name given here replaces its values.
    #[arg(long = "placeholder", value_name = "NAME=V1,V2")]
    placeholders: Vec<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Jsonl,
}

pub fn run(args: HuntArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(HuntCommand::Evtx { paths, output }) => evtx(&paths, &output),
        None => {
            let output = args.store.output.clone().context("--rules DIR is required")?;
            store(&args.store, &output)
        }
    }
}

/// `configured` placeholders with those of `--placeholder` over them.
fn placeholder_values(
    out: &RuleOutput,
    configured: &BTreeMap<String, Vec<String>>,
) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let mut values = configured.clone();
    for p in &out.placeholders {
        let (name, list) = p.split_once('=').with_context(|| format!("--placeholder {p}: expected NAME=V1,V2"))?;
        let name = name.trim().trim_matches('%');
        anyhow::ensure!(!name.is_empty(), "--placeholder {p}: the name is empty");
        values.insert(
            name.to_string(),
            list.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect(),
        );
    }
    Ok(values)
}

fn load_rules(out: &RuleOutput, configured: &BTreeMap<String, Vec<String>>) -> anyhow::Result<RuleSet> {
    let values = placeholder_values(out, configured)?;
    let lookup = |name: &str| values.get(name).cloned();
    let options = CompileOptions { placeholders: Some(&lookup) };
    let set = RuleSet::load(&out.rules, &Pipeline::default(), &options);
    for f in &set.failures {
        eprintln!("rule not loaded: {f}");
    }
    if set.rules.is_empty() {
        anyhow::bail!("no rule could be loaded from {:?}", out.rules);
    }
    eprintln!(
        "{} rules loaded ({} correlations, {} failed, {} without a log source mamori knows)",
        set.rules.len(),
        set.correlations.len(),
        set.failures.len(),
        set.unmapped().count()
    );
    Ok(set)
}

fn evtx(paths: &[PathBuf], out: &RuleOutput) -> anyhow::Result<ExitCode> {
    let rules = load_rules(out, &BTreeMap::new())?;
    let files = hunt::evtx_files(paths).context("reading the paths")?;
    let total: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} files", files.len()));
    // Files in parallel, one per thread at a time; the timeline is sorted at the end.
    let next = AtomicU64::new(0);
    let matches = Mutex::new(Vec::new());
    let counts = Mutex::new((0u64, 0u64, 0u64));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(file) = files.get(i) else { break };
                    let mut report = |issue: mamori_detect::evtx::EvtxIssue| {
                        bar.suspend(|| eprintln!("{}: skipped: {}", file.display(), issue.message))
                    };
                    match hunt::evtx_matches(file, &rules, &mut report) {
                        Ok((found, stats)) => {
                            let mut c = counts.lock().expect("not poisoned");
                            c.0 += stats.records;
                            c.1 += stats.issues;
                            bar.inc(stats.bytes);
                            matches.lock().expect("not poisoned").extend(found);
                        }
                        Err(e) => {
                            counts.lock().expect("not poisoned").2 += 1;
                            bar.suspend(|| eprintln!("{e}"));
                        }
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    let hits = hunt::timeline(&rules, matches.into_inner().expect("not poisoned"));
    let hits = filter_level(hits, out.min_level.as_deref())?;
    write_timeline(&hits, out)?;
    let (records, issues, bad_files) = counts.into_inner().expect("not poisoned");
    eprintln!(
        "{} files, {records} events, {} hits; {issues} damaged parts skipped, {bad_files} files not readable",
        files.len(),
        hits.len()
    );
    eprintln!("{}", hunt::summary(&hits));
    Ok(if bad_files > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn store(args: &StoreHunt, out: &RuleOutput) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(&args.config.config)?;
    let rules = load_rules(out, &ctx.config.file.detect.placeholders)?;
    let now = Timestamp::now();
    let (from, to) = args.range.times(now)?;
    let query = args.range.parsed_query(now)?;
    let scope = args.range.scope();
    let req = SearchRequest {
        query,
        from,
        to,
        tenants: scope,
        limit: args.max_events,
        oldest_first: true,
        aggregations: Vec::new(),
    };
    let resp = super::logs_cmd::search(&ctx, &req)?;
    if resp.total > resp.events.len() as u64 {
        eprintln!(
            "only the first {} of {} events were read: narrow the range or raise --max-events",
            resp.events.len(),
            resp.total
        );
    }
    let bar = ProgressBar::new(resp.events.len() as u64);
    let mut matches = Vec::new();
    for mut e in resp.events {
        // Windows events forwarded by NXLog read as Winlogbeat's, as in live detection.
        mamori_detect::nxlog::normalize(&mut e);
        for r in rules.matches(&e) {
            matches.push((r, e.clone()));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let hits = filter_level(hunt::timeline(&rules, matches), out.min_level.as_deref())?;
    write_timeline(&hits, out)?;
    eprintln!("{} events, {} hits", bar.position(), hits.len());
    eprintln!("{}", hunt::summary(&hits));
    Ok(ExitCode::SUCCESS)
}

fn filter_level(hits: Vec<Hit>, min: Option<&str>) -> anyhow::Result<Vec<Hit>> {
    let Some(min) = min else { return Ok(hits) };
    let rank = hunt::level_rank(Some(min));
    if rank == 0 {
        anyhow::bail!("--min-level '{min}' is not one of informational, low, medium, high, critical");
    }
    Ok(hits.into_iter().filter(|h| hunt::level_rank(h.level.as_deref()) >= rank).collect())
}

fn write_timeline(hits: &[Hit], out: &RuleOutput) -> anyhow::Result<()> {
    let mut w: Box<dyn Write> = match &out.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match out.format {
        Format::Jsonl => {
            for h in hits {
                writeln!(w, "{}", h.to_json())?;
            }
        }
        Format::Csv => {
            writeln!(w, "Timestamp,Tenant,Computer,Channel,EventID,RecordID,Level,RuleTitle,RuleID,Details")?;
            for h in hits {
                let fields = [
                    &h.timestamp,
                    &h.tenant,
                    &h.computer,
                    &h.channel,
                    &h.event_id,
                    &h.record_id,
                    h.level.as_deref().unwrap_or(""),
                    &h.title,
                    h.rule_id.as_deref().unwrap_or(""),
                    &h.details,
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                writeln!(w, "{}", line.join(","))?;
            }
        }
        Format::Table => {
            // The tenant column only when the hits come from the store (files have none).
            let tenants = hits.iter().any(|h| !h.tenant.is_empty());
            let tenant = |t: &str| if tenants { format!("{:<12} ", cut(t, 12)) } else { String::new() };
            writeln!(
                w,
                "{:<27} {}{:<16} {:<13} {:>5} {:<60} Details",
                "Timestamp",
                tenant("Tenant"),
                "Computer",
                "Level",
                "EvID",
                "Rule"
            )?;
            for h in hits {
                writeln!(
                    w,
                    "{:<27} {}{:<16} {:<13} {:>5} {:<60} {}",
                    h.timestamp,
                    tenant(&h.tenant),
                    cut(&h.computer, 16),
                    h.level.as_deref().unwrap_or("-"),
                    h.event_id,
                    cut(&h.title, 60),
                    cut(&h.details, 160)
                )?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// One CSV field, quoted when needed. Event data is written by whoever controls the logged
/// machine: a field a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR first)
/// gets a leading `'` (OWASP's advice against CSV injection) so that opening the timeline in
/// Excel never runs it.
fn csv_field(s: &str) -> String {
    let s = match s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{s}"),
        false => s.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn cut(s: &str, n: usize) -> String {
    let one_line = s.replace(['\n', '\r', '\t'], " ");
    if one_line.chars().count() <= n {
        return one_line;
    }
    let mut t: String = one_line.chars().take(n.saturating_sub(1)).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(placeholders: &[&str]) -> RuleOutput {
        RuleOutput {
            rules: vec![],
            format: Format::Table,
            min_level: None,
            output: None,
            placeholders: placeholders.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn csv_fields_never_start_a_formula() {
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_field("@SUM(1+1)"), "'@SUM(1+1)");
        assert_eq!(csv_field("-2+3"), "'-2+3");
        assert_eq!(csv_field("+x,y"), "\"'+x,y\"");
        assert_eq!(csv_field("a \"b\", c"), "\"a \"\"b\"\", c\"");
        assert_eq!(csv_field("2026-11-22T10:00:00Z"), "2026-11-22T10:00:00Z");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn placeholders_from_the_command_line_replace_configured_ones() {
        let configured = BTreeMap::from([
            ("Admins".to_string(), vec!["root".to_string()]),
            ("Servers".to_string(), vec!["dc1".to_string()]),
        ]);
        let values = placeholder_values(&output(&["%Admins%=administrator, admin", "New="]), &configured).unwrap();
        assert_eq!(values["Admins"], ["administrator", "admin"]);
        assert_eq!(values["Servers"], ["dc1"]);
        assert!(values["New"].is_empty());
        assert!(
            placeholder_values(&output(&["no-equals"]), &configured).unwrap_err().to_string().contains("NAME=V1,V2")
        );
        assert!(placeholder_values(&output(&["=x"]), &configured).is_err());
    }
}
