//! API tokens for scripts and log shippers. Only a hash of the token is stored: the plain token
//! is shown once at creation and cannot be recovered from the database.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TokenKind {
    /// Acts as that user, with the user's role and tenants.
    User { user_id: String },
    /// May only post events. `Some(tenant)` stamps every event with that tenant whatever the
    /// sender claims, so a municipality's shipper cannot write into another tenant.
    Ingest { tenant: Option<String> },
}

/// A stored API token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub id: String,
    pub name: String,
    pub kind: TokenKind,
    /// Hex SHA-256 of the token (see [`crate::secret::hash_secret`]).
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked: bool,
}

impl Token {
    /// Whether the token may authenticate a request at `now`: not revoked and not expired. The
    /// store returns unusable tokens too so the caller can say why a request was refused.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        !self.revoked && self.expires_at.is_none_or(|exp| now < exp)
    }
}

/// What the caller supplies to create a token; the store assigns id and creation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub name: String,
    pub kind: TokenKind,
    pub token_hash: String,
    pub expires_at: Option<Timestamp>,
}
