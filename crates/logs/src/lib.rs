//! The log store of mamori: write-ahead log → day-partitioned hot index → hash-chained
//! compressed archive, with one search over all of them.
//!
//! Events enter through [`LogStore::sink`]: they are appended to the write-ahead log ([`wal`])
//! and acknowledged once fsynced. The [`indexer`] reads the log back into column blocks, one
//! partition per day ([`hot`]). Closed days are archived per tenant into compressed, hash-chained segments
//! ([`cold`]), and retention removes hot data (once archived) and expired archive segments
//! ([`maintenance`]). [`search`] runs one query over both tiers, scoped to the caller's tenants.

pub mod cold;
pub mod error;
pub mod hot;
pub mod indexer;
pub mod maintenance;
pub mod retention;
pub mod search;
pub mod sink;
pub mod store;
pub mod tap;
pub mod wal;

pub use error::LogError;
pub use retention::RetentionPolicy;
pub use search::{SearchRequest, SearchResponse, TenantScope};
pub use store::{LogReader, LogStats, LogStore, LogStoreConfig, is_locked};
