//! The one error type of the language: where the query went wrong and why, in words an analyst
//! understands without knowing the grammar's internals.

use thiserror::Error;

/// A query that could not be parsed.
///
/// `position` is a character index (not a byte index) into the query, so a UI can put a caret
/// under the offending character of Japanese text too. `column()` is the same, counted from 1,
/// which is how the messages refer to places.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("column {}: {message}", .position + 1)]
pub struct ParseError {
    /// Character index (0-based) where the problem was found.
    pub position: usize,
    /// What was wrong, e.g. "unclosed quote starting at column 7".
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(position: usize, message: impl Into<String>) -> Self {
        Self { position, message: message.into() }
    }

    /// The 1-based column of `position`.
    pub fn column(&self) -> usize {
        self.position + 1
    }

    /// The query on one line and a caret under the offending column, for terminals and logs.
    pub fn render(&self, query: &str) -> String {
        let line: String = query.chars().map(|c| if c == '\n' || c == '\t' { ' ' } else { c }).collect();
        // East Asian wide characters take two terminal cells; count them so the caret lines up.
        let pad: usize = line.chars().take(self.position).map(|c| if crate::text::is_wide(c) { 2 } else { 1 }).sum();
        format!("{line}\n{}^ {self}", " ".repeat(pad))
    }
}
