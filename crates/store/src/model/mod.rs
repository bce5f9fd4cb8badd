//! The records the control-plane store keeps, independent of the backend that keeps them.

mod audit;
mod revision;
mod session;
mod token;
mod user;

pub use audit::{AuditEntry, AuditFilter, NewAuditEntry};
pub use revision::{NewRevision, REVISION_SOURCES, Revision, RevisionSummary};
pub use session::Session;
pub use token::{NewToken, Token, TokenKind};
pub use user::{NewUser, Role, UnknownRole, User, UserUpdate};
