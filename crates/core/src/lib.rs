//! The shared core of mamori: tenants and their attribution, the ECS event model, the
//! configuration file and its versioned part, the event sink receivers hand events to, and the
//! metrics registry. Every other crate builds on these types.

pub mod accept;
pub mod attribution;
pub mod compact;
pub mod config;
pub mod domain_map;
pub mod error_text;
pub mod event;
pub mod event_writer;
pub mod h2c;
pub mod json_text;
pub mod managed;
pub mod metrics;
pub mod prefix_map;
pub mod sink;
pub mod tenant;
pub mod time_text;
pub mod tls_client;
pub mod web;

pub use attribution::{LogSender, TenantDirectory};
pub use event::Event;
pub use managed::ManagedConfig;
pub use sink::{EventSink, Receipt, SubmitError};
pub use tenant::{NetworkModel, Tenant};
