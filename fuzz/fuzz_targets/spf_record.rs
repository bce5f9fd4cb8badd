//! SPF records and macro strings from anyone's DNS (RFC 7208): the record parser, the
//! domain-spec and explanation macro parsers, and macro expansion never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_mail::spf::macros::{Context, MacroString, MacroValues};
use mamori_mail::spf::record::Record;

fuzz_target!(|data: &[u8]| {
    let _ = Record::parse(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    for context in [Context::Domain, Context::Explanation] {
        if let Some(spec) = MacroString::parse(text, context) {
            let values = MacroValues {
                sender: "user@example.com",
                local_part: "user",
                sender_domain: "example.com",
                domain: "example.com",
                ip: "2001:db8::1".parse().unwrap(),
                helo: "mx.example.com",
                validated: "unknown",
                receiver: "relay.example.jp",
                timestamp: 0,
            };
            let _ = spec.expand(&values);
        }
    }
});
