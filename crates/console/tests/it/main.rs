//! The console's integration tests, in one binary (one link instead of one per file).

mod common;

mod admin;
mod csrf;
mod export;
mod isolation;
mod login;
mod tls;
