//! The detection engine of mamori.
//!
//! - Sigma rules (specification v2) are read ([`rule`]), compiled once per log source target
//!   ([`compiled`], [`detection`], [`condition`], [`modifier`], [`pattern`]) and indexed by log
//!   source ([`ruleset`]), so each event is checked only against rules that can match it.
//! - [`pipeline`] maps Sigma log sources to Windows channels and event IDs or mamori datasets,
//!   and Sigma field names to `winlog.*` and ECS fields.
//! - [`correlation`]: event_count, value_count, temporal and temporal_ordered rules.
//! - [`evtx`] turns Windows event log files into ECS `winlog.*` events.
//! - [`alert`] writes a match as an `event.kind: alert` event.
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
pub mod pattern;
pub mod pipeline;
pub mod rule;
pub mod ruleset;

pub use compiled::{CompileOptions, CompiledRule};
pub use correlation::{CorrelationHit, CorrelationRule, Correlator};
pub use error::{CompileError, EvtxError, RuleFileError};
pub use pipeline::Pipeline;
pub use ruleset::RuleSet;
