//! The URL filter end to end: lists of every kind, categories from a UT1-format directory,
//! threat lists, allow lists, write restriction and allow-only mode.

use mamori_urlfilter::*;

fn target(s: &str) -> Target {
    Target::parse(s).unwrap()
}

struct Fixture {
    matcher: Matcher,
    policy: Policy,
}

impl Fixture {
    fn verdict(&self, method: &str, url: &str) -> (Decision, String) {
        let (v, _) = self.policy.check(&self.matcher, &target(url), Method::from_http(method));
        let name = |l: ListId| self.matcher.list_name(l).to_string();
        let why = match v.reason {
            Reason::Threat(l) => format!("threat:{}", name(l)),
            Reason::AllowList(l) => format!("allow:{}", name(l)),
            Reason::Blocked(l) => format!("block:{}", name(l)),
            Reason::WriteRestricted(l) => format!("readonly:{}", name(l)),
            Reason::NotAllowListed => "not-allow-listed".into(),
            Reason::Default => "default".into(),
        };
        (v.decision, why)
    }
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let cat = |name: &str, file: &str, body: &str| {
        std::fs::create_dir_all(dir.path().join(name)).unwrap();
        std::fs::write(dir.path().join(name).join(file), body).unwrap();
    };
    cat("gambling", "domains", "casino.example\n# comment\n");
    cat("forums", "domains", "board.example\n");
    cat("forums", "urls", "news.example/forum/\n");
    cat("malware", "expressions", "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+/search\\?q=[0-9]+$\n");
    cat("social_networks", "domains", "sns.example\n");
    let mut b = MatcherBuilder::new();
    for (name, list) in load_category_dir(dir.path()).unwrap() {
        assert_eq!(list.report.rejected, 0, "{}", list.report);
        let id = b.list(&format!("category:{name}")).unwrap();
        for e in list.entries {
            b.add(id, e);
        }
    }
    let add = |b: &mut MatcherBuilder, list: &str, format: Format, text: &str| {
        let id = b.list(list).unwrap();
        let parsed = parse_list(text, format, list);
        assert_eq!(parsed.report.rejected, 0, "{}", parsed.report);
        for e in parsed.entries {
            b.add(id, e);
        }
        id
    };
    let threat = add(&mut b, "threat:feed", Format::Csv, "# id,url\n1,http://cc.example/gate.php\n2,198.51.100.7\n");
    let hosts = add(&mut b, "threat:hosts", Format::Hosts, "0.0.0.0 tracker.example\n");
    let block = add(&mut b, "common:block", Format::Plain, "blocked.example\nexample.org/private/\n203.0.113.0/24\n");
    let allow = add(&mut b, "midori:allow", Format::Plain, "casino.example\ncity.midori.lg.jp\ncc.example\n");
    let exact = b.list("common:exact").unwrap();
    b.add(exact, Entry::url_exact("http://example.net/a?b=1").unwrap());
    let matcher = b.build().unwrap();
    let mut policy = Policy::new();
    for l in [threat, hosts] {
        policy.set(l, Action::Threat);
    }
    policy.set(block, Action::Block).set(exact, Action::Block).set(allow, Action::Allow);
    for c in ["gambling", "malware"] {
        policy.set(matcher.list_id(&format!("category:{c}")).unwrap(), Action::Block);
    }
    for c in ["forums", "social_networks"] {
        policy.set(matcher.list_id(&format!("category:{c}")).unwrap(), Action::ReadOnly);
    }
    Fixture { matcher, policy }
}

#[test]
fn every_list_kind_blocks() {
    let f = fixture();
    let cases = [
        ("GET", "http://blocked.example/", "block:common:block"),
        ("GET", "http://deep.sub.blocked.example/x", "block:common:block"),
        ("GET", "http://EXAMPLE.org/private/file.pdf", "block:common:block"),
        ("GET", "http://www.example.org/Private/", "block:common:block"),
        ("GET", "http://203.0.113.9/", "block:common:block"),
        ("GET", "http://example.net/a?b=1", "block:common:exact"),
        ("GET", "http://10.0.0.1/search?q=123", "block:category:malware"),
        ("CONNECT", "tracker.example:443", "threat:threat:hosts"),
        ("GET", "http://198.51.100.7/x", "threat:threat:feed"),
    ];
    for (method, url, why) in cases {
        assert_eq!(f.verdict(method, url), (Decision::Block, why.to_string()), "{method} {url}");
    }
}

#[test]
fn what_is_not_listed_passes() {
    let f = fixture();
    for url in [
        "http://example.org/public/",
        "http://example.net/a?b=2",
        "http://notblocked.example/",
        "http://blocked.example.jp/",
        "http://10.0.0.1/search?q=abc",
        "http://203.0.114.1/",
    ] {
        assert_eq!(f.verdict("GET", url), (Decision::Allow, "default".into()), "{url}");
    }
}

#[test]
fn allow_lists_beat_categories_but_not_threats() {
    let f = fixture();
    assert_eq!(f.verdict("GET", "http://www.casino.example/"), (Decision::Allow, "allow:midori:allow".into()));
    assert_eq!(f.verdict("GET", "http://cc.example/gate.php"), (Decision::Block, "threat:threat:feed".into()));
    assert_eq!(f.verdict("GET", "http://cc.example/other"), (Decision::Allow, "allow:midori:allow".into()));
}

#[test]
fn write_restriction_allows_reading_only() {
    let f = fixture();
    assert_eq!(f.verdict("GET", "http://board.example/thread/1"), (Decision::Allow, "default".into()));
    for m in ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"] {
        assert_eq!(
            f.verdict(m, "http://board.example/thread/1"),
            (Decision::Block, "readonly:category:forums".into()),
            "{m}"
        );
    }
    assert_eq!(
        f.verdict("POST", "http://news.example/forum/post"),
        (Decision::Block, "readonly:category:forums".into())
    );
    assert_eq!(f.verdict("POST", "http://news.example/article"), (Decision::Allow, "default".into()));
}

#[test]
fn allow_only_mode() {
    let mut f = fixture();
    f.policy.allow_only(true);
    assert_eq!(f.verdict("GET", "http://city.midori.lg.jp/"), (Decision::Allow, "allow:midori:allow".into()));
    assert_eq!(f.verdict("GET", "http://anything.example/"), (Decision::Block, "not-allow-listed".into()));
}

#[test]
fn a_domain_in_several_categories_reports_all() {
    let mut b = MatcherBuilder::new();
    let a = b.list("a").unwrap();
    let c = b.list("c").unwrap();
    b.add(a, Entry::domain("x.example").unwrap());
    b.add(c, Entry::domain("sub.x.example").unwrap());
    b.add(c, Entry::domain("x.example").unwrap());
    let m = b.build().unwrap();
    let mut found = Matches::default();
    m.lookup(&target("https://sub.x.example/"), &mut found);
    assert_eq!(found.lists(), &[a, c]);
}
