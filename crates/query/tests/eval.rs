//! The evaluator over realistic events: what matches and what does not.

mod common;

use common::*;
use mamori_query::{CompiledQuery, matches};
use serde_json::{Value, json};

fn proxy() -> Value {
    json!({
        "@timestamp": "2026-11-21T10:15:30.250Z",
        "message": "GET https://portal.example.lg.jp/login?user=taro 403 Forbidden: カテゴリ「フィッシング」によりブロック",
        "organization": {"id": "midori"},
        "event": {"dataset": "proxy.access", "action": "blocked", "category": ["web", "network"], "created": "2026-11-21T19:15:31+09:00"},
        "source": {"ip": "10.1.2.3", "port": 5050},
        "destination": {"ip": "2001:db8:1::7", "port": 443},
        "url": {"full": "https://portal.example.lg.jp/login?user=taro", "path": "/login", "domain": "portal.example.lg.jp"},
        "http": {"response": {"status_code": 403, "bytes": "5120"}},
        "user": {"name": "Taro.Yamada"},
        "host": {"hostname": "web01"},
        "tags": ["vpn", "remote"],
        "event.original": "raw line with SECRETWORD"
    })
}

fn firewall() -> Value {
    json!({
        "@timestamp": "2026-11-21T01:00:00+09:00",
        "message": "DENY TCP 192.168.10.5:51515 -> 203.0.113.9:3389",
        "organization.id": "aoba",
        "event.dataset": "firewall",
        "event.action": "deny",
        "source.ip": "192.168.10.5",
        "source.port": 51515,
        "destination.ip": "::ffff:203.0.113.9",
        "destination.port": "3389",
        "network": {"transport": "tcp", "bytes": 1.5e3},
        "related": {"ip": ["192.168.10.5", "203.0.113.9"]},
        "rule": {"id": null}
    })
}

fn syslog() -> Value {
    json!({
        "@timestamp": 1_795_233_600_000i64,
        "message": "sshd[1234]: ユーザー admin のログイン失敗 (認証エラー)",
        "error": {"message": "ﾊﾟｽﾜｰﾄﾞが違います"},
        "host": {"hostname": "FS01", "ip": ["10.9.0.1", "fe80::1"]},
        "log": {"level": "warning"},
        "event": {"dataset": "syslog", "severity": 4},
        "process": {"pid": 1234, "name": "sshd"},
        "observer": {"ip": "172.16.0.1"}
    })
}

fn events() -> [Value; 3] {
    [proxy(), firewall(), syslog()]
}

/// Which of proxy, firewall, syslog match.
fn which(query: &str) -> [bool; 3] {
    let q = CompiledQuery::new(&p(query));
    events().map(|e| q.matches(&e))
}

#[track_caller]
fn check(query: &str, expected: [bool; 3]) {
    assert_eq!(which(query), expected, "{query}");
}

const P: [bool; 3] = [true, false, false];
const F: [bool; 3] = [false, true, false];
const S: [bool; 3] = [false, false, true];
const ALL: [bool; 3] = [true, true, true];
const NONE: [bool; 3] = [false, false, false];

#[test]
fn match_all_and_structure() {
    check("", ALL);
    check("*", ALL);
    check("NOT *", NONE);
    check("event.dataset:proxy.access OR event.dataset:firewall", [true, true, false]);
    check("event.dataset:(proxy.access OR syslog) -event.action:blocked", S);
    check("NOT NOT event.dataset:syslog", S);
}

#[test]
fn full_text() {
    check("forbidden", P);
    check("FORBIDDEN", P);
    check("deny", F);
    check("\"403 forbidden\"", P);
    check("\"forbidden 403\"", NONE);
    check("ログイン失敗", S);
    check("\"ログイン失敗\"", S);
    check("失敗", S);
    check("失", S);
    check("ﾛｸﾞｲﾝ", S);
    check("パスワード", S);
    check("message:パスワード", NONE);
    check("error.message:パスワード", S);
    check("フィッシング", P);
    check("admin", S);
    check("sshd", S);
    check("portal.example", P);
    check("login-taro", NONE);
    check("login?user=taro", NONE);
    check("\"login?user=taro\"", P);
    check("adm*", S);
    check("message:?eny", F);
    check("*ッシ*", P);
    check("203.0.113.9", F);
    check("secretword", NONE);
    check("taro.yamada", NONE);
    check("🔥", NONE);
}

#[test]
fn keyword_fields_are_exact_and_case_sensitive() {
    check("user.name:Taro.Yamada", P);
    check("user.name:taro.yamada", NONE);
    check("user.name:Taro", NONE);
    check("user.name:\"Taro.Yamada\"", P);
    check("user.name:Taro*", P);
    check("user.name:taro*", NONE);
    check("host.hostname:web*", P);
    check("host.hostname:FS??", S);
    check("url.full:*login*", P);
    check("url.path:\\/login", P);
    check("url.path:/login", P);
    check("url.full:https://portal.example.lg.jp/login\\?user=taro", P);
    check("organization.id:aoba", F);
    check("event.category:network", P);
    check("tags:(vpn remote)", P);
    check("tags:(vpn office)", NONE);
    check("log.level:warning", S);
}

#[test]
fn numbers_match_numbers_and_strings() {
    check("destination.port:443", P);
    check("destination.port:443.0", P);
    check("destination.port:\"443\"", P);
    check("destination.port:3389", F);
    check("source.port:51515", F);
    check("http.response.status_code:403", P);
    check("network.bytes:1500", F);
    check("network.bytes:1500.0", F);
    check("http.response.status_code:>=400", P);
    check("http.response.status_code:[400 TO 499]", P);
    check("http.response.status_code:{403 TO 499]", NONE);
    check("http.response.bytes:>5000", P);
    check("destination.port:<1024", P);
    check("destination.port:>1024", F);
    check("process.pid:[1000 TO 2000]", S);
    check("event.severity:<=4", S);
}

#[test]
fn text_ranges_are_lexicographic() {
    check("host.hostname:[a TO z]", P);
    check("host.hostname:[A TO Z]", S);
    check("event.dataset:>\"proxy\"", [true, false, true]);
    check("user.name:>=T", P);
}

#[test]
fn ip_fields() {
    check("source.ip:10.1.2.3", P);
    check("source.ip:10.1.2.4", NONE);
    check("source.ip:10.1.0.0/16", P);
    check("source.ip:10.0.0.0/8", P);
    check("source.ip:192.168.0.0/16", F);
    check("source.ip:(10.0.0.0/8 OR 192.168.0.0/16)", [true, true, false]);
    check("destination.ip:203.0.113.9", F);
    check("destination.ip:::ffff:203.0.113.9", F);
    check("destination.ip:203.0.113.0/24", F);
    check("destination.ip:2001:db8::/32", P);
    check("destination.ip:\"2001:db8:1::/48\"", P);
    check("destination.ip:2001:db8:2::/48", NONE);
    check("destination.ip:2001:DB8:1:0::7", P);
    check("related.ip:203.0.113.9", F);
    check("host.ip:fe80::/10", S);
    check("host.ip:10.9.0.1", S);
    check("observer.ip:[172.16.0.0 TO 172.16.0.9]", S);
    check("source.ip:[10.0.0.1 TO 10.1.2.3]", P);
    check("source.ip:{10.0.0.1 TO 10.1.2.3}", NONE);
    check("source.ip:>=192.168.0.0", F);
    check("destination.ip:>=::", P);
    check("source.ip:10.1.*", P);
    check("source.ip:*", [true, true, false]);
}

#[test]
fn time_fields() {
    // proxy 2026-11-21T10:15:30.25Z, firewall 2026-11-20T16:00:00Z, syslog 2026-11-21T04:00:00Z
    check("@timestamp:2026-11-21", [true, false, true]);
    check("@timestamp:2026-11-20", F);
    check("@timestamp:[2026-11-21 TO 2026-11-21T14:00:00+09:00]", S);
    check("@timestamp:[2026-11-21 TO 2026-11-21T12:00:00+09:00]", NONE);
    check("@timestamp:[2026-11-21 TO now]", [true, false, true]);
    check("@timestamp:>now-1h", NONE);
    check("@timestamp:>now-2h", P);
    check("@timestamp:>=now/d", [true, false, true]);
    check("@timestamp:[now-1d/d TO now/d}", F);
    check("@timestamp:\"2026-11-21T10:15:30.25Z\"", P);
    check("@timestamp:\"2026-11-21T19:15:30.25+09:00\"", P);
    check("@timestamp:<2026-11-21T01:00:00+09:00", NONE);
    check("@timestamp:<=2026-11-21T01:00:00+09:00", F);
    check("event.created:>2026-11-21T10:15:30Z", P);
    assert!(e("@timestamp:2026-11-21T1*").message.contains("use a range"));
}

#[test]
fn exists_null_and_missing() {
    check("_exists_:user.name", P);
    check("user.name:*", P);
    check("rule.id:*", NONE);
    // `rule` holds only a null: like the index (and Elasticsearch), it has no value.
    check("_exists_:rule", NONE);
    check("NOT user.name:*", [false, true, true]);
    check("-user.name:Taro.Yamada", [false, true, true]);
    check("error.message:*", S);
    check("network:*", F);
}

#[test]
fn event_original_is_not_searchable() {
    assert!(e("event.original:*SECRET*").message.contains("cannot be searched"));
    check("secretword", NONE);
}

#[test]
fn arrays_and_dotted_keys() {
    let e = json!({
        "threat": [{"indicator": {"ip": "1.2.3.4"}}, {"indicator.ip": "5.6.7.8"}],
        "source.nat": {"ip": "100.64.1.1"},
        "labels": {"部署": "総務課"},
        "values": [[1, 2], [3]],
        "message": ["第一行 alpha", "second line beta"]
    });
    assert!(matches(&p("threat.indicator.ip:5.6.7.8"), &e));
    assert!(matches(&p("threat.indicator.ip:1.2.3.4"), &e));
    assert!(matches(&p("source.nat.ip:100.64.0.0/10"), &e));
    assert!(matches(&p("labels.部署:総務課"), &e));
    assert!(matches(&p("values:3"), &e));
    assert!(matches(&p("values:>2"), &e));
    assert!(matches(&p("beta"), &e));
    assert!(matches(&p("第一"), &e));
    assert!(!matches(&p("\"alpha second\""), &e), "phrases do not span array elements");
}

#[test]
fn odd_values_never_match_by_accident() {
    let e = json!({"a": {"b": 1}, "n": null, "t": true, "s": "", "msg": 5});
    assert!(!matches(&p("a:*1*"), &e), "objects have no string form");
    assert!(matches(&p("a.b:1"), &e));
    assert!(matches(&p("t:true"), &e));
    assert!(!matches(&p("t:1"), &e));
    assert!(matches(&p("s:\"\""), &e));
    assert!(!matches(&p("n:*"), &e));
    assert!(!matches(&p("n:null"), &e));
    assert!(!matches(&p("a:>0"), &e));
    assert!(!matches(&p("@timestamp:>2000-01-01"), &e));
    assert!(!matches(&p("source.ip:0.0.0.0/0"), &json!({"source": {"ip": "not an ip"}})));
    assert!(!matches(&p("x:[1 TO 2]"), &json!({"x": "abc"})));
    assert!(matches(&p("x:[1 TO 2]"), &json!({"x": " 1.5 "})));
    assert!(!matches(&p("x:[a TO b]"), &json!({"x": 1})));
    assert!(
        !matches(&p("x:[\"1\" TO \"2\"]"), &json!({"x": 10})),
        "text bounds compare strings only; numbers are ordered by numeric ranges"
    );
    assert!(matches(&p("x:[\"1\" TO \"2\"]"), &json!({"x": "10"})));
    assert!(matches(&p("_exists_:source"), &json!({"source.ip": "10.0.0.1"})));
}

#[test]
fn compiled_query_is_reusable() {
    let q = CompiledQuery::new(&p("ログイン OR source.ip:10.0.0.0/8"));
    let evs = events();
    let hits = (0..1000).filter(|i| q.matches(&evs[i % 3])).count();
    assert_eq!(hits, 667);
}

#[test]
fn japanese_wildcards_read_as_words() {
    assert_eq!(p("フィッシ*"), bare("フィッシ"));
    assert_eq!(p("*フィッシ*"), bare("フィッシ"));
    assert_eq!(p("message:*ﾛｸﾞ"), term("message", "ﾛｸﾞ"));
    assert_eq!(p("user.name:山田*"), wild(Some("user.name"), "山田*"), "keyword fields keep the wildcard");
    assert_eq!(p("ログ*エラー"), wild(None, "ログ*エラー"));
    check("フィッシ*", P);
    check("*ッシング*", P);
    check("失*", S);
    check("message:ﾛｸﾞｲ*", S);
}
