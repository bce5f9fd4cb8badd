//! `mamori mail queue ...` and `mamori mail quarantine ...`: look at and act on the relay's
//! queue and quarantine. Works on their files directly, so it works whether or not `mamori up`
//! runs; the running relay sees changes at its next look (a flush wakes it within seconds).

use std::process::ExitCode;

use clap::Subcommand;
use mamori_mail::QueueStore;
use mamori_mail::queue::{Envelope, Status};

use super::ConfigArg;
use super::context::Context;

#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// The delivery queue.
    Queue {
        #[command(subcommand)]
        command: QueueCommand,
    },
    /// Messages held back by the anti-virus or DMARC checks.
    Quarantine {
        #[command(subcommand)]
        command: super::quarantine_cmd::QuarantineCommand,
    },
    /// The DNS TXT records to publish for the tenants' DKIM keys.
    DkimRecords {
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum QueueCommand {
    /// Every queued message: id, age, sender, recipients and their state.
    List {
        #[command(flatten)]
        config: ConfigArg,
        /// One JSON envelope per line.
        #[arg(long)]
        json: bool,
    },
    /// One message: its envelope, delivery state and header.
    Show {
        id: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Try every message now instead of waiting for its retry time.
    Flush {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Keep a message from delivery until released.
    Hold {
        id: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Let a held message be delivered again.
    Release {
        id: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Remove a message without delivering it and without notifying its sender.
    Delete {
        id: String,
        #[command(flatten)]
        config: ConfigArg,
    },
}

pub(super) fn open(config: &ConfigArg) -> anyhow::Result<QueueStore> {
    let ctx = Context::load(&config.config)?;
    let dir = mamori_mail::service::queue_dir(&ctx.config.file.mail, &ctx.data_dir);
    Ok(QueueStore::open(&dir)?)
}

pub fn run(cmd: MailCommand) -> anyhow::Result<ExitCode> {
    let command = match cmd {
        MailCommand::Queue { command } => command,
        MailCommand::Quarantine { command } => return super::quarantine_cmd::run(command),
        MailCommand::DkimRecords { config } => return dkim_records(&config),
    };
    match command {
        QueueCommand::List { config, json } => {
            let q = open(&config)?;
            let ids = q.ids()?;
            for id in &ids {
                let Ok(env) = q.load(id) else { continue };
                if json {
                    println!("{}", serde_json::to_string(&env)?);
                } else {
                    println!("{}", summary(&env, q.is_held(id)));
                }
            }
            if !json {
                println!("{} message(s) in the queue", ids.len());
            }
        }
        QueueCommand::Show { id, config } => {
            let q = open(&config)?;
            let env = q.load(&id)?;
            println!("{}", serde_json::to_string_pretty(&env)?);
            println!("held: {}", q.is_held(&id));
            let text = q.text(&id)?;
            let end = text.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(text.len());
            println!("--- header ---\n{}", String::from_utf8_lossy(&text[..end]).replace("\r\n", "\n"));
        }
        QueueCommand::Flush { config } => {
            open(&config)?.request_flush()?;
            println!("flush requested: every message is tried at the relay's next look");
        }
        QueueCommand::Hold { id, config } => {
            open(&config)?.hold(&id)?;
            println!("{id} held");
        }
        QueueCommand::Release { id, config } => {
            open(&config)?.release(&id)?;
            println!("{id} released");
        }
        QueueCommand::Delete { id, config } => {
            open(&config)?.remove(&id)?;
            println!("{id} deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn dkim_records(config: &ConfigArg) -> anyhow::Result<ExitCode> {
    let ctx = Context::load(&config.config)?;
    let base = mamori_mail::dkim_sign::key_base(&ctx.config.path);
    let signers =
        mamori_mail::dkim_sign::DkimSigners::load(&ctx.config.file.mail, &base).map_err(anyhow::Error::msg)?;
    let records = signers.dns_records();
    for r in &records {
        // Zone-file form; long values split into 255-byte strings (RFC 1035 §3.3.14).
        let parts: Vec<String> =
            r.value.as_bytes().chunks(255).map(|c| format!("\"{}\"", String::from_utf8_lossy(c))).collect();
        println!("; tenant {}\n{}. IN TXT ( {} )", r.tenant, r.name, parts.join(" "));
    }
    if records.is_empty() {
        println!("no DKIM keys are configured ([[mail.tenants.ID.dkim]])");
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(env: &Envelope, held: bool) -> String {
    let sender = if env.sender.is_empty() { "<>" } else { env.sender.as_str() };
    let rcpts: Vec<String> = env
        .recipients
        .iter()
        .map(|r| {
            let state = match r.status {
                Status::Pending => format!("pending, {} attempt(s)", r.attempts),
                Status::Delivered => "delivered".into(),
                Status::Failed => "failed".into(),
            };
            format!("{} ({state})", r.address)
        })
        .collect();
    format!(
        "{}{}  {}  {} bytes  from {sender}  to {}",
        env.id,
        if held { " [held]" } else { "" },
        env.received_at.strftime("%Y-%m-%d %H:%M:%S"),
        env.size,
        rcpts.join(", ")
    )
}
