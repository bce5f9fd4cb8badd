//! A scan session: one signature snapshot used for many objects, keeping what is costly to
//! build once per object. yara-x's scanner is one WebAssembly instance of the rules (with its
//! own cache of compiled regular expressions); building it for every file cost more than
//! scanning small files. A session belongs to one thread.

use crate::limits::Limits;
use crate::signatures::SignatureSet;
use crate::verdict::{ScanReport, Verdict};
use crate::walk::Walk;

pub struct Session<'s> {
    set: &'s SignatureSet,
    limits: &'s Limits,
    #[cfg(feature = "yara")]
    yara: Option<crate::yara::YaraScanner<'s>>,
}

impl<'s> Session<'s> {
    pub fn new(set: &'s SignatureSet, limits: &'s Limits) -> Self {
        Session {
            set,
            limits,
            #[cfg(feature = "yara")]
            yara: set.yara.as_ref().map(|rules| rules.scanner()),
        }
    }

    /// The version of the signatures this session scans with.
    pub fn signatures_version(&self) -> u64 {
        self.set.version
    }

    /// Scans one in-memory object named `name`, owned by `owner` (the YARA external).
    pub fn scan(&mut self, name: &str, data: &[u8], owner: &str) -> ScanReport {
        let mut walk = Walk::new(self.set, self.limits, owner);
        #[cfg(feature = "yara")]
        {
            walk.yara = self.yara.take();
        }
        let mut path = vec![name.to_string()];
        let (file_type, sha256) = walk.object(&mut path, Some(name), data, 0);
        #[cfg(feature = "yara")]
        {
            self.yara = walk.yara.take();
        }
        ScanReport {
            name: name.to_string(),
            verdict: Verdict::from_findings(&walk.findings),
            findings: walk.findings,
            file_type: file_type.name().to_string(),
            size: data.len() as u64,
            sha256: hex::encode(sha256),
            objects_scanned: walk.objects,
            bytes_scanned: walk.bytes,
            signatures_version: self.set.version,
        }
    }
}
