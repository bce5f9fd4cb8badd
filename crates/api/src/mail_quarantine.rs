//! What the API needs of the mail relay's quarantine. The binary implements it over the relay's
//! files; the API only decides who may do what and scopes every call to the caller's tenants.

use serde_json::Value;

/// The tenants a call may touch: `None` for all.
pub type Tenants<'a> = Option<&'a [String]>;

/// A quarantine the API can list and act on. Blocking: handlers call it on a blocking thread.
/// `Ok(None)` means "no such message in these tenants" (the same answer whether it exists for
/// another tenant or not, so that the answer reveals nothing).
pub trait QuarantineAccess: Send + Sync + 'static {
    /// Records of the visible messages, oldest first.
    fn list(&self, tenants: Tenants<'_>) -> Result<Vec<Value>, String>;
    /// One record and the message's header section.
    fn get(&self, id: &str, tenants: Tenants<'_>) -> Result<Option<(Value, String)>, String>;
    /// Queues the message for its recipients; audited with `actor` and `reason`.
    fn release(&self, id: &str, tenants: Tenants<'_>, actor: &str, reason: &str) -> Result<Option<Value>, String>;
    /// Deletes the message; audited.
    fn delete(&self, id: &str, tenants: Tenants<'_>, actor: &str, reason: &str) -> Result<Option<Value>, String>;
}
