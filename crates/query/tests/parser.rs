//! The parser, construct by construct: what each query means, precedence, and errors with
//! their positions.

mod common;

use std::ops::Bound::{Excluded, Included, Unbounded};

use common::*;
use mamori_query::Query;

#[test]
fn empty_and_match_all() {
    assert_eq!(p(""), Query::All);
    assert_eq!(p("   \t\n"), Query::All);
    assert_eq!(p("*"), Query::All);
    assert_eq!(p("**"), Query::All);
    assert_eq!(p("(*)"), Query::All);
}

#[test]
fn bare_terms_and_phrases() {
    assert_eq!(p("denied"), bare("denied"));
    assert_eq!(p("ログイン失敗"), bare("ログイン失敗"));
    assert_eq!(p(r#""access denied""#), phrase(None, "access denied"));
    assert_eq!(p(r#""""#), phrase(None, ""));
    assert_eq!(p("web*"), wild(None, "web*"));
    assert_eq!(p("ad?in"), wild(None, "ad?in"));
    assert_eq!(p("TO"), bare("TO"));
    assert_eq!(p("and"), bare("and"), "operators are capitals only");
    assert_eq!(p("a&&b"), bare("a&&b"));
    assert_eq!(p(">5"), bare(">5"));
}

#[test]
fn field_values() {
    assert_eq!(p("event.dataset:proxy.access"), term("event.dataset", "proxy.access"));
    assert_eq!(p("user.name:\"Taro Yamada\""), phrase(Some("user.name"), "Taro Yamada"));
    assert_eq!(p("destination.port:443"), term("destination.port", "443"));
    assert_eq!(p("message:失敗"), term("message", "失敗"));
    assert_eq!(p("user.name:-x"), term("user.name", "-x"));
    assert_eq!(p("labels.部署:総務課"), term("labels.部署", "総務課"));
    assert_eq!(p("url.full:http://x/a?b"), wild(Some("url.full"), "http://x/a?b"));
    assert_eq!(p(r"url.full:http\://x/a\?b"), term("url.full", "http://x/a?b"));
    assert_eq!(p("url.full:https://example.jp/login"), term("url.full", "https://example.jp/login"));
    assert_eq!(p(r"url.path:\/admin"), term("url.path", "/admin"));
    assert_eq!(p("url.path:/admin"), term("url.path", "/admin"));
    assert_eq!(p(r"file.path:C\:\\Windows"), term("file.path", r"C:\Windows"));
    assert_eq!(p(r#"file.path:"C:\Windows\System32""#), phrase(Some("file.path"), r"C:\Windows\System32"));
    assert_eq!(p(r#"a:"say \"hi\" \\o/""#), phrase(Some("a"), r#"say "hi" \o/"#));
    assert_eq!(p(r"user.name:taro\ yamada"), term("user.name", "taro yamada"));
    assert_eq!(p(r"a\:b:c"), term("a:b", "c"));
    assert_eq!(p(r"a:\>5"), term("a", ">5"));
    assert_eq!(p(r"\-5"), bare("-5"));
    assert_eq!(p(r"\AND"), bare("AND"));
    assert_eq!(p("tags:AND"), term("tags", "AND"));
}

#[test]
fn wildcards_and_exists() {
    assert_eq!(p("host.hostname:web*"), wild(Some("host.hostname"), "web*"));
    assert_eq!(p("url.full:*login*"), wild(Some("url.full"), "*login*"));
    assert_eq!(p(r"file.name:a\*b*"), wild(Some("file.name"), r"a\*b*"));
    assert_eq!(p(r"file.name:a\\*"), wild(Some("file.name"), r"a\\*"));
    assert_eq!(p(r"file.name:a\*b"), term("file.name", "a*b"));
    assert_eq!(p("user.name:*"), exists("user.name"));
    assert_eq!(p("user.name:***"), exists("user.name"));
    assert_eq!(p("_exists_:user.name"), exists("user.name"));
    assert_eq!(p("_exists_:\"user.name\""), exists("user.name"));
    assert_eq!(p("source.ip:10.1.*"), wild(Some("source.ip"), "10.1.*"));
    assert!(e("@timestamp:2026-11*").message.contains("use a range"));
}

#[test]
fn comparisons() {
    assert_eq!(p("bytes:>10"), range("bytes", Excluded(num(10.0)), Unbounded));
    assert_eq!(p("bytes:>=10"), range("bytes", Included(num(10.0)), Unbounded));
    assert_eq!(p("bytes:<10"), range("bytes", Unbounded, Excluded(num(10.0))));
    assert_eq!(p("bytes:<=10.5"), range("bytes", Unbounded, Included(num(10.5))));
    assert_eq!(p("bytes:>-3"), range("bytes", Excluded(num(-3.0)), Unbounded));
    assert_eq!(p("user.name:>m"), range("user.name", Excluded(text("m")), Unbounded));
    assert_eq!(p("user.name:>\"10\""), range("user.name", Excluded(text("10")), Unbounded));
    assert_eq!(p("user.name:>=\"a b\""), range("user.name", Included(text("a b")), Unbounded));
    assert_eq!(p("a:>*"), range("a", Excluded(text("*")), Unbounded), "comparison values are literal");
}

#[test]
fn ranges() {
    assert_eq!(p("bytes:[10 TO 20]"), range("bytes", Included(num(10.0)), Included(num(20.0))));
    assert_eq!(p("bytes:{10 TO 20}"), range("bytes", Excluded(num(10.0)), Excluded(num(20.0))));
    assert_eq!(p("bytes:[10 TO 20}"), range("bytes", Included(num(10.0)), Excluded(num(20.0))));
    assert_eq!(p("bytes:{10 TO 20]"), range("bytes", Excluded(num(10.0)), Included(num(20.0))));
    assert_eq!(p("bytes:[10 TO *]"), range("bytes", Included(num(10.0)), Unbounded));
    assert_eq!(p("bytes:[* TO 20}"), range("bytes", Unbounded, Excluded(num(20.0))));
    assert_eq!(p("bytes:[* TO *]"), range("bytes", Unbounded, Unbounded));
    assert_eq!(p("bytes:[-5 TO 1e3]"), range("bytes", Included(num(-5.0)), Included(num(1000.0))));
    assert_eq!(p("bytes:[ 10   to 20 ]"), range("bytes", Included(num(10.0)), Included(num(20.0))));
    assert_eq!(p("host.name:[a TO m]"), range("host.name", Included(text("a")), Included(text("m"))));
    assert_eq!(p("host.name:[\"10\" TO \"TO\"]"), range("host.name", Included(text("10")), Included(text("TO"))));
    assert_eq!(p("host.name:[10 TO zz]"), range("host.name", Included(num(10.0)), Included(text("zz"))));
}

#[test]
fn times() {
    assert_eq!(
        p("@timestamp:[2026-11-01 TO 2026-11-02T12:00:00+09:00]"),
        range("@timestamp", Included(time("2026-11-01T00:00:00Z")), Included(time("2026-11-02T03:00:00Z")))
    );
    assert_eq!(p("@timestamp:>now-1h"), range("@timestamp", Excluded(time("2026-11-21T11:00:00Z")), Unbounded));
    assert_eq!(p("@timestamp:>=now-15m"), range("@timestamp", Included(time("2026-11-21T11:45:00Z")), Unbounded));
    assert_eq!(p("@timestamp:>=now-7d/d"), range("@timestamp", Included(time("2026-11-14T00:00:00Z")), Unbounded));
    assert_eq!(p("event.created:<now"), range("event.created", Unbounded, Excluded(time("2026-11-21T12:00:00Z"))));
    assert_eq!(
        p("@timestamp:>2026-11-21T10:00:00Z"),
        range("@timestamp", Excluded(time("2026-11-21T10:00:00Z")), Unbounded)
    );
    assert_eq!(
        p(r"@timestamp:>2026-11-21T10\:00\:00Z"),
        range("@timestamp", Excluded(time("2026-11-21T10:00:00Z")), Unbounded)
    );
    assert_eq!(
        p("@timestamp:\"2026-11-21T10:00:00Z\""),
        range("@timestamp", Included(time("2026-11-21T10:00:00Z")), Included(time("2026-11-21T10:00:00Z")))
    );
    assert_eq!(
        p("@timestamp:2026-11-21"),
        range("@timestamp", Included(time("2026-11-21T00:00:00Z")), Excluded(time("2026-11-22T00:00:00Z")))
    );
    assert_eq!(
        p("@timestamp:[now-1d/d TO now/d}"),
        range("@timestamp", Included(time("2026-11-20T00:00:00Z")), Excluded(time("2026-11-21T00:00:00Z")))
    );
}

#[test]
fn ip_addresses() {
    assert_eq!(p("source.ip:10.1.0.0/16"), cidr("source.ip", "10.1.0.0/16"));
    assert_eq!(p("source.ip:10.1.2.3/16"), cidr("source.ip", "10.1.0.0/16"), "host bits cleared");
    assert_eq!(p("source.ip:\"2001:db8::/32\""), cidr("source.ip", "2001:db8::/32"));
    assert_eq!(p("source.ip:2001:db8::/32"), cidr("source.ip", "2001:db8::/32"));
    assert_eq!(p("destination.ip:::ffff:10.0.0.0/104"), cidr("destination.ip", "10.0.0.0/8"));
    assert_eq!(p("source.ip:10.1.2.3"), term("source.ip", "10.1.2.3"));
    assert_eq!(p("source.ip:\"10.1.2.3\""), term("source.ip", "10.1.2.3"));
    assert_eq!(p("source.ip:2001:DB8:0::1"), term("source.ip", "2001:db8::1"));
    assert_eq!(p("related.ip:::ffff:1.2.3.4"), term("related.ip", "1.2.3.4"));
    assert_eq!(
        p("source.ip:[10.0.0.1 TO 10.0.0.9]"),
        range("source.ip", Included(ip("10.0.0.1")), Included(ip("10.0.0.9")))
    );
    assert_eq!(p("source.ip:>=::1"), range("source.ip", Included(ip("::1")), Unbounded));
    assert_eq!(p("source.nat.ip:*"), exists("source.nat.ip"));
}

#[test]
fn boolean_operators() {
    let (a, b, c) = (bare("a"), bare("b"), bare("c"));
    assert_eq!(p("a AND b"), and(vec![a.clone(), b.clone()]));
    assert_eq!(p("a && b"), and(vec![a.clone(), b.clone()]));
    assert_eq!(p("a b"), and(vec![a.clone(), b.clone()]), "implicit AND");
    assert_eq!(p("a OR b"), or(vec![a.clone(), b.clone()]));
    assert_eq!(p("a || b"), or(vec![a.clone(), b.clone()]));
    assert_eq!(p("NOT a"), not(a.clone()));
    assert_eq!(p("!a"), not(a.clone()));
    assert_eq!(p("-a"), not(a.clone()));
    assert_eq!(p("- a"), not(a.clone()));
    assert_eq!(p("+a"), a.clone());
    assert_eq!(p("+a -b"), and(vec![a.clone(), not(b.clone())]));
    assert_eq!(p("NOT NOT a"), not(not(a.clone())));
    assert_eq!(p("--a"), not(not(a.clone())));
    assert_eq!(p("-\"x y\""), not(phrase(None, "x y")));
    assert_eq!(p("-(a OR b)"), not(or(vec![a.clone(), b.clone()])));
    assert_eq!(p("!user.name:*"), not(exists("user.name")));
    assert_eq!(p("a AND b AND c"), and(vec![a.clone(), b.clone(), c.clone()]));
    assert_eq!(p("a OR b OR c"), or(vec![a.clone(), b.clone(), c.clone()]));
}

#[test]
fn precedence() {
    let (a, b, c, d) = (bare("a"), bare("b"), bare("c"), bare("d"));
    assert_eq!(p("a OR b c"), or(vec![a.clone(), and(vec![b.clone(), c.clone()])]));
    assert_eq!(p("a OR b AND c"), or(vec![a.clone(), and(vec![b.clone(), c.clone()])]));
    assert_eq!(p("a AND b OR c"), or(vec![and(vec![a.clone(), b.clone()]), c.clone()]));
    assert_eq!(p("NOT a b"), and(vec![not(a.clone()), b.clone()]));
    assert_eq!(p("NOT a OR b"), or(vec![not(a.clone()), b.clone()]));
    assert_eq!(p("(a OR b) c"), and(vec![or(vec![a.clone(), b.clone()]), c.clone()]));
    assert_eq!(p("a b OR c d"), or(vec![and(vec![a.clone(), b.clone()]), and(vec![c.clone(), d.clone()])]));
    assert_eq!(p("(a AND b) AND c"), and(vec![and(vec![a.clone(), b.clone()]), c.clone()]), "groups are kept");
    assert_eq!(p("((a))"), a);
}

#[test]
fn field_groups() {
    let f = |v: &str| term("event.action", v);
    assert_eq!(p("event.action:(denied OR blocked)"), or(vec![f("denied"), f("blocked")]));
    assert_eq!(p("event.action:(denied blocked)"), and(vec![f("denied"), f("blocked")]));
    assert_eq!(p("event.action:(denied -blocked)"), and(vec![f("denied"), not(f("blocked"))]));
    assert_eq!(p("event.action:(denied)"), f("denied"));
    assert_eq!(
        p("event.action:(\"a b\" OR c*)"),
        or(vec![phrase(Some("event.action"), "a b"), wild(Some("event.action"), "c*")])
    );
    assert_eq!(p("event.action:(a (b OR c))"), and(vec![f("a"), or(vec![f("b"), f("c")])]));
    assert_eq!(p("event.action:(*)"), exists("event.action"));
    assert_eq!(
        p("url.full:(http://a OR http://b)"),
        or(vec![term("url.full", "http://a"), term("url.full", "http://b")])
    );
    assert_eq!(
        p("bytes:(>10 OR [1 TO 2] OR <=0)"),
        or(vec![
            range("bytes", Excluded(num(10.0)), Unbounded),
            range("bytes", Included(num(1.0)), Included(num(2.0))),
            range("bytes", Unbounded, Included(num(0.0))),
        ])
    );
    assert_eq!(
        p("source.ip:(10.0.0.0/8 OR 192.168.1.1)"),
        or(vec![cidr("source.ip", "10.0.0.0/8"), term("source.ip", "192.168.1.1")])
    );
    assert_eq!(p("x event.action:(a OR b)"), and(vec![bare("x"), or(vec![f("a"), f("b")])]));
}

#[test]
fn japanese_everywhere() {
    assert_eq!(
        p("message:\"ログイン 失敗\" AND 組織.名前:みどり市 OR 総務課"),
        or(vec![and(vec![phrase(Some("message"), "ログイン 失敗"), term("組織.名前", "みどり市")]), bare("総務課")])
    );
    assert_eq!(p("　ログイン　"), bare("ログイン"), "ideographic spaces separate words");
}

#[test]
fn fields_listing() {
    assert_eq!(
        p("event.dataset:x source.ip:10.0.0.0/8 OR (denied AND NOT event.dataset:y) _exists_:user.name").fields(),
        vec!["event.dataset", "source.ip", "message", "error.message", "user.name"]
    );
    assert!(p("*").fields().is_empty());
    assert_eq!(p("@timestamp:>now-1h").fields(), vec!["@timestamp"]);
}

#[test]
fn from_str_uses_the_clock() {
    let q: Query = "@timestamp:>now-1h".parse().unwrap();
    assert!(matches!(q, Query::Range { .. }));
    assert!("(".parse::<Query>().is_err());
}
