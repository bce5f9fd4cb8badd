//! DMARC (RFC 7489) as the relay evaluates it for inbound mail: the policy record, the
//! Organizational Domain by the Public Suffix List, alignment and the `pct` sample. DKIM and
//! SPF results come from `crate::auth`; acting on the verdict per tenant is `crate::content`'s.

pub mod aggregate;
mod evaluate;
mod org_domain;
pub mod record;
#[cfg(test)]
mod tests;

pub use evaluate::{DkimStatus, DmarcResult, DmarcVerdict, Identifiers, evaluate, evaluate_message};
pub use org_domain::PublicSuffixList;
pub use record::{Alignment, DmarcRecord, Policy};
