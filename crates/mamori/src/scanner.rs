//! `mamori-scanner PATH...`: `mamori scan` as a program of its own, for hosts that only scan
//! (as clamscan and clamd are programs of their own beside ClamAV's other tools). The same
//! arguments, output, exit codes, signatures and engine as `mamori scan`, from the same source
//! files; what it leaves out is the rest of `mamori` (the proxy, the log store, the services),
//! whose code and relocated data would otherwise be mapped and partly touched at start.

mod allocator;
#[path = "cli/logging.rs"]
mod logging;
#[path = "cli/scan_cmd.rs"]
mod scan_cmd;

pub(crate) use allocator::release_free_memory;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "mamori-scanner",
    version,
    about = "Scan files and directories for malware (mamori's scanning engine): exit 0 clean, 1 found, 2 error",
    long_about = None
)]
struct Cli {
    #[command(flatten)]
    scan: scan_cmd::ScanArgs,
    /// Log level of the scanner's own diagnostics (error, warn, info, debug, trace).
    #[arg(long, env = "MAMORI_LOG", default_value = "info")]
    log_level: String,
}

fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    logging::init(&args.log_level);
    match scan_cmd::run(args.scan) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
