//! The DNS service of mamori (function 4): authoritative answers for the tenants' zones, a
//! recursive resolver for tenant networks only, mamori's own Response Policy Zone engine,
//! a query log in the log store and alerts for C&C lists and suspicious names.
//!
//! Layout: `zone` (master files and the authoritative lookup), `answer_cache`
//! (finished authoritative answers as wire messages), `catalog` (all zones),
//! `rpz` (policy zones), `resolver` (cache, forwarders, iteration), `service` (one query from
//! bytes to bytes), `server` (UDP and TCP listeners), `query_log` (one JSON record per query,
//! batched), `events` and `detect` (alerts), `build` (from the configuration).

pub mod answer_cache;
pub mod build;
pub mod catalog;
pub mod detect;
pub mod dns64;
pub mod events;
pub mod metrics;
pub mod notify;
pub mod query_log;
pub mod resolver;
pub mod rpz;
pub mod server;
pub mod service;
pub mod state;
pub mod transfer;
pub mod tsig;
pub mod zone;

pub use service::{DnsService, DnsSettings, Reply, Transport};
pub use state::DnsState;
