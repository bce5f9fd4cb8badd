//! A compiled, immutable ruleset: engine settings and the rules of each phase in order.

use std::sync::Arc;

use crate::rule::{EngineMode, Rule};

/// `SecRequestBodyLimitAction` / `SecResponseBodyLimitAction`: what a body over its limit
/// does. Unset, the part within the limit is inspected, as with `ProcessPartial`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LimitAction {
    #[default]
    Unset,
    /// 403 when the engine is on.
    Reject,
    ProcessPartial,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub engine: EngineMode,
    pub request_body_access: bool,
    pub response_body_access: bool,
    pub request_body_limit: usize,
    pub request_body_no_files_limit: usize,
    pub response_body_limit: usize,
    pub request_body_limit_action: LimitAction,
    pub response_body_limit_action: LimitAction,
    /// `SecResponseBodyMimeType`: response bodies of these types are inspected.
    pub response_mime_types: Vec<String>,
    /// `SecArgumentsLimit`: arguments past it are not added (a JSON body then fails to parse).
    pub args_limit: Option<usize>,
    /// `SecUploadFileLimit`: more files in one multipart body set MULTIPART_FILE_LIMIT_EXCEEDED.
    pub upload_file_limit: usize,
    /// `SecRequestBodyJsonDepthLimit`: deeper JSON bodies are a body error.
    pub json_depth_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            // libmodsecurity without SecRuleEngine evaluates rules but never interrupts.
            engine: EngineMode::DetectionOnly,
            // libmodsecurity processes the request body unless `SecRequestBodyAccess Off`.
            request_body_access: true,
            response_body_access: false,
            request_body_limit: 13_107_200,
            request_body_no_files_limit: 1_048_576,
            response_body_limit: 524_288,
            request_body_limit_action: LimitAction::Unset,
            response_body_limit_action: LimitAction::Unset,
            response_mime_types: vec!["text/plain".into(), "text/html".into()],
            args_limit: None,
            upload_file_limit: 0,
            json_depth_limit: 10_000,
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
