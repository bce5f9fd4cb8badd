//! Command-line interface: argument definitions and dispatch.

mod ca_cmd;
mod config_cmd;
pub mod context;
mod event_range;
mod hunt_cmd;
mod init;
pub mod logging;
mod logs_cmd;
mod logs_import;
mod mail_cmd;
mod quarantine_cmd;
mod scan_cmd;
mod tenant_cmd;
mod user_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "mamori",
    version,
    about = "mamori — 自治体情報セキュリティクラウド: an open-source security cloud for Japanese local government",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log level of mamori's own diagnostics (error, warn, info, debug, trace).
    #[arg(long, global = true, env = "MAMORI_LOG", default_value = "info")]
    pub log_level: String,
}

#[derive(Args, Debug, Clone)]
pub struct ConfigArg {
    /// The configuration file.
    #[arg(long, short = 'c', env = "MAMORI_CONFIG", default_value = "mamori.toml")]
    pub config: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a commented mamori.toml with two demo tenants.
    Init {
        /// Directory to write mamori.toml into.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Overwrite an existing mamori.toml.
        #[arg(long)]
        force: bool,
    },
    /// Run every enabled service and print where they listen.
    Up {
        #[command(flatten)]
        config: ConfigArg,
        /// Run only these services (comma separated): api, syslog, scan.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Check a configuration file and report every problem with file, line and reason.
    CheckConfig {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        json: bool,
    },
    /// Apply the configuration file to the running mamori (a new revision if it changed).
    Reload {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Search, import and verify logs.
    Logs {
        #[command(subcommand)]
        command: logs_cmd::LogsCommand,
    },
    /// List and add tenants (member municipalities).
    Tenant {
        #[command(subcommand)]
        command: tenant_cmd::TenantCommand,
    },
    /// Manage operator accounts.
    User {
        #[command(subcommand)]
        command: user_cmd::UserCommand,
    },
    /// Manage API and ingestion tokens.
    Token {
        #[command(subcommand)]
        command: user_cmd::TokenCommand,
    },
    /// Scan files and directories for malware: exit 0 clean, 1 found, 2 error.
    Scan(scan_cmd::ScanArgs),
    /// The web proxy's TLS inspection CA: export the certificate terminals install.
    Ca {
        #[command(subcommand)]
        command: ca_cmd::CaCommand,
    },
    /// The mail relay: its queue.
    Mail {
        #[command(subcommand)]
        command: mail_cmd::MailCommand,
    },
    /// Configuration revisions: history, diff, rollback.
    Config {
        #[command(subcommand)]
        command: config_cmd::ConfigCommand,
    },
    /// Hunt with Sigma rules: over the log store, or `hunt evtx` over Windows event log files.
    Hunt(hunt_cmd::HuntArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init { dir, force } => init::run(&dir, force),
        Command::Up { config, only } => crate::server::run(&config.config, &only),
        Command::CheckConfig { config, json } => config_cmd::check(&config.config, json),
        Command::Reload { config } => config_cmd::reload(&config.config),
        Command::Logs { command } => logs_cmd::run(command),
        Command::Tenant { command } => tenant_cmd::run(command),
        Command::User { command } => user_cmd::run_user(command),
        Command::Token { command } => user_cmd::run_token(command),
        Command::Config { command } => config_cmd::run(command),
        Command::Scan(args) => scan_cmd::run(args),
        Command::Ca { command } => ca_cmd::run(command),
        Command::Mail { command } => mail_cmd::run(command),
        Command::Hunt(args) => hunt_cmd::run(args),
    }
}
