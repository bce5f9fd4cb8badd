//! `mamori mail quarantine ...`: the messages the relay held back. Releases and deletions need
//! a reason and are written to the quarantine's audit trail with the operating-system user.

use std::process::ExitCode;

use clap::Subcommand;
use mamori_mail::QuarantineStore;
use mamori_mail::quarantine::{Actor, Record};

use super::ConfigArg;
use super::context::Context;

#[derive(Subcommand, Debug)]
pub enum QuarantineCommand {
    /// Every quarantined message: id, tenant, cause, sender, subject, expiry.
    List {
        #[command(flatten)]
        config: ConfigArg,
        /// Only this tenant's messages.
        #[arg(long)]
        tenant: Option<String>,
        /// One JSON record per line.
        #[arg(long)]
        json: bool,
    },
    /// One message: its record and header (`--full` prints the whole message).
    Show {
        id: String,
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        full: bool,
    },
    /// Deliver a quarantined message to its recipients after all.
    Release {
        id: String,
        #[command(flatten)]
        config: ConfigArg,
        /// Why (kept in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// Delete a quarantined message for good.
    Delete {
        id: String,
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        reason: String,
    },
    /// The audit trail: every release, deletion and expiry.
    Audit {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        json: bool,
    },
}

fn open(config: &ConfigArg) -> anyhow::Result<QuarantineStore> {
    let ctx = Context::load(&config.config)?;
    let dir = mamori_mail::service::quarantine_dir(&ctx.config.file.mail, &ctx.data_dir);
    Ok(QuarantineStore::open(&dir)?)
}

fn actor(reason: String) -> anyhow::Result<Actor> {
    if reason.trim().is_empty() {
        anyhow::bail!("--reason must say why");
    }
    let name = std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into());
    Ok(Actor { name: format!("cli:{name}"), tenant: None, reason })
}

pub fn run(cmd: QuarantineCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        QuarantineCommand::List { config, tenant, json } => {
            let q = open(&config)?;
            let mut shown = 0;
            for item in q.list()? {
                match item {
                    Ok(r) if tenant.is_some() && r.tenant != tenant => {}
                    Ok(r) if json => {
                        println!("{}", serde_json::to_string(&r)?);
                        shown += 1;
                    }
                    Ok(r) => {
                        println!("{}", summary(&r));
                        shown += 1;
                    }
                    Err(e) => eprintln!("unreadable: {e}"),
                }
            }
            if !json {
                println!("{shown} message(s) in the quarantine");
            }
        }
        QuarantineCommand::Show { id, config, full } => {
            let q = open(&config)?;
            let record = q.load(&id)?;
            println!("{}", serde_json::to_string_pretty(&record)?);
            let text = q.text(&id)?;
            let end =
                if full { text.len() } else { text.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(text.len()) };
            println!(
                "--- {} ---\n{}",
                if full { "message" } else { "header" },
                String::from_utf8_lossy(&text[..end]).replace("\r\n", "\n")
            );
        }
        QuarantineCommand::Release { id, config, reason } => {
            let q = open(&config)?;
            let queue = super::mail_cmd::open(&config)?;
            let record = mamori_mail::quarantine::release(&q, &queue, &id, &actor(reason)?)?;
            queue.request_flush()?;
            println!("{} released to {} recipient(s)", record.id, record.envelope.recipients.len());
        }
        QuarantineCommand::Delete { id, config, reason } => {
            let q = open(&config)?;
            let record = mamori_mail::quarantine::delete(&q, &id, &actor(reason)?)?;
            println!("{} deleted", record.id);
        }
        QuarantineCommand::Audit { config, json } => {
            for entry in open(&config)?.audit_trail()? {
                if json {
                    println!("{}", serde_json::to_string(&entry)?);
                } else {
                    println!(
                        "{}  {:<8}  {}  tenant={}  by {}: {}",
                        entry.time.strftime("%Y-%m-%d %H:%M:%S"),
                        entry.action,
                        entry.id,
                        entry.tenant.as_deref().unwrap_or("-"),
                        entry.actor,
                        entry.reason
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(r: &Record) -> String {
    let sender = if r.envelope.sender.is_empty() { "<>" } else { r.envelope.sender.as_str() };
    format!(
        "{}  {}  tenant={}  {:<10}  from={}  subject={}  expires={}\n    {}",
        r.id,
        r.quarantined_at.strftime("%Y-%m-%d %H:%M"),
        r.tenant.as_deref().unwrap_or("-"),
        r.cause.as_str(),
        sender,
        r.envelope.subject.as_deref().unwrap_or("-"),
        r.expires_at.strftime("%Y-%m-%d"),
        r.reasons.join("\n    ")
    )
}
