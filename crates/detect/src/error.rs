//! Errors of loading and compiling rules, and of reading EVTX files.

use std::path::PathBuf;

/// Why a rule document could not be turned into a matcher.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    #[error("YAML: {0}")]
    Yaml(String),
    #[error("the rule has no {0}")]
    Missing(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("unknown modifier '{0}'")]
    UnknownModifier(String),
    #[error("modifier '{modifier}': {reason}")]
    Modifier { modifier: String, reason: String },
    #[error("pattern: {0}")]
    Pattern(String),
    #[error("condition: {0}")]
    Condition(String),
    #[error("placeholder %{0}% has no value (the expand modifier needs one from the pipeline)")]
    Placeholder(String),
}

/// A rule file that failed, with the reason.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {error}")]
pub struct RuleFileError {
    pub path: PathBuf,
    pub error: CompileError,
}

/// Errors of reading EVTX files. A damaged chunk or record is not fatal: it is reported through
/// [`crate::evtx::EvtxIssue`] and the reader goes on with the next one.
#[derive(Debug, thiserror::Error)]
pub enum EvtxError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: not an EVTX file or its header is damaged: {reason}")]
    Header { path: PathBuf, reason: String },
}
