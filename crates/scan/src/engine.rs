//! The entry point for callers: scan bytes, a reader or a file with the current signatures.

use crate::limits::{Limits, ReadCap};
use crate::signatures::SignatureSet;
use crate::store::SignatureStore;
use crate::verdict::{Finding, ScanReport, Verdict};
use crate::walk::Walk;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

pub struct Engine {
    pub store: Arc<SignatureStore>,
    pub limits: Limits,
    /// A second engine whose findings are merged, e.g. a running clamd.
    pub clamd: Option<crate::clamd::Clamd>,
}

impl Engine {
    pub fn new(store: Arc<SignatureStore>, limits: Limits) -> Engine {
        Engine { store, limits, clamd: None }
    }

    /// Scans one in-memory object named `name` (a file name or a URL path), owned by
    /// `owner` (a tenant or user, for the YARA external of that name).
    pub fn scan_bytes(&self, name: &str, data: &[u8], owner: &str) -> ScanReport {
        let set = self.store.snapshot();
        let mut report = scan_with(&set, &self.limits, name, data, owner);
        if let Some(clamd) = &self.clamd {
            match clamd.scan(data) {
                Ok(Some(found)) => report.findings.push(Finding::infected(&[name.to_string()], found, "clamd")),
                Ok(None) => {}
                Err(e) => report.findings.push(Finding::error(&[name.to_string()], format!("clamd: {e}"))),
            }
            report.verdict = Verdict::from_findings(&report.findings);
        }
        report
    }

    /// Reads at most the object size limit from `reader`; a longer stream is scanned up to
    /// the limit and marked suspicious, since its end was not seen.
    pub fn scan_reader(&self, name: &str, reader: impl Read, owner: &str) -> ScanReport {
        let cap = ReadCap { max_bytes: self.limits.max_object_size, max_ratio: u64::MAX };
        let mut limited = reader.take(self.limits.max_object_size + 1);
        let mut data = Vec::new();
        if let Err(e) = limited.read_to_end(&mut data) {
            return error_report(name, format!("cannot read: {e}"), self.store.snapshot().version);
        }
        let truncated = data.len() as u64 > cap.max_bytes;
        data.truncate(cap.max_bytes as usize);
        let mut report = self.scan_bytes(name, &data, owner);
        if truncated {
            let reason = format!("limit exceeded: larger than {} bytes, only the start was scanned", cap.max_bytes);
            report.findings.push(Finding::suspicious(&[name.to_string()], reason));
            report.verdict = Verdict::from_findings(&report.findings);
        }
        report
    }

    pub fn scan_file(&self, path: &Path, owner: &str) -> ScanReport {
        let name = path.display().to_string();
        match std::fs::File::open(path) {
            Ok(file) => self.scan_reader(&name, file, owner),
            Err(e) => error_report(&name, format!("cannot open: {e}"), self.store.snapshot().version),
        }
    }
}

/// Scans `data` with one given signature set.
pub fn scan_with(set: &SignatureSet, limits: &Limits, name: &str, data: &[u8], owner: &str) -> ScanReport {
    let mut walk = Walk::new(set, limits, owner);
    let mut path = vec![name.to_string()];
    let (file_type, sha256) = walk.object(&mut path, Some(name), data, 0);
    ScanReport {
        name: name.to_string(),
        verdict: Verdict::from_findings(&walk.findings),
        findings: walk.findings,
        file_type: file_type.name().to_string(),
        size: data.len() as u64,
        sha256: hex::encode(sha256),
        objects_scanned: walk.objects,
        bytes_scanned: walk.bytes,
        signatures_version: set.version,
    }
}

fn error_report(name: &str, message: String, version: u64) -> ScanReport {
    let findings = vec![Finding::error(&[name.to_string()], message)];
    ScanReport {
        name: name.to_string(),
        verdict: Verdict::from_findings(&findings),
        findings,
        file_type: "unknown".into(),
        size: 0,
        sha256: String::new(),
        objects_scanned: 0,
        bytes_scanned: 0,
        signatures_version: version,
    }
}
