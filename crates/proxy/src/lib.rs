//! The forward web proxy every municipal PC browses through.
//!
//! Each request is attributed to its tenant by source address (and to the terminal behind a
//! tenant's own proxy by `X-Forwarded-For`, only from that tenant's trusted proxies), checked
//! against the URL filter with the tenant's policy, and either answered with a block page or
//! forwarded over a pooled upstream connection with every header that identifies the terminal
//! removed. `CONNECT` tunnels are decided by host and, once the client speaks TLS, by SNI.
//! Every request becomes an access-log event. Tenants may have their `CONNECT` tunnels
//! decrypted (`tls`) so that the requests inside get the same treatment, and bodies pass
//! through a malware scanner (`scan_body`) before they are released.

mod access_log;
mod build;
mod client;
mod decision;
#[cfg(feature = "engine")]
mod engine;
mod forward;
mod headers;
mod pages;
mod resolve;
mod scan_body;
mod server;
mod sni;
mod state;
pub mod tls;
mod tunnel;
mod upstream;

pub use access_log::{AccessLog, DiscardSink};
pub use build::{BuildReport, build_state};
pub use client::Client;
#[cfg(feature = "engine")]
pub use engine::EngineScanner;
pub use mamori_core::h2c::H2cOrigin;
pub use resolve::Resolver;
pub use scan_body::{BodyScanner, ScanOutcome, ScanVerdict, SharedScanner};
pub use server::{ProxyContext, ProxySettings, Services, serve};
pub use sni::{SniError, server_name};
pub use state::{ProxyState, TenantWebPolicy};
