//! The log store as the API sees it. A trait rather than `mamori_logs::LogStore` itself, so a
//! deployment can put another engine behind the API and tests can simulate a failing disk.

use std::sync::Arc;

use mamori_core::EventSink;
use mamori_logs::{LogError, LogStore, SearchRequest, SearchResponse};
use serde_json::Value;

/// Search, ingestion and statistics of the log store.
pub trait LogBackend: Send + Sync + 'static {
    /// Where ingested events go; the future of `submit` resolves once they are durable.
    fn sink(&self) -> Arc<dyn EventSink>;
    /// Runs a search that is already scoped to the caller's tenants. Blocking: the API calls
    /// it on a blocking thread.
    fn search(&self, req: &SearchRequest) -> Result<SearchResponse, LogError>;
    /// Write-ahead log and indexer figures for `GET /api/v1/status`.
    fn stats(&self) -> Value;
}

impl LogBackend for LogStore {
    fn sink(&self) -> Arc<dyn EventSink> {
        LogStore::sink(self)
    }

    fn search(&self, req: &SearchRequest) -> Result<SearchResponse, LogError> {
        LogStore::search(self, req)
    }

    fn stats(&self) -> Value {
        serde_json::to_value(LogStore::stats(self)).unwrap_or(Value::Null)
    }
}
