//! Prometheus metrics of the API, registered once per process in the shared registry.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

pub struct ApiMetrics {
    /// Ingestion requests refused with push-back or as too large, by reason. Senders retry
    /// on 503/507; a steady count here means a disk or a shipper needs attention.
    pub ingest_refused: Family<ReasonLabel, Counter>,
    /// Events accepted through `POST /api/v1/ingest`.
    pub ingest_events: Counter,
}

pub fn metrics() -> &'static ApiMetrics {
    static M: OnceLock<ApiMetrics> = OnceLock::new();
    M.get_or_init(|| {
        let m = ApiMetrics { ingest_refused: Family::default(), ingest_events: Counter::default() };
        mamori_core::metrics::register(
            "api_ingest_refused",
            "Ingestion requests refused by the API (storage_full, storage_error, closed, too_large)",
            m.ingest_refused.clone(),
        );
        mamori_core::metrics::register(
            "api_ingest_events",
            "Events durably accepted through POST /api/v1/ingest",
            m.ingest_events.clone(),
        );
        m
    })
}

/// Counts one refused ingestion request.
pub fn refused(reason: &'static str) {
    metrics().ingest_refused.get_or_create(&ReasonLabel { reason }).inc();
}
