//! mamori's scanning engine as the body scanner (feature `engine`): what `mamori up` plugs in,
//! and what the tests scan with. Detections become alerts like those of ICAP.

use std::sync::Arc;

use mamori_scan::{Engine, Verdict};

use crate::scan_body::{BodyScanner, ScanOutcome, ScanVerdict};

pub struct EngineScanner(pub Arc<Engine>);

impl BodyScanner for EngineScanner {
    fn scan(&self, name: &str, data: &[u8], tenant: &str) -> ScanOutcome {
        let report = self.0.scan_bytes(name, data, tenant);
        let alerts = mamori_scan::events::detection_events(&report, "proxy", Some(tenant), jiff::Timestamp::now());
        let verdict = match report.verdict {
            Verdict::Clean => ScanVerdict::Clean,
            Verdict::Infected { names } => ScanVerdict::Infected(names),
            Verdict::Suspicious { reasons } => ScanVerdict::Suspicious(reasons),
            Verdict::Error { messages } => ScanVerdict::Error(messages.join("; ")),
        };
        ScanOutcome { verdict, alerts }
    }
}
