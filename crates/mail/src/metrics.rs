//! Prometheus counters of the relay (`mamori_mail_*`).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

type Labels = Vec<(&'static str, &'static str)>;

#[derive(Clone, Default)]
pub struct MailMetrics {
    /// SMTP replies refused by reason (`relay_denied`, `bad_command`, `smuggling`, ...).
    pub refused: Family<Labels, Counter>,
    pub accepted: Counter,
    /// Messages put into the quarantine instead of the queue.
    pub quarantined: Counter,
    /// Delivery attempts by result (`delivered`, `deferred`, `failed`).
    pub deliveries: Family<Labels, Counter>,
    /// DMARC aggregate reports received for tenants, by outcome (`read`, `invalid`).
    pub dmarc_reports: Family<Labels, Counter>,
}

impl MailMetrics {
    /// Counters registered in the process registry (once per process).
    pub fn registered() -> MailMetrics {
        static METRICS: std::sync::OnceLock<MailMetrics> = std::sync::OnceLock::new();
        METRICS
            .get_or_init(|| {
                let m = MailMetrics::default();
                mamori_core::metrics::register("mail_refused", "SMTP commands refused, by reason", m.refused.clone());
                mamori_core::metrics::register("mail_accepted", "Messages accepted into the queue", m.accepted.clone());
                mamori_core::metrics::register(
                    "mail_quarantined",
                    "Messages put into the quarantine",
                    m.quarantined.clone(),
                );
                mamori_core::metrics::register(
                    "mail_deliveries",
                    "Delivery attempts per recipient, by result",
                    m.deliveries.clone(),
                );
                mamori_core::metrics::register(
                    "mail_dmarc_reports",
                    "DMARC aggregate reports received for tenants, by outcome",
                    m.dmarc_reports.clone(),
                );
                m
            })
            .clone()
    }

    pub fn refuse(&self, reason: &'static str) {
        self.refused.get_or_create(&vec![("reason", reason)]).inc();
    }

    pub fn dmarc_report(&self, outcome: &'static str) {
        self.dmarc_reports.get_or_create(&vec![("outcome", outcome)]).inc();
    }

    pub fn delivery(&self, result: &'static str) {
        self.deliveries.get_or_create(&vec![("result", result)]).inc();
    }
}
