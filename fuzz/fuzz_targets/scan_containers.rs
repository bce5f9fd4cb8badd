//! The container walker takes any bytes: it never panics, stays within its limits, and says
//! what was wrong through findings instead.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_scan::{Limits, SignatureSet, scan_with};
use std::sync::LazyLock;

static SET: LazyLock<SignatureSet> = LazyLock::new(SignatureSet::builtin);

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_depth: 6, max_object_size: 4 << 20, max_expanded_size: 16 << 20, max_ratio: 1000, max_files: 200 };
    // The first byte picks a name, so that name checks run on varied extensions too.
    let names = ["a.zip", "b.pdf.exe", "c.eml", "d.doc", "e\u{202E}fdp.exe", "f.tar.gz", "g"];
    let name = names[data.first().copied().unwrap_or(0) as usize % names.len()];
    let report = scan_with(&SET, &limits, name, data, "");
    assert!(report.bytes_scanned <= data.len() as u64 + limits.max_expanded_size);
    assert!(report.objects_scanned <= limits.max_files + 1);
});
