//! `mamori logs search | import | verify`.
//!
//! With a server running, the CLI reads what the server has committed (search, verify) and
//! sends imports through the server's ingestion API; otherwise it opens the log store itself.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use jiff::Timestamp;
use mamori_logs::{LogReader, LogStore, LogStoreConfig, SearchRequest, SearchResponse};
use mamori_query::{AggResult, Aggregation, Interval};

use super::ConfigArg;
use super::context::Context;
use super::logs_import;

#[derive(Subcommand, Debug)]
pub enum LogsCommand {
    /// Search events with the query language (see the README).
    Search {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        range: super::event_range::EventRange,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        oldest_first: bool,
        /// Print the number of matches only.
        #[arg(long)]
        count: bool,
        /// Also count the most frequent values of this field.
        #[arg(long)]
        top: Option<String>,
        #[arg(long, default_value_t = 10)]
        size: usize,
        /// Also count events per time bucket (e.g. 1m, 1h, 1d).
        #[arg(long)]
        histogram: Option<String>,
        /// Print JSON: events as NDJSON, or the whole response with --count/--top/--histogram.
        #[arg(long)]
        json: bool,
    },
    /// Import NDJSON or syslog text files (optionally .gz).
    Import {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Attribute every event to this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// auto, ndjson or syslog.
        #[arg(long, default_value = "auto")]
        format: String,
        /// The address the logs came from, for attribution like a live sender.
        #[arg(long)]
        sender: Option<std::net::IpAddr>,
    },
    /// Archive closed days and apply retention now (a running server does this every 10 minutes).
    Maintain {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        json: bool,
    },
    /// Check the archive's hash chain and every archived segment.
    Verify {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        json: bool,
        /// Also require that the chain ends at this hash (recorded earlier, kept elsewhere).
        #[arg(long)]
        expect_head: Option<String>,
    },
}

pub fn run(cmd: LogsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LogsCommand::Search { config, range, limit, oldest_first, count, top, size, histogram, json } => {
            let ctx = Context::load(&config.config)?;
            let now = Timestamp::now();
            let (from, to) = range.times(now)?;
            let query = range.parsed_query(now)?;
            let mut aggregations = Vec::new();
            if let Some(field) = &top {
                aggregations.push(Aggregation::Terms { field: field.clone(), size });
            }
            if let Some(h) = &histogram {
                let interval: Interval = h.parse().map_err(|e| anyhow::anyhow!("--histogram: {e}"))?;
                aggregations.push(Aggregation::date_histogram(interval));
            }
            let scope = range.scope();
            let req = SearchRequest {
                query,
                from,
                to,
                tenants: scope,
                limit: if count { 0 } else { limit },
                oldest_first,
                aggregations,
            };
            let resp = search(&ctx, &req)?;
            print_response(&resp, count, json)?;
        }
        LogsCommand::Import { config, files, tenant, format, sender } => {
            let ctx = Context::load(&config.config)?;
            return logs_import::run(&ctx, &files, tenant, &format, sender);
        }
        LogsCommand::Maintain { config, json } => {
            let ctx = Context::load(&config.config)?;
            if mamori_logs::is_locked(&ctx.logs_dir()) {
                anyhow::bail!(
                    "a running mamori holds the log store; it archives and applies retention every 10 minutes by itself"
                );
            }
            let service = ctx.config_service()?;
            let (_, managed) = ctx.current_managed(&service)?;
            let store = open_store(&ctx)?;
            store.set_retention(mamori_logs::RetentionPolicy::from_managed(&managed));
            store.wait_indexed(store.durable_lsn(), Duration::from_secs(3600));
            let report = store.run_maintenance(Timestamp::now())?;
            store.close();
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for a in &report.archived {
                    println!("archived {}: {} events in {} segments, {} bytes", a.day, a.events, a.segments, a.bytes);
                }
                for (day, tenant) in &report.hot_tenants_removed {
                    println!("removed {tenant}'s events of {day} from the search index (kept in the archive)");
                }
                for day in &report.hot_partitions_removed {
                    println!("removed the index of {day} (kept in the archive)");
                }
                for f in &report.archive_segments_expired {
                    println!("expired archive segment {f}");
                }
                if report.is_empty() {
                    println!("nothing to do");
                }
            }
        }
        LogsCommand::Verify { config, json, expect_head } => {
            let ctx = Context::load(&config.config)?;
            let report = LogReader::open(&ctx.logs_dir())?.verify()?;
            let mut problems = report.problems.clone();
            if let Some(h) = &expect_head
                && *h != report.head
            {
                problems.push(format!(
                    "the chain ends at {} but {h} was expected: entries were removed or replaced",
                    report.head
                ));
            }
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": problems.is_empty(), "entries": report.entries, "segments_checked": report.segments_checked,
                        "events": report.events, "head": report.head, "problems": problems})
                );
            } else {
                println!(
                    "archive: {} manifest entries, {} segments checked, {} events, chain head {}",
                    report.entries, report.segments_checked, report.events, report.head
                );
                for p in &problems {
                    println!("PROBLEM: {p}");
                }
                println!(
                    "{}",
                    if problems.is_empty() {
                        "OK: the archive is intact"
                    } else {
                        "FAILED: the archive was damaged or tampered with"
                    }
                );
            }
            return Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Searches what a running server has committed, or opens the store when none runs.
pub(super) fn search(ctx: &Context, req: &SearchRequest) -> anyhow::Result<SearchResponse> {
    let dir = ctx.logs_dir();
    if mamori_logs::is_locked(&dir) {
        return Ok(LogReader::open(&dir)?.search(req)?);
    }
    let store = open_store(ctx)?;
    store.wait_indexed(store.durable_lsn(), Duration::from_secs(600));
    let resp = store.search(req)?;
    store.close();
    Ok(resp)
}

/// Opens the log store in this process (no server is running), without background upkeep.
pub fn open_store(ctx: &Context) -> anyhow::Result<Arc<LogStore>> {
    let mut config = LogStoreConfig::from_config(&ctx.data_dir, &ctx.config.file.logs);
    config.maintenance_interval = None;
    let (store, report) = LogStore::open(config)?;
    for r in &report.repairs {
        eprintln!("warning: {r}");
    }
    Ok(store)
}

pub(super) fn parse_time(s: &str, now: Timestamp) -> anyhow::Result<Timestamp> {
    mamori_query::time::parse_time(s, now).map_err(anyhow::Error::msg)
}

fn print_response(resp: &SearchResponse, count: bool, json: bool) -> anyhow::Result<()> {
    if json {
        if count || !resp.aggregations.is_empty() {
            println!("{}", serde_json::to_string_pretty(resp)?);
        } else {
            for e in &resp.events {
                println!("{e}");
            }
        }
        return Ok(());
    }
    if !count {
        for e in &resp.events {
            println!("{}", one_line(e));
        }
    }
    for agg in &resp.aggregations {
        match agg {
            AggResult::Terms(t) => {
                println!("-- top values --");
                for b in &t.buckets {
                    println!("{:>10}  {}", b.count, b.key);
                }
                if t.other_count > 0 {
                    println!("{:>10}  (other)", t.other_count);
                }
                if t.missing_count > 0 {
                    println!("{:>10}  (missing)", t.missing_count);
                }
            }
            AggResult::DateHistogram(h) => {
                println!("-- events per bucket --");
                for b in &h.buckets {
                    println!("{}  {:>10}", b.start, b.count);
                }
            }
            AggResult::Count { count } => println!("count: {count}"),
        }
    }
    let sources = if resp.cold_segments > 0 {
        format!(", {} archive segments scanned ({} events)", resp.cold_segments, resp.cold_events_scanned)
    } else {
        String::new()
    };
    println!("{} matching events ({} ms{sources})", resp.total, resp.took_ms);
    Ok(())
}

/// `time tenant dataset host: message` for a terminal.
fn one_line(e: &serde_json::Value) -> String {
    let s = |p: &str| e.pointer(p).and_then(|v| v.as_str()).unwrap_or("-");
    let host = e.pointer("/host/hostname").or_else(|| e.pointer("/source/ip")).and_then(|v| v.as_str()).unwrap_or("-");
    let msg = e.get("message").and_then(|v| v.as_str()).unwrap_or_else(|| s("/event/original"));
    format!("{} {} {} {}: {}", s("/@timestamp"), s("/organization/id"), s("/event/dataset"), host, msg)
}
