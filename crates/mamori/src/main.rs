//! `mamori`: the one binary of the security cloud. `mamori up` runs every enabled service;
//! the other subcommands manage configuration, tenants, users and logs.

mod cli;
mod server;

use clap::Parser;

/// mimalloc: the log pipeline allocates and frees many small strings on several threads at
/// once, where glibc's allocator spent a third of the CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns memory freed so far to the operating system. Loading signatures builds large
/// temporaries (the pattern automaton is built from a bigger one) that mimalloc would keep
/// resident for as long as the process runs.
pub fn release_free_memory() {
    unsafe extern "C" {
        fn mi_collect(force: bool);
    }
    // SAFETY: mimalloc is the global allocator and mi_collect may be called from any thread.
    unsafe { mi_collect(true) }
}

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
