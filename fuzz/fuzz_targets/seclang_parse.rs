//! The SecLang parser: any rule text loads or is refused with a file:line error, never a
//! panic; what loads builds a ruleset.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lower = text.to_ascii_lowercase();
    // No file access: `Include /dev/zero` or `@pmFromFile` would fuzz the file system.
    if lower.contains("include") || lower.contains("fromfile") || lower.contains("@pmf") {
        return;
    }
    let mut loader = mamori_waf::Loader::new();
    match loader.load_str(text, "fuzz.conf", std::path::Path::new("/nonexistent")) {
        Ok(()) => {
            let _ = loader.build();
        }
        Err(e) => assert_eq!(e.file, "fuzz.conf"),
    }
});
