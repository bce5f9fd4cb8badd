//! Console login sessions. Only a hash of the session secret (the cookie value) is stored, so a
//! leaked database does not let anyone take over a session.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One login session of a user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Hex SHA-256 of the session secret (see [`crate::secret::hash_secret`]).
    pub hash: String,
    pub user_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub source_ip: Option<String>,
    /// Token the console echoes in a header on state-changing requests (double-submit CSRF guard).
    pub csrf_token: String,
    /// The password was right but the second factor (a TOTP code, or enrolling one) is still
    /// missing: such a session opens only the two-factor pages, nothing else.
    #[serde(default)]
    pub mfa_pending: bool,
}

impl Session {
    /// Whether the session has expired at `now`. The store returns expired sessions too (it has
    /// no clock of its own); the authentication layer must call this before trusting one.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at <= now
    }
}

// The CSRF token is redacted so that sessions can be logged without leaking it.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("hash", &self.hash)
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("source_ip", &self.source_ip)
            .field("csrf_token", &"<redacted>")
            .field("mfa_pending", &self.mfa_pending)
            .finish()
    }
}
