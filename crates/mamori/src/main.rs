//! `mamori`: the one binary of the security cloud. `mamori up` runs every enabled service;
//! the other subcommands manage configuration, tenants, users and logs.

mod allocator;
mod cli;
mod server;

pub(crate) use allocator::release_free_memory;
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    cli::logging::init(&args.log_level);
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
