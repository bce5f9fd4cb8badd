//! No input may panic the parser, and whatever parses must print and parse back to itself and
//! evaluate without panicking. 100,000 random strings built from the grammar's own pieces (so
//! they get deep into the parser) plus random Unicode.

mod common;

use common::generate::{FIELDS, PIECES};
use common::*;
use mamori_query::{CompiledQuery, parse};
use serde_json::json;

const SYNTAX: &[&str] = &[
    " ",
    " ",
    " ",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\"",
    ":",
    "\\",
    "*",
    "?",
    "-",
    "+",
    "!",
    ">",
    "<",
    ">=",
    "<=",
    " AND ",
    " OR ",
    "NOT ",
    " TO ",
    "&&",
    "||",
    "_exists_:",
    "@timestamp:",
    "source.ip:",
    "now-1h",
    "now/d",
    "2026-11-21",
    "2026-11-21T10:00:00Z",
    "10.1.0.0/16",
    "10.1.2.3",
    "2001:db8::/32",
    "::1",
    "/33",
    "[1 TO 2]",
    "{a TO *}",
    "f:(",
    "message:",
    "event.original:",
    "1e3",
    "-0",
    "\u{3000}",
    "ﾞ",
    "\u{0301}",
    "\u{200b}",
    "\0",
];

fn random_query(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(12) {
        match rng.below(10) {
            0..=4 => s.push_str(rng.pick(SYNTAX)),
            5..=6 => s.push_str(rng.pick(PIECES)),
            7 => {
                s.push_str(rng.pick(FIELDS));
                s.push(':');
            }
            8 => s.push(char::from_u32(rng.below(0x80) as u32).unwrap_or('x')),
            _ => s.push(char::from_u32(rng.below(0x3_0000) as u32).unwrap_or('\u{fffd}')),
        }
    }
    s
}

#[test]
fn hundred_thousand_random_strings() {
    let events = [
        json!({}),
        json!({"message": "ログイン失敗 from 10.1.2.3", "source": {"ip": "10.1.2.3"}, "@timestamp": "2026-11-21T10:00:00Z",
               "f": [1, "a", null, {"x": 1}], "error.message": "タイムアウト"}),
    ];
    // Longer or different runs while developing: QUERY_FUZZ_SEED=7 QUERY_FUZZ_ITERATIONS=1000000.
    let env = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let iterations = env("QUERY_FUZZ_ITERATIONS", 100_000);
    let mut rng = Rng::new(env("QUERY_FUZZ_SEED", 42));
    let mut parsed = 0;
    for i in 0..iterations {
        let input = random_query(&mut rng);
        match parse(&input, now()) {
            Ok(q) => {
                parsed += 1;
                let text = q.to_string();
                match parse(&text, now()) {
                    Ok(back) => assert_eq!(back, q, "case {i}: {input:?} printed as {text:?}"),
                    Err(e) => panic!("case {i}: {input:?} printed as {text:?} fails: {e}"),
                }
                let compiled = CompiledQuery::new(&q);
                for event in &events {
                    compiled.matches(event);
                }
                q.fields();
            }
            Err(e) => {
                assert!(e.position <= input.chars().count(), "case {i}: {input:?}: {e:?}");
                assert!(!e.message.is_empty());
                e.render(&input);
            }
        }
    }
    // The generator should reach the parser's success paths often, not only its errors.
    assert!(parsed > iterations / 5, "only {parsed} of {iterations} parsed");
}

#[test]
fn pathological_inputs() {
    for input in [
        "(".repeat(100_000),
        ")".repeat(100_000),
        "\"".repeat(100_001),
        "a:".repeat(10_000),
        "NOT ".repeat(50_000),
        "!".repeat(100_000),
        "a OR ".repeat(20_000) + "a",
        "a ".repeat(50_000),
        "f:[".repeat(10_000),
        "*".repeat(100_000),
        format!("url.full:{}", "*a".repeat(5_000)),
        "\\".repeat(99_999),
    ] {
        let _ = parse(&input, now());
    }
}
