//! Log collection for mamori: syslog receivers over UDP, TCP and TLS, the syslog parser, NDJSON
//! ingestion for the HTTP API and file import for the CLI.
//!
//! Everything here follows one rule: bad input never crashes anything and never loses data. A
//! line that cannot be parsed is stored raw with a flag, an oversized one is cut and flagged,
//! and the only place where events can be dropped (UDP, which cannot push back) counts and
//! alarms every drop.
//!
//! Entry points:
//! - [`receiver::CollectContext::new`] with a [`receiver::CollectPolicy`], then
//!   [`receiver::udp::serve`], [`receiver::tcp::serve`] and [`receiver::tls::serve`] (with
//!   [`receiver::tls::load_server_config`] / [`receiver::tls::ensure_self_signed`]);
//! - [`ndjson::parse_ndjson`] for `POST /api/v1/ingest`;
//! - [`import::Importer`] for `mamori logs import`;
//! - [`syslog::parse`] and [`framing::FrameDecoder`] for anything else that reads syslog.

pub mod framing;
pub mod import;
pub mod metrics;
pub mod ndjson;
pub mod receiver;
pub mod syslog;
mod text;

pub use receiver::{CollectContext, CollectPolicy};

/// Tags this crate adds besides those of [`mamori_core::event::tags`].
pub mod tags {
    pub use mamori_core::event::tags::*;

    /// The line was not UTF-8 but decoded as Shift_JIS (Windows-31J).
    pub const DECODED_SHIFT_JIS: &str = "_decoded_shift_jis";
    /// The line was neither UTF-8 nor Shift_JIS; invalid bytes became U+FFFD and the exact
    /// bytes are kept in `mamori.original_base64`.
    pub const INVALID_UTF8: &str = "_invalid_utf8";
}
