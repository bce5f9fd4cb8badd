//! A compiled, immutable ruleset: engine settings and the rules of each phase in order.

use std::sync::Arc;

use crate::rule::{EngineMode, Rule};

#[derive(Debug, Clone)]
pub struct Settings {
    pub engine: EngineMode,
    pub request_body_access: bool,
    pub response_body_access: bool,
    pub request_body_limit: usize,
    pub request_body_no_files_limit: usize,
    pub response_body_limit: usize,
    /// `SecResponseBodyMimeType`: response bodies of these types are inspected.
    pub response_mime_types: Vec<String>,
    pub args_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            engine: EngineMode::Off,
            request_body_access: false,
            response_body_access: false,
            request_body_limit: 13_107_200,
            request_body_no_files_limit: 131_072,
            response_body_limit: 524_288,
            response_mime_types: vec!["text/plain".into(), "text/html".into()],
            args_limit: 1000,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Item {
    Rule(Arc<Rule>),
    Marker(Arc<str>),
}

#[derive(Debug, Default)]
pub struct Ruleset {
    pub settings: Settings,
    /// Phases 1-5 at index 0-4; markers appear in every phase.
    pub phases: [Vec<Item>; 5],
}

impl Ruleset {
    pub fn rule_count(&self) -> usize {
        self.phases.iter().flatten().filter(|i| matches!(i, Item::Rule(_))).count()
    }
}
