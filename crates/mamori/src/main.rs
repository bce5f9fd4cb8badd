//! `mamori`: the one binary of the security cloud. `mamori up` runs every enabled service;
//! the other subcommands manage configuration, tenants, users and logs.

mod cli;
mod server;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    cli::logging::init(&args);
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
