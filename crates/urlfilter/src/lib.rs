//! The URL filter: which lists and categories a request's URL falls in, and what a tenant's
//! policy decides about it.
//!
//! Lists come from operators (block and allow lists of domains, exact URLs, URL prefixes,
//! regular expressions, addresses and networks), from category directories in the
//! squidGuard/UT1 format, and from threat-intelligence feeds (plain, hosts-file or CSV). All
//! of them are compiled into one [`Matcher`] per configuration change, shared by every tenant;
//! a tenant's [`Policy`] only says what each list means to it (block, allow, read-only), so a
//! million entries are held once however many municipalities there are.
//!
//! Matching follows squidGuard where its users would expect it (case-insensitive, percent-
//! decoded, `www.` and port ignored, domains cover their subdomains, URL entries are prefixes),
//! so that category lists written for squidGuard keep their meaning.

mod domain_table;
mod entry;
mod matcher;
mod normalize;
mod policy;
mod sources;

pub use entry::{Entry, EntryError};
pub use matcher::{BuildError, ListId, Matcher, MatcherBuilder, Matches};
pub use normalize::{Target, TargetError};
pub use policy::{Action, Decision, Method, Policy, Reason, Verdict};
pub use sources::{Format, ListFile, LoadReport, load_category, load_category_dir, load_list_file, parse_list};
