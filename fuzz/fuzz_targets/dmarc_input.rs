//! What DMARC reads from strangers: policy records from anyone's DNS (RFC 7489 §6.3), domains
//! from From: fields for the Public Suffix List, and aggregate reports mailed to a tenant
//! (XML, gzip, zip inside MIME). None of them may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_mail::dmarc::{PublicSuffixList, aggregate, record};

fuzz_target!(|data: &[u8]| {
    let _ = record::parse(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PublicSuffixList::embedded().organizational_domain(text);
    }
    if let Ok(report) = aggregate::parse_file(data) {
        let _ = aggregate::events(&report, Some("t"));
    }
    if let Ok(report) = aggregate::parse_mail(data) {
        let _ = aggregate::events(&report, Some("t"));
    }
});
