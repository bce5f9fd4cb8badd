//! The search language faces every API client: any text must parse or fail with an error,
//! never panic, and whatever parses must print back to the same query and evaluate safely.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let now = jiff::Timestamp::from_second(1_795_000_000).expect("a valid time");
    if let Ok(q) = mamori_query::parse(text, now) {
        let again = mamori_query::parse(&q.to_string(), now).expect("the canonical form parses");
        assert_eq!(q, again, "display round trip of {text:?}");
        let event = serde_json::json!({"message": text, "source": {"ip": "10.1.2.3"}, "n": 5});
        let _ = mamori_query::matches(&q, &event);
    }
});
