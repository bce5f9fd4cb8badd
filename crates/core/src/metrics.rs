//! The process-wide Prometheus registry. Each part registers its own metrics here at startup;
//! the API serves the text exposition at `/metrics`.

use std::sync::{Mutex, OnceLock};

use prometheus_client::registry::Registry;

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Registry::with_prefix("mamori")))
}

/// Registers a metric under `mamori_<name>`.
pub fn register(name: &str, help: &str, metric: impl prometheus_client::registry::Metric) {
    registry().lock().unwrap_or_else(|e| e.into_inner()).register(name, help, metric);
}

/// The Prometheus text exposition of every registered metric.
pub fn render() -> String {
    let mut out = String::new();
    let reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    prometheus_client::encoding::text::encode(&mut out, &reg).expect("writing to a String cannot fail");
    out
}
