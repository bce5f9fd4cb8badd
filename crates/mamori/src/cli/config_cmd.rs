//! `mamori check-config`, `mamori reload` and `mamori config history | diff | rollback | show`.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use super::ConfigArg;
use super::context::{Context, cli_author, describe, file_author};

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// List configuration revisions, newest first.
    History {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Show what changed between two revisions.
    Diff {
        #[command(flatten)]
        config: ConfigArg,
        from: i64,
        to: i64,
    },
    /// Make an old revision current again (as a new revision).
    Rollback {
        #[command(flatten)]
        config: ConfigArg,
        revision: i64,
        /// Why; recorded with the revision.
        #[arg(long)]
        reason: String,
    },
    /// Print a revision's configuration (the current one by default) as TOML.
    Show {
        #[command(flatten)]
        config: ConfigArg,
        revision: Option<i64>,
    },
}

/// The edge's rule files and certificates, loaded as `mamori up` would: a rule file's problem
/// is named with its file and line, a certificate's with its site.
fn edge_problems(loaded: &mamori_core::config::LoadedConfig) -> Vec<String> {
    let edge = &loaded.file.edge;
    if edge.sites.is_empty() {
        return Vec::new();
    }
    let base = loaded.path.parent().map(Path::to_path_buf).unwrap_or_default();
    match mamori_edge::build_state(edge, &base) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    }
}

fn report_edge_problems(path: &Path, problems: &[String], json: bool) -> ExitCode {
    if json {
        let problems: Vec<_> = problems
            .iter()
            .map(|p| {
                let field = p.split([':', ' ']).next().unwrap_or("");
                serde_json::json!({"file": path, "line": 0, "column": 0, "field": field, "message": p})
            })
            .collect();
        println!("{}", serde_json::json!({"ok": false, "file": path, "problems": problems}));
    } else {
        for p in problems {
            eprintln!("{}: {p}", path.display());
        }
        eprintln!("{} problem(s); the configuration was not applied", problems.len());
    }
    ExitCode::FAILURE
}

pub fn check(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    match mamori_core::config::load(path) {
        Ok(loaded) => {
            let edge = edge_problems(&loaded);
            if !edge.is_empty() {
                return Ok(report_edge_problems(path, &edge, json));
            }
            let m = loaded.managed();
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": true, "file": path, "tenants": m.tenants.len(), "problems": []})
                );
            } else {
                println!(
                    "{}: OK ({} tenants, data in {})",
                    path.display(),
                    m.tenants.len(),
                    loaded.data_dir().display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                let problems: Vec<_> = e
                    .diagnostics
                    .iter()
                    .map(|d| serde_json::json!({"file": d.file, "line": d.line, "column": d.column, "field": d.path, "message": d.message}))
                    .collect();
                println!("{}", serde_json::json!({"ok": false, "file": path, "problems": problems}));
            } else {
                eprintln!("{e}");
                eprintln!("{} problem(s); the configuration was not applied", e.diagnostics.len());
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn reload(path: &Path) -> anyhow::Result<ExitCode> {
    let ctx = match Context::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("the configuration was refused; the running one stays");
            return Ok(ExitCode::FAILURE);
        }
    };
    let edge = edge_problems(&ctx.config);
    if !edge.is_empty() {
        for p in &edge {
            eprintln!("{}: {p}", path.display());
        }
        eprintln!("the configuration was refused; the running one stays");
        return Ok(ExitCode::FAILURE);
    }
    if ctx.config.file.detect.enabled
        && let Err(e) = crate::server::detect_service::check(&ctx.config)
    {
        eprintln!("{}: {e:#}", path.display());
        eprintln!("the configuration was refused; the running one stays");
        return Ok(ExitCode::FAILURE);
    }
    let service = ctx.config_service()?;
    let outcome = service.offer_file(&ctx.config.managed(), &file_author(path), "mamori reload")?;
    println!("{}", describe(&outcome));
    match ctx.server_pid() {
        Some(pid) => {
            // SAFETY: sending SIGHUP to a process we found through our own pid file.
            unsafe { libc::kill(pid, libc::SIGHUP) };
            println!("told the running mamori (pid {pid}) to apply it");
        }
        None => println!("no running mamori found; it will apply at the next start"),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::History { config, limit, json } => {
            let ctx = Context::load(&config.config)?;
            let service = ctx.config_service()?;
            let revs = service.history(limit, None)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&revs)?);
            } else if revs.is_empty() {
                println!("no revisions yet (the first is made when mamori starts or a change is made)");
            } else {
                println!("{:>5}  {:<25}  {:<8}  {:<20}  reason", "rev", "time", "source", "author");
                for r in revs {
                    println!(
                        "{:>5}  {:<25}  {:<8}  {:<20}  {}",
                        r.number,
                        r.created_at.to_string(),
                        r.source,
                        r.author,
                        r.reason
                    );
                }
            }
        }
        ConfigCommand::Diff { config, from, to } => {
            let ctx = Context::load(&config.config)?;
            print!("{}", ctx.config_service()?.diff(from, to)?);
        }
        ConfigCommand::Rollback { config, revision, reason } => {
            let ctx = Context::load(&config.config)?;
            let service = ctx.config_service()?;
            let r = service.rollback(revision, &cli_author(), &reason)?;
            println!("revision {} now in force (rolled back to revision {revision}):\n{}", r.number, r.diff);
            if let Some(pid) = ctx.server_pid() {
                // SAFETY: see `reload`.
                unsafe { libc::kill(pid, libc::SIGUSR1) };
            }
        }
        ConfigCommand::Show { config, revision } => {
            let ctx = Context::load(&config.config)?;
            let service = ctx.config_service()?;
            let (rev, managed) = match revision {
                Some(n) => {
                    let r = service.revision(n)?;
                    let m = mamori_core::ManagedConfig::from_json(&r.config_json).map_err(anyhow::Error::msg)?;
                    (r, m)
                }
                None => ctx.current_managed(&service)?,
            };
            println!("# revision {} by {} at {}: {}", rev.number, rev.author, rev.created_at, rev.reason);
            print!("{}", managed.to_toml());
        }
    }
    Ok(ExitCode::SUCCESS)
}
