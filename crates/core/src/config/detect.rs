//! `[detect]`: live evaluation of Sigma rules on every event the log store accepts. Service
//! settings, not part of the versioned configuration; read at start.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectConfig {
    /// Evaluate ingested events (when `rules` names any).
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Sigma rule files or directories (searched recursively), relative to the config file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PathBuf>,
    /// A THOR-format log source map replacing the built-in Windows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_pipeline: Option<PathBuf>,
    /// Batches of events waiting for evaluation at most; beyond it batches are left
    /// unevaluated, counted and logged (ingestion never waits for detection).
    #[serde(default = "default_queue_batches")]
    pub queue_batches: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            enabled: default_enabled(),
            rules: Vec::new(),
            windows_pipeline: None,
            queue_batches: default_queue_batches(),
        }
    }
}

fn default_enabled() -> bool {
    true
}

fn default_queue_batches() -> usize {
    4096
}
