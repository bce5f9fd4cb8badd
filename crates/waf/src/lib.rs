//! mamori's WAF engine: SecLang rules (as written for the OWASP Core Rule Set and ModSecurity)
//! compiled once into a [`Ruleset`], evaluated per HTTP exchange by a [`Transaction`].

mod body;
mod collect;
pub mod engine;
pub mod libinjection;
pub mod macros;
pub mod multipart;
pub mod operators;
pub mod request;
pub mod request_check;
pub mod rule;
pub mod ruleset;
pub mod seclang;
pub mod transforms;
pub mod variables;

pub use engine::{Interruption, MatchRecord, Transaction};
pub use request::{Request, Response};
pub use rule::EngineMode;
pub use ruleset::Ruleset;
pub use seclang::{Loader, ParseError};

/// Loads a rule file (and what it includes) into a ruleset.
pub fn load(path: &std::path::Path) -> Result<Ruleset, ParseError> {
    let mut l = Loader::new();
    l.load_file(path)?;
    l.build()
}
