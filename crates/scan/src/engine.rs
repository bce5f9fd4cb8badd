//! The entry point for callers: scan bytes, a reader or a file with the current signatures.

use crate::limits::{Limits, ReadCap};
use crate::session::Session;
use crate::signatures::SignatureSet;
use crate::store::SignatureStore;
use crate::verdict::{Finding, ScanReport, Verdict};
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
        self.scan_bytes_in(&mut Session::new(&set, &self.limits), name, data, owner)
    }

    /// As [`Engine::scan_bytes`], in a session the caller keeps for many objects (one per
    /// thread, on one snapshot of the signatures).
    pub fn scan_bytes_in(&self, session: &mut Session, name: &str, data: &[u8], owner: &str) -> ScanReport {
        let mut report = session.scan(name, data, owner);
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
        let set = self.store.snapshot();
        self.scan_reader_in(&mut Session::new(&set, &self.limits), name, reader, owner)
    }

    pub fn scan_reader_in(&self, session: &mut Session, name: &str, reader: impl Read, owner: &str) -> ScanReport {
        self.scan_reader_sized(session, name, reader, 0, owner)
    }

    /// As [`Engine::scan_reader_in`], with room for `expected` bytes made at once (a file's
    /// size): growing the buffer by doubling copied large files several times over.
    fn scan_reader_sized(
        &self,
        session: &mut Session,
        name: &str,
        reader: impl Read,
        expected: u64,
        owner: &str,
    ) -> ScanReport {
        let cap = ReadCap { max_bytes: self.limits.max_object_size, max_ratio: u64::MAX };
        let mut limited = reader.take(self.limits.max_object_size + 1);
        // One byte more than expected, so that reading the end needs no second allocation.
        let room = expected.min(self.limits.max_object_size).saturating_add(1);
        let mut data = Vec::with_capacity(usize::try_from(room).unwrap_or(0));
        if let Err(e) = limited.read_to_end(&mut data) {
            return error_report(name, format!("cannot read: {e}"), session.signatures_version());
        }
        let truncated = data.len() as u64 > cap.max_bytes;
        data.truncate(cap.max_bytes as usize);
        let mut report = self.scan_bytes_in(session, name, &data, owner);
        if truncated {
            let reason = format!("limit exceeded: larger than {} bytes, only the start was scanned", cap.max_bytes);
            report.findings.push(Finding::suspicious(&[name.to_string()], reason));
            report.verdict = Verdict::from_findings(&report.findings);
        }
        report
    }

    pub fn scan_file(&self, path: &Path, owner: &str) -> ScanReport {
        let set = self.store.snapshot();
        self.scan_file_in(&mut Session::new(&set, &self.limits), path, owner)
    }

    pub fn scan_file_in(&self, session: &mut Session, path: &Path, owner: &str) -> ScanReport {
        let name = path.display().to_string();
        match std::fs::File::open(path) {
            Ok(file) => {
                let size = file.metadata().map_or(0, |m| m.len());
                self.scan_reader_sized(session, &name, file, size, owner)
            }
            Err(e) => error_report(&name, format!("cannot open: {e}"), session.signatures_version()),
        }
    }
}

/// Scans `data` with one given signature set.
pub fn scan_with(set: &SignatureSet, limits: &Limits, name: &str, data: &[u8], owner: &str) -> ScanReport {
    Session::new(set, limits).scan(name, data, owner)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::FindingKind;

    /// clamav-testfiles that need the newer unpackers: ARJ, NSIS, AutoIt (EA05 and EA06),
    /// WWPack, ASPack, MEW and Upack. Each finding's path shows which unpacker reached the test program.
    #[test]
    fn clamav_test_program_behind_newer_unpackers() {
        let dir = std::path::Path::new("/usr/share/clamav-testfiles");
        assert!(dir.is_dir(), "{} is missing: install the Debian package clamav-testfiles", dir.display());
        let mut db = crate::clamav::ClamDatabase::new();
        db.load_text(
            "hsb",
            "test.hsb",
            "71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495:544:ClamAV-Test-File\n",
        );
        db.finish().unwrap();
        let mut set = SignatureSet::builtin();
        set.clamav = db;
        for (file, step) in [
            ("clam.arj", "clam.exe"),
            ("clam.chm", "clam.exe.txt"),
            ("clam-nsis.exe", "nsis/content.001"),
            ("clam.ea05.exe", "autoit/002"),
            ("clam.ea06.exe", "autoit/002"),
            ("clam-wwpack.exe", "wwpack-unpacked"),
            ("clam-aspack.exe", "aspack-unpacked"),
            ("clam-petite.exe", "petite-unpacked"),
            ("clam-yc.exe", "yc-decrypted"),
            ("clam-pespin.exe", "pespin-unpacked"),
            ("clam-mew.exe", "mew-unpacked"),
            ("clam-upack.exe", "upack-unpacked"),
            ("clam_IScab_ext.exe", "clam.exe"),
            ("clam_IScab_int.exe", "clam.exe"),
            ("clam_ISmsi_ext.exe", "clam.exe409.bmp"),
            ("clam_ISmsi_int.exe", "clam.msi"),
        ] {
            let data = std::fs::read(dir.join(file)).unwrap();
            let report = scan_with(&set, &Limits::default(), file, &data, "");
            let finding = report
                .findings
                .iter()
                .find(|f| matches!(&f.kind, FindingKind::Infected { name, .. } if name == "ClamAV-Test-File"));
            let Some(finding) = finding else { panic!("{file}: not detected: {report:?}") };
            assert!(finding.path.iter().any(|p| p == step), "{file}: {:?}", finding.path);
        }
    }
}
