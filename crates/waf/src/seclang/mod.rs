//! SecLang: lexing, action lists, and the directives that build a [`crate::Ruleset`].

pub mod actions;
mod include;
pub mod lexer;
mod parser;

pub use parser::Loader;

/// A rule file error: where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct ParseError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl ParseError {
    pub fn at(file: &str, line: usize, reason: impl Into<String>) -> ParseError {
        ParseError { file: file.to_string(), line, reason: reason.into() }
    }
}
