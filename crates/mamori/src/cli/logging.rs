//! mamori's own diagnostics: `tracing`, human-readable on a terminal, JSON otherwise (as when
//! run by systemd), so that production logs can be collected like any other.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(log_level: &str) {
    let filter = EnvFilter::try_new(log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        builder.compact().init();
    } else {
        builder.json().init();
    }
}
