//! URL normalization and list entries of the URL filter: any request target or list line.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(t) = mamori_urlfilter::Target::parse(s) {
            assert!(t.url_key().starts_with(t.key_host()));
        }
        let _ = mamori_urlfilter::Entry::guess(s);
        let _ = mamori_urlfilter::Entry::regex(s);
    }
});
