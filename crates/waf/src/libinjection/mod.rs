//! `@detectSQLi` / `@detectXSS` on libinjection's algorithms. mamori does not have its own
//! port yet: this module wraps the `libinjectionrs` crate (a Rust port of the C libinjection)
//! behind a stable interface, so that an own port can replace it without touching operators.
//! Where the crate and the C library differ, mamori decides which behaviour it keeps: event
//! handler attributes follow libinjection 4 (see `xss`).

pub mod sqli;
pub mod xss;

/// Runs a detector; the wrapped crate is young, so a panic in it is contained and counted as
/// no detection instead of taking the request down.
fn contained<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    std::panic::catch_unwind(f).ok()
}
