//! mamori's own SPF evaluator (RFC 7208): record parsing, macro expansion and check_host().
//! DKIM and DMARC stay with mail-auth; see `crate::auth`.

pub mod dns;
mod eval;
pub mod macros;
pub mod record;

use std::net::IpAddr;

pub use dns::{HickoryDns, SpfDns};

/// The results of check_host() (§2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError,
    PermError,
}

impl SpfResult {
    /// The RFC 8601 name.
    pub fn name(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfVerdict {
    pub result: SpfResult,
    /// The explanation (§6.2), for `fail` only, when the domain gives one.
    pub explanation: Option<String>,
    /// The domain checked: the MAIL FROM domain, or the HELO name.
    pub domain: String,
}

/// What is checked: the client, the HELO name, the MAIL FROM address (empty for `<>`, then
/// the HELO identity is checked as postmaster@HELO, §2.4) and the receiver's name (`%{r}`).
pub struct SpfRequest<'a> {
    pub ip: IpAddr,
    pub helo: &'a str,
    pub mail_from: &'a str,
    pub receiver: &'a str,
}

/// check_host() for the MAIL FROM identity, or the HELO identity when MAIL FROM is empty.
pub async fn check<D: SpfDns>(dns: &D, request: &SpfRequest<'_>) -> SpfVerdict {
    eval::check(dns, request).await
}
