//! Prometheus counters of the DNS service (`mamori_dns_*`).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

type Labels = Vec<(&'static str, &'static str)>;

#[derive(Clone, Default)]
pub struct DnsMetrics {
    /// Queries by transport (`udp`, `tcp`) and kind (`authoritative`, `recursive`).
    pub queries: Family<Labels, Counter>,
    /// Queries not answered normally, by reason (`malformed`, `recursion_refused`,
    /// `transfer_refused`, `truncated`, `servfail`, `dropped`, `tsig`, `tcp_connections`).
    pub rejected: Family<Labels, Counter>,
    /// RPZ hits by action.
    pub rpz_hits: Family<Labels, Counter>,
    /// Policy zones transferred from their primaries, by kind (`AXFR`, `IXFR`).
    pub rpz_transfers: Family<Labels, Counter>,
    /// AAAA answers synthesized by DNS64.
    pub dns64_synthesized: Counter,
}

impl DnsMetrics {
    /// Counters registered in the process registry (once per process).
    pub fn registered() -> DnsMetrics {
        static METRICS: std::sync::OnceLock<DnsMetrics> = std::sync::OnceLock::new();
        METRICS
            .get_or_init(|| {
                let m = DnsMetrics::default();
                mamori_core::metrics::register("dns_queries", "DNS queries, by transport and kind", m.queries.clone());
                mamori_core::metrics::register(
                    "dns_rejected",
                    "DNS queries not answered normally, by reason",
                    m.rejected.clone(),
                );
                mamori_core::metrics::register("dns_rpz_hits", "Response policy hits, by action", m.rpz_hits.clone());
                mamori_core::metrics::register(
                    "dns_rpz_transfers",
                    "Policy zones transferred from their primaries, by kind",
                    m.rpz_transfers.clone(),
                );
                mamori_core::metrics::register(
                    "dns_dns64_synthesized",
                    "AAAA answers synthesized by DNS64",
                    m.dns64_synthesized.clone(),
                );
                m
            })
            .clone()
    }

    pub fn query(&self, transport: &'static str, kind: &'static str) {
        self.queries.get_or_create(&vec![("transport", transport), ("kind", kind)]).inc();
    }

    /// The counter of one transport and kind, to keep and increment without a label lookup.
    pub fn query_counter(&self, transport: &'static str, kind: &'static str) -> Counter {
        self.queries.get_or_create(&vec![("transport", transport), ("kind", kind)]).clone()
    }

    pub fn reject(&self, reason: &'static str) {
        self.rejected.get_or_create(&vec![("reason", reason)]).inc();
    }

    pub fn rejected_count(&self, reason: &'static str) -> u64 {
        self.rejected.get_or_create(&vec![("reason", reason)]).get()
    }

    pub fn policy_transfer(&self, kind: &'static str) {
        self.rpz_transfers.get_or_create(&vec![("kind", kind)]).inc();
    }

    pub fn policy_transfer_count(&self, kind: &'static str) -> u64 {
        self.rpz_transfers.get_or_create(&vec![("kind", kind)]).get()
    }

    pub fn rpz_hit(&self, action: &'static str) {
        self.rpz_hits.get_or_create(&vec![("action", action)]).inc();
    }
}
