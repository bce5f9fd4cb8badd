//! What the relay does with a message after looking inside it: the scanning engine's findings
//! and the DMARC result, weighed against the tenant's policy, give one decision — deliver, tag,
//! quarantine or reject.

pub mod decide;
pub mod inspect;
pub mod tag;

pub use decide::{Decision, Findings, decide};
pub use inspect::{Inspection, inspect};
