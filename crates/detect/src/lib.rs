//! The detection engine of mamori.
//!
//! - Sigma rules (specification v2) are read ([`rule`]), compiled once per log source target
//!   ([`compiled`], [`detection`], [`condition`], [`modifier`], [`pattern`]) and indexed by log
//!   source ([`ruleset`]), so each event is checked only against rules that can match it; in
//!   each bucket of the index a [`prefilter`] of literals skips the rules whose literals the
//!   event lacks.
//! - [`pipeline`] maps Sigma log sources to Windows channels and event IDs or mamori datasets,
//!   and Sigma field names to `winlog.*` and ECS fields.
//! - [`correlation`]: event_count, value_count, temporal and temporal_ordered rules.
//! - [`evtx`] turns Windows event log files into ECS `winlog.*` events; [`nxlog`] does the same
//!   for records forwarded by NXLog as JSON.
//! - [`alert`] writes a match as an `event.kind: alert` event.
//! - [`monitor`]: threshold, absence (liveness) and suppression rules in mamori's query language.
//! - [`route`] sends alerts to webhooks, e-mail and syslog, de-duplicated, without ever waiting.
//!
//! The engine knows nothing of the services that feed it: the binary hands it events.

pub mod alert;
pub mod compiled;
pub mod condition;
pub mod correlation;
pub mod detection;
pub mod error;
pub mod event;
pub mod evtx;
pub mod hunt;
pub mod live;
pub mod modifier;
pub mod monitor;
pub mod nxlog;
pub mod pattern;
pub mod pipeline;
pub mod prefilter;
pub mod route;
pub mod rule;
pub mod ruleset;

pub use compiled::{CompileOptions, CompiledRule};
pub use correlation::{CorrelationHit, CorrelationRule, Correlator};
pub use error::{CompileError, EvtxError, RuleFileError};
pub use pipeline::Pipeline;
pub use ruleset::RuleSet;
