//! The canonical text form: specific outputs, and the property that it parses back to the same
//! query, checked on thousands of random queries.

mod common;

use common::generate::query;
use common::*;
use mamori_query::{CompiledQuery, Query, parse};
use serde_json::json;

fn canon(s: &str) -> String {
    p(s).to_string()
}

#[test]
fn canonical_forms() {
    let cases = [
        ("", "*"),
        ("a b", "a AND b"),
        ("a && b || !c", "a AND b OR NOT c"),
        ("a OR b c", "a OR b AND c"),
        ("(a OR b) c", "(a OR b) AND c"),
        ("(a b) c", "(a AND b) AND c"),
        ("NOT (a b)", "NOT (a AND b)"),
        ("-a", "NOT a"),
        ("+a", "a"),
        ("a OR (b OR c)", "a OR (b OR c)"),
        ("event.action:(denied OR blocked)", "event.action:denied OR event.action:blocked"),
        ("_exists_:user.name", "user.name:*"),
        ("bytes:[10 TO *]", "bytes:>=10"),
        ("bytes:{* TO 10}", "bytes:<10"),
        ("bytes:[1 TO 2}", "bytes:[1 TO 2}"),
        ("bytes:[* TO *]", "bytes:[* TO *]"),
        ("user.name:[a TO \"m\"]", "user.name:[\"a\" TO \"m\"]"),
        ("@timestamp:>now-1h", "@timestamp:>2026-11-21T11:00:00Z"),
        ("@timestamp:2026-11-21", "@timestamp:[2026-11-21T00:00:00Z TO 2026-11-22T00:00:00Z}"),
        (
            "@timestamp:[2026-11-01 TO 2026-11-02T12:00:00+09:00]",
            "@timestamp:[2026-11-01T00:00:00Z TO 2026-11-02T03:00:00Z]",
        ),
        ("source.ip:\"2001:db8::/32\"", "source.ip:2001:db8::/32"),
        ("source.ip:10.1.2.3", "source.ip:10.1.2.3"),
        ("source.ip:[10.0.0.1 TO 10.0.0.9]", "source.ip:[10.0.0.1 TO 10.0.0.9]"),
        (r"url.path:\/admin", "url.path:/admin"),
        (r"url.full:http\://x", "url.full:http://x"),
        (r"a\:b", r"a\:b"),
        (r"\-5", r"\-5"),
        (r"\NOT", r"\NOT"),
        (r"a:\>5", r"a:\>5"),
        (r"f:a\ b\(c\)", r"f:a\ b\(c\)"),
        (r"f:a\*b*", r"f:a\*b*"),
        (r#""say \"hi\"""#, r#""say \"hi\"""#),
        (r#""C:\Windows""#, r#""C:\\Windows""#),
        ("message:\"ログイン 失敗\"", "message:\"ログイン 失敗\""),
    ];
    for (input, expected) in cases {
        assert_eq!(canon(input), expected, "canonical form of {input:?}");
        assert_eq!(p(expected), p(input), "{expected:?} parses back");
    }
}

fn events() -> Vec<serde_json::Value> {
    vec![
        json!({}),
        json!({"message": "ログイン失敗 web01 a:b", "user": {"name": ["taro", "a b"]}, "source.ip": "10.1.2.3",
               "@timestamp": "2026-11-21T10:00:00Z", "destination": {"port": 443}, "labels.部署": "総務課"}),
        json!({"message": null, "error": {"message": 5}, "related": {"ip": ["::1", "bogus", 7]}, "event": {"end": 1_700_000_000_000i64}}),
    ]
}

#[test]
fn display_parses_back_to_the_same_query() {
    let mut rng = Rng::new(0x6d61_6d6f_7269);
    let events = events();
    for i in 0..20_000 {
        let q = query(&mut rng, 4);
        let text = q.to_string();
        let back = match parse(&text, now()) {
            Ok(back) => back,
            Err(err) => panic!("case {i}: {q:?}\nprinted as {text:?}\nfails: {err}\n{}", err.render(&text)),
        };
        assert_eq!(back, q, "case {i}: printed as {text:?}");
        assert_eq!(back.to_string(), text);
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(serde_json::from_str::<Query>(&json).unwrap(), q, "case {i}: serde round trip of {json}");
        let compiled = CompiledQuery::new(&q);
        for event in &events {
            compiled.matches(event);
        }
    }
}

#[test]
fn programmatic_edge_cases_print_something_sensible() {
    assert_eq!(Query::And(vec![]).to_string(), "*");
    assert_eq!(Query::Or(vec![]).to_string(), "NOT *");
    assert_eq!(term("f", "").to_string(), "f:\"\"");
}

#[test]
#[ignore = "prints samples of the generator for eyeballing"]
fn show_samples() {
    let mut rng = Rng::new(7);
    for _ in 0..25 {
        println!("{}", query(&mut rng, 3));
    }
}
