//! `syslog::parse` must turn any bytes into an event without panicking, keep the line in
//! `event.original`, respect the size limit and always serialize.
#![no_main]

use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use mamori_collect::syslog::{self, ParseContext};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the size limit, so truncation (and cuts inside UTF-8 and Shift_JIS
    // characters) is exercised as well as the default.
    let (limit, line) = match data.split_first() {
        Some((&b, rest)) if b & 1 == 1 => (usize::from(b >> 1), rest),
        Some((_, rest)) => (64 * 1024, rest),
        None => (64 * 1024, data),
    };
    let received = Timestamp::from_second(1_735_657_205).unwrap_or(Timestamp::UNIX_EPOCH);
    let ctx = ParseContext::new(received, syslog::default_timezone(), limit)
        .with_sender("192.0.2.1:514".parse().unwrap());
    let event = syslog::parse(line, &ctx);
    let original = event.event.original.as_deref().unwrap_or_default();
    // Decoding can grow a byte to at most three (U+FFFD, half-width katakana).
    assert!(original.len() <= 3 * limit, "original exceeds 3x the limit");
    assert!(event.message.is_some());
    let json = event.to_json();
    assert!(json.starts_with('{'));
});
