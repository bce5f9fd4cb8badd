//! Generators of realistic log input and a fast TCP sender, for the scripts under `bench/`.
//! Deterministic (seeded) so that mamori and its peer see the same bytes.

mod generator;
mod ingest;
mod load;

use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Syslog lines (RFC 3164, as devices send them), one per line.
    GenSyslog {
        #[arg(long)]
        count: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// ECS events as NDJSON (proxy access, firewall, syslog mix) spread over `days` days ending
    /// yesterday, plus their raw lines in `raw` when given.
    GenEvents {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        days: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        raw: Option<PathBuf>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Fills a log store directly with generated events spread over `days` days ending now.
    Load {
        /// The store's directory (a mamori data directory's `logs/`).
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 10)]
        days: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Times searches on a store: each query run `runs` times, p50 and p90 reported.
    Search {
        #[arg(long)]
        dir: PathBuf,
        /// A query; repeat for several.
        #[arg(long = "query")]
        queries: Vec<String>,
        /// Also count the top values of this field with each query.
        #[arg(long)]
        top: Option<String>,
        #[arg(long, default_value_t = 15)]
        days: u64,
        #[arg(long, default_value_t = 9)]
        runs: usize,
    },
    /// Streams a file of lines to a TCP syslog receiver with RFC 6587 octet counting.
    Send {
        #[arg(long)]
        addr: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Runs a file of syslog lines through parsing, the write-ahead log and the index in
    /// process, and prints the CPU cost per event (a profiling aid).
    Ingest {
        /// A directory for the log store (created; should be empty).
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        file: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::GenSyslog { count, out, seed } => {
            let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
            // Spread over the time just before now (7 ms apart on average), as a live stream.
            let start = jiff::Timestamp::now() - jiff::SignedDuration::from_millis(7 * count as i64);
            let mut g = generator::Generator::new(seed, start);
            for _ in 0..count {
                let (_, raw) = g.next_event();
                w.write_all(raw.as_bytes())?;
                w.write_all(b"\n")?;
            }
            w.flush()?;
        }
        Command::GenEvents { count, days, out, raw, seed } => {
            let end = jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .to_zoned(jiff::tz::TimeZone::UTC)?
                .timestamp();
            let start = end - jiff::SignedDuration::from_hours(24 * days as i64);
            let mut g = generator::Generator::new(seed, start);
            g.step_ms = ((days * 86_400_000) / count.max(1)).max(1);
            let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
            let mut r = match raw {
                Some(p) => Some(BufWriter::with_capacity(1 << 20, std::fs::File::create(p)?)),
                None => None,
            };
            for _ in 0..count {
                let (event, line) = g.next_event();
                serde_json::to_writer(&mut w, &event)?;
                w.write_all(b"\n")?;
                if let Some(r) = &mut r {
                    r.write_all(line.as_bytes())?;
                    r.write_all(b"\n")?;
                }
            }
            w.flush()?;
            if let Some(mut r) = r {
                r.flush()?;
            }
        }
        Command::Load { dir, count, days, seed } => load::run(&dir, count, days, seed)?,
        Command::Search { dir, queries, top, days, runs } => load::search(&dir, &queries, top.as_deref(), days, runs)?,
        Command::Ingest { dir, file } => ingest::run(&dir, &file)?,
        Command::Send { addr, file } => {
            let mut data = Vec::new();
            std::fs::File::open(file)?.read_to_end(&mut data)?;
            let mut framed = Vec::with_capacity(data.len() + data.len() / 20);
            for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                write!(framed, "{} ", line.len())?;
                framed.extend_from_slice(line);
            }
            let mut s = std::net::TcpStream::connect(&addr)?;
            s.set_nodelay(true)?;
            s.write_all(&framed)?;
            s.flush()?;
        }
    }
    Ok(())
}
