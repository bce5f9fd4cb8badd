//! Counters of everything the collectors see, registered once per process in mamori's registry
//! (`mamori_collect_*` at `/metrics`). Operators watch these for parse failures, truncation,
//! unassigned senders and, above all, UDP drops, the only place where data can be lost.

use std::sync::LazyLock;

use mamori_core::Event;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use crate::tags;

/// How events reached mamori; the `transport` label of the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    /// `POST /api/v1/ingest`.
    Http,
    /// `mamori logs import`.
    Import,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Http => "http",
            Transport::Import => "import",
        }
    }

    fn label(self) -> Label {
        [("transport", self.as_str())]
    }
}

type Label = [(&'static str, &'static str); 1];

/// The collectors' metrics.
pub struct Metrics {
    pub received_events: Family<Label, Counter>,
    pub received_bytes: Family<Label, Counter>,
    pub parse_failures: Family<Label, Counter>,
    pub truncated: Family<Label, Counter>,
    pub unassigned: Family<Label, Counter>,
    pub submit_retries: Family<Label, Counter>,
    pub open_connections: Family<Label, Gauge>,
    /// Events read but never made durable because the pipeline shut down first.
    pub lost_at_shutdown: Family<Label, Counter>,
    pub udp_dropped: Counter,
    pub udp_dropped_bytes: Counter,
    pub unassigned_alarms: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let m = Metrics {
        received_events: Family::default(),
        received_bytes: Family::default(),
        parse_failures: Family::default(),
        truncated: Family::default(),
        unassigned: Family::default(),
        submit_retries: Family::default(),
        open_connections: Family::default(),
        lost_at_shutdown: Family::default(),
        udp_dropped: Counter::default(),
        udp_dropped_bytes: Counter::default(),
        unassigned_alarms: Counter::default(),
    };
    use mamori_core::metrics::register;
    register("collect_received_events", "Events received, by transport", m.received_events.clone());
    register("collect_received_bytes", "Bytes received, by transport", m.received_bytes.clone());
    register("collect_parse_failures", "Lines stored raw because they could not be parsed", m.parse_failures.clone());
    register("collect_truncated", "Messages cut to the size limit", m.truncated.clone());
    register("collect_unassigned", "Events from senders not attributed to any tenant", m.unassigned.clone());
    register(
        "collect_submit_retries",
        "Batches retried because the log store refused them (storage full or failing)",
        m.submit_retries.clone(),
    );
    register("collect_open_connections", "Open TCP and TLS syslog connections", m.open_connections.clone());
    register(
        "collect_lost_at_shutdown",
        "Events read but not stored because mamori shut down while the store refused them",
        m.lost_at_shutdown.clone(),
    );
    register(
        "collect_udp_dropped",
        "UDP datagrams dropped because the queue to the log store was full",
        m.udp_dropped.clone(),
    );
    register(
        "collect_udp_dropped_bytes",
        "Bytes of UDP datagrams dropped because the queue to the log store was full",
        m.udp_dropped_bytes.clone(),
    );
    register(
        "collect_unassigned_alarms",
        "Alarms raised for senders not attributed to any tenant",
        m.unassigned_alarms.clone(),
    );
    m
});

/// What happened to the records of a batch, for [`Metrics::count_records`].
#[derive(Debug, Default, Clone, Copy)]
pub struct RecordCounts {
    pub events: u64,
    pub parse_failures: u64,
    pub truncated: u64,
    pub unassigned: u64,
}

impl RecordCounts {
    pub fn add(&mut self, flags: crate::syslog::Flags, unassigned: bool) {
        self.events += 1;
        self.parse_failures += u64::from(flags.parse_failure);
        self.truncated += u64::from(flags.truncated);
        self.unassigned += u64::from(unassigned);
    }
}

/// The metrics, registered on first use.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    /// Counts one event by what happened to it.
    pub fn count_event(&self, transport: Transport, event: &Event) {
        let label = transport.label();
        self.received_events.get_or_create(&label).inc();
        let has = |tag: &str| event.tags.iter().any(|t| t == tag);
        if has(tags::PARSE_FAILURE) {
            self.parse_failures.get_or_create(&label).inc();
        }
        if has(tags::TRUNCATED) {
            self.truncated.get_or_create(&label).inc();
        }
        if has(tags::UNASSIGNED_SENDER) {
            self.unassigned.get_or_create(&label).inc();
        }
    }

    /// Counts the records of a batch written without building events.
    pub fn count_records(&self, transport: Transport, counts: &RecordCounts) {
        let label = transport.label();
        let add = |family: &Family<Label, Counter>, n: u64| {
            if n > 0 {
                family.get_or_create(&label).inc_by(n);
            }
        };
        add(&self.received_events, counts.events);
        add(&self.parse_failures, counts.parse_failures);
        add(&self.truncated, counts.truncated);
        add(&self.unassigned, counts.unassigned);
    }

    pub fn add_bytes(&self, transport: Transport, bytes: usize) {
        self.received_bytes.get_or_create(&transport.label()).inc_by(bytes as u64);
    }

    pub fn retry(&self, transport: Transport) {
        self.submit_retries.get_or_create(&transport.label()).inc();
    }

    pub fn lost(&self, transport: Transport, events: usize) {
        self.lost_at_shutdown.get_or_create(&transport.label()).inc_by(events as u64);
    }

    pub fn connections(&self, transport: Transport) -> Gauge {
        self.open_connections.get_or_create(&transport.label()).clone()
    }
}
