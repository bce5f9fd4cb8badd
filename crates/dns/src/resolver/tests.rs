//! The resolver against scripted servers: each answer is written as master-format records per
//! (server, name, type), so a test reads like the zones it stands for.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};

use super::upstream::{TransferFuture, Upstream, UpstreamError, UpstreamFuture};
use super::{ManualClock, Resolver, ResolverConfig};

/// One scripted answer: who answers, to what, and the sections.
struct Script {
    server: IpAddr,
    name: Name,
    rtype: RecordType,
    authoritative: bool,
    answers: Vec<Record>,
    authority: Vec<Record>,
    additional: Vec<Record>,
}

#[derive(Default)]
struct Servers {
    scripts: Vec<Script>,
    /// (server, name, type) of every query, in order.
    asked: Mutex<Vec<(IpAddr, Name, RecordType)>>,
    /// Every server fails to answer.
    down: std::sync::atomic::AtomicBool,
    /// Servers whose next query is lost (a timeout).
    lose_next: Mutex<Vec<IpAddr>>,
    /// Servers that answer with RA (recursive servers).
    recursive: Vec<IpAddr>,
}

/// Records from master-format text (also used by the resolver's other test modules).
pub(super) fn records(text: &str) -> Vec<Record> {
    crate::zone::master::parse_with_default_ttl(text, &Name::root(), None, Some(3600))
        .expect("test records")
        .into_iter()
        .map(|p| p.record)
        .collect()
}

fn name(s: &str) -> Name {
    Name::from_str(s).expect("a test name")
}

impl Servers {
    /// `server` answers `qname qtype` with these sections (master-format lines).
    fn answer(&mut self, server: &str, q: &str, aa: bool, answer: &str, authority: &str, additional: &str) {
        let (qname, qtype) = q.split_once(' ').expect("NAME TYPE");
        self.scripts.push(Script {
            server: server.parse().expect("an address"),
            name: name(qname),
            rtype: RecordType::from_str(qtype).expect("a type"),
            authoritative: aa,
            answers: records(answer),
            authority: records(authority),
            additional: records(additional),
        });
    }

    fn asked_of(&self, server: &str) -> Vec<(Name, RecordType)> {
        let ip: IpAddr = server.parse().expect("an address");
        let asked = self.asked.lock().expect("not poisoned");
        asked.iter().filter(|(s, _, _)| *s == ip).map(|(_, n, t)| (n.clone(), *t)).collect()
    }
}

impl Upstream for Servers {
    fn query<'a>(&'a self, server: SocketAddr, request: &'a Message) -> UpstreamFuture<'a> {
        Box::pin(async move {
            let q = request.queries.first().expect("a question");
            self.asked.lock().expect("not poisoned").push((server.ip(), q.name().clone(), q.query_type));
            let script = self.scripts.iter().find(|s| {
                s.server == server.ip() && s.name.eq_case(&crate::zone::fqdn_lower(q.name())) && s.rtype == q.query_type
            });
            {
                let mut lose = self.lose_next.lock().expect("not poisoned");
                if let Some(i) = lose.iter().position(|ip| *ip == server.ip()) {
                    lose.remove(i);
                    return Err(UpstreamError::Timeout { server, timeout: std::time::Duration::from_secs(3) });
                }
            }
            if self.down.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(UpstreamError::Failed { server, message: "down".into() });
            }
            let Some(s) = script else {
                return Err(UpstreamError::Failed { server, message: "not scripted".into() });
            };
            let mut m = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
            m.metadata.authoritative = s.authoritative;
            m.metadata.recursion_available = self.recursive.contains(&server.ip());
            m.metadata.response_code = ResponseCode::NoError;
            m.queries = request.queries.clone();
            m.answers = s.answers.clone();
            m.authorities = s.authority.clone();
            m.additionals = s.additional.clone();
            Ok(m)
        })
    }

    fn transfer(&self, server: SocketAddr, _request: Vec<u8>, _rtype: RecordType) -> TransferFuture<'_> {
        Box::pin(async move { Err(UpstreamError::Failed { server, message: "no transfers here".into() }) })
    }
}

fn resolver(config: ResolverConfig, servers: Arc<Servers>) -> Resolver {
    let config = ResolverConfig { upstream_port: 53, cache_entries: 100, ..config };
    Resolver::new(config, servers, Arc::new(ManualClock::default()))
}

fn hint(ip: &str) -> Vec<SocketAddr> {
    vec![SocketAddr::new(ip.parse().expect("an address"), 53)]
}

/// A DS question goes to the parent's servers even when a server on the way also serves the
/// child zone: its answer from the child's apex would say the child has no DS.
#[tokio::test]
async fn a_ds_question_is_asked_of_the_parent_not_of_a_server_holding_the_child() {
    let mut s = Servers::default();
    // The root's server holds child.tld too; tld is delegated to 10.0.0.2.
    s.answer("10.0.0.1", ". NS", true, ". NS a.root.", "", "a.root. A 10.0.0.1");
    s.answer("10.0.0.1", "tld. A", false, "", "tld. NS ns.tld.", "ns.tld. A 10.0.0.2");
    s.answer("10.0.0.1", "child.tld. DS", true, "", "child.tld. SOA a.root. h. 1 2 3 4 5", "");
    s.answer("10.0.0.2", "child.tld. DS", true, "", "tld. SOA ns.tld. h. 2 2 3 4 5", "");
    let servers = Arc::new(s);
    let config = ResolverConfig { root_hints: hint("10.0.0.1"), qname_minimisation: true, ..Default::default() };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("child.tld."), RecordType::DS, None).await.expect("an answer");
    assert_eq!(r.answer.authority.len(), 1, "{:?}", r.answer);
    assert_eq!(r.answer.authority[0].name, name("tld."));
    assert!(!servers.asked_of("10.0.0.1").contains(&(name("child.tld."), RecordType::DS)));
}

/// A server of a zone under a trust anchor that answers without signatures is passed over for
/// the zone's other server, which the first one's NS set names.
#[tokio::test]
async fn an_answer_without_signatures_from_a_signed_zone_is_asked_again_elsewhere() {
    let mut s = Servers::default();
    s.answer(
        "10.0.0.1",
        "www.zone. A",
        true,
        "www.zone. A 192.0.2.1",
        "zone. NS ns1.zone.\nzone. NS ns2.zone.",
        "ns1.zone. A 10.0.0.1",
    );
    s.answer("10.0.0.1", "ns2.zone. A", true, "ns2.zone. A 10.0.0.2", "", "");
    s.answer(
        "10.0.0.2",
        "www.zone. A",
        true,
        "www.zone. A 192.0.2.2\nwww.zone. RRSIG A 8 2 3600 20300101000000 20200101000000 1 zone. AAAA",
        "",
        "",
    );
    let servers = Arc::new(s);
    let config = ResolverConfig {
        stub_zones: vec![(name("zone."), hint("10.0.0.1"))],
        trust_anchors: records("zone. DS 1 8 2 0000000000000000000000000000000000000000000000000000000000000000"),
        ..Default::default()
    };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("www.zone."), RecordType::A, None).await.expect("an answer");
    let addresses: Vec<String> = r.answer.answers.iter().map(|r| r.data.to_string()).collect();
    assert!(addresses.contains(&"192.0.2.2".to_string()), "{addresses:?}");
    assert!(servers.asked_of("10.0.0.2").contains(&(name("www.zone."), RecordType::A)));
}

/// Without validation an unsigned answer is the answer: no other server is asked.
#[tokio::test]
async fn without_validation_the_first_answer_is_taken() {
    let mut s = Servers::default();
    s.answer("10.0.0.1", "www.zone. A", true, "www.zone. A 192.0.2.1", "zone. NS ns2.zone.", "");
    let servers = Arc::new(s);
    let config = ResolverConfig { stub_zones: vec![(name("zone."), hint("10.0.0.1"))], ..Default::default() };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("www.zone."), RecordType::A, None).await.expect("an answer");
    assert_eq!(r.answer.answers.len(), 1);
    assert!(servers.asked_of("10.0.0.2").is_empty());
}

/// With NAT64 an IPv4-only name server is asked at its address under the translator's
/// prefix (RFC 6052), as an IPv6-only host must.
#[tokio::test]
async fn ipv4_name_servers_are_reached_through_nat64() {
    let mut s = Servers::default();
    s.answer("2001:db8::1", "v4only. A", false, "", "v4only. NS ns.v4only.", "ns.v4only. A 192.0.2.1");
    s.answer("64:ff9b::c000:201", "test.v4only. A", true, "test.v4only. A 192.0.2.2", "", "");
    let servers = Arc::new(s);
    let config = ResolverConfig {
        stub_zones: vec![(Name::root(), hint("2001:db8::1"))],
        qname_minimisation: true,
        nat64: Some(crate::dns64::Dns64::new("64:ff9b::/96".parse().expect("a prefix"), vec![], vec![])),
        ..Default::default()
    };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("test.v4only."), RecordType::A, None).await.expect("an answer");
    assert_eq!(r.answer.answers.len(), 1, "{:?}", r.answer);
    assert!(servers.asked_of("192.0.2.1").is_empty());
}

/// A delegation to an address in `never_query` is not followed: the other name server is
/// asked; one to the NAT64 prefix counts as the IPv4 address it carries, so `::/0` off still
/// lets an IPv6-only host reach IPv4 servers through the translator.
#[tokio::test]
async fn never_query_addresses_are_not_asked_and_nat64_ones_count_as_ipv4() {
    let mut s = Servers::default();
    s.answer(
        "10.0.0.1",
        "www.example.com. A",
        false,
        "",
        "example.com. NS ns1.example.com.\nexample.com. NS ns2.example.com.",
        "ns1.example.com. A 127.0.0.53\nns2.example.com. A 10.0.0.4",
    );
    s.answer("10.0.0.4", "www.example.com. A", true, "www.example.com. A 192.0.2.40", "", "");
    s.answer("127.0.0.53", "www.example.com. A", true, "www.example.com. A 192.0.2.66", "", "");
    let servers = Arc::new(s);
    let config = ResolverConfig {
        stub_zones: vec![(Name::root(), hint("10.0.0.1"))],
        never_query: vec!["127.0.0.0/8".parse().expect("a network")],
        ..Default::default()
    };
    let guarded = resolver(config, servers.clone());
    let r = guarded.resolve(&name("www.example.com."), RecordType::A, None).await.expect("an answer");
    assert_eq!(r.answer.answers[0].data.to_string(), "192.0.2.40");
    assert!(servers.asked_of("127.0.0.53").is_empty());

    let mut s = Servers::default();
    s.answer("64:ff9b::a00:1", "v4only. A", false, "", "v4only. NS ns.v4only.", "ns.v4only. A 192.0.2.1");
    s.answer("64:ff9b::c000:201", "test.v4only. A", true, "test.v4only. A 192.0.2.2", "", "");
    let servers = Arc::new(s);
    let config = ResolverConfig {
        stub_zones: vec![(Name::root(), hint("64:ff9b::a00:1"))],
        nat64: Some(crate::dns64::Dns64::new("64:ff9b::/96".parse().expect("a prefix"), vec![], vec![])),
        never_query: vec!["::/0".parse().expect("a network")],
        no_ipv4: true,
        qname_minimisation: true,
        ..Default::default()
    };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("test.v4only."), RecordType::A, None).await.expect("an answer");
    assert_eq!(r.answer.answers.len(), 1, "{:?}", r.answer);
}

/// A referral whose glue is IPv6 only, on a host without IPv6: the name server's IPv4
/// address is looked up instead.
#[tokio::test]
async fn glue_of_a_family_turned_off_is_replaced_by_a_lookup() {
    let mut s = Servers::default();
    s.answer("10.0.0.1", "www.example.com. A", false, "", "example.com. NS ns.bla.com.", "ns.bla.com. AAAA ::53");
    s.answer("10.0.0.1", "ns.bla.com. A", true, "ns.bla.com. A 10.0.0.4", "", "");
    s.answer("10.0.0.4", "www.example.com. A", true, "www.example.com. A 192.0.2.40", "", "");
    let servers = Arc::new(s);
    let config =
        ResolverConfig { stub_zones: vec![(Name::root(), hint("10.0.0.1"))], no_ipv6: true, ..Default::default() };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("www.example.com."), RecordType::A, None).await.expect("an answer");
    assert_eq!(r.answer.answers.len(), 1, "{:?}", r.answer);
    assert!(servers.asked_of("::53").is_empty());
    assert!(!servers.asked_of("10.0.0.1").contains(&(name("ns.bla.com."), RecordType::AAAA)));
}

/// The data a server puts after a CNAME is not taken from that answer: the target is asked for
/// (the AA bit covers the first owner name only, RFC 2181 §5.4.1).
#[tokio::test]
async fn a_cname_target_is_asked_for_not_taken_from_the_same_answer() {
    let mut s = Servers::default();
    s.answer("10.0.0.1", "www.zone. A", true, "www.zone. CNAME next.zone.\nnext.zone. A 192.0.2.66", "", "");
    s.answer("10.0.0.1", "next.zone. A", true, "next.zone. A 192.0.2.1", "", "");
    let servers = Arc::new(s);
    let config = ResolverConfig { stub_zones: vec![(name("zone."), hint("10.0.0.1"))], ..Default::default() };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("www.zone."), RecordType::A, None).await.expect("an answer");
    let data: Vec<String> = r.answer.answers.iter().map(|r| r.data.to_string()).collect();
    assert_eq!(data, ["next.zone.", "192.0.2.1"]);
}

/// A forwarder resolved the chain itself: its answer is taken whole.
#[tokio::test]
async fn a_forwarders_chain_is_taken_whole() {
    let mut s = Servers::default();
    s.answer("10.0.0.9", "www.zone. A", false, "www.zone. CNAME next.zone.\nnext.zone. A 192.0.2.66", "", "");
    let servers = Arc::new(s);
    let config = ResolverConfig { forwarders: hint("10.0.0.9"), ..Default::default() };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("www.zone."), RecordType::A, None).await.expect("an answer");
    assert_eq!(r.answer.answers.len(), 2, "{:?}", r.answer);
    assert_eq!(servers.asked_of("10.0.0.9").len(), 1);
}

/// A parent answering the DS question with a referral to that name carries the DS set in its
/// authority section: that is the answer (the child's servers would have none).
#[tokio::test]
async fn a_ds_set_in_a_referral_to_the_name_asked_is_the_answer() {
    let mut s = Servers::default();
    s.answer(
        "10.0.0.1",
        "sub.zone. DS",
        false,
        "",
        "sub.zone. NS ns.sub.zone.\nsub.zone. DS 30899 5 1 f7ed618f24d5e5202927e1d27bc2e84a141cb4b3",
        "ns.sub.zone. A 10.0.0.6",
    );
    let servers = Arc::new(s);
    let config = ResolverConfig { stub_zones: vec![(name("zone."), hint("10.0.0.1"))], ..Default::default() };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("sub.zone."), RecordType::DS, None).await.expect("an answer");
    assert_eq!(r.answer.answers.len(), 1, "{:?}", r.answer);
    assert_eq!(r.answer.answers[0].record_type(), RecordType::DS);
    assert!(servers.asked_of("10.0.0.6").is_empty());
}

/// An authoritative NODATA that names the zone's own NS set instead of its SOA is an answer;
/// the same without AA is a lame server's.
#[tokio::test]
async fn an_authoritative_nodata_naming_the_zones_ns_set_is_no_lame_referral() {
    let mut s = Servers::default();
    s.answer("10.0.0.1", "ns.zone. AAAA", true, "", "zone. NS ns.zone.", "ns.zone. A 10.0.0.1");
    s.answer("10.0.0.1", "www.zone. AAAA", false, "", "zone. NS ns.zone.", "ns.zone. A 10.0.0.1");
    let servers = Arc::new(s);
    let config = ResolverConfig { stub_zones: vec![(name("zone."), hint("10.0.0.1"))], ..Default::default() };
    let resolver = resolver(config, servers.clone());
    let r = resolver.resolve(&name("ns.zone."), RecordType::AAAA, None).await.expect("a NODATA answer");
    assert!(r.answer.answers.is_empty());
    assert_eq!(r.answer.rcode, ResponseCode::NoError);
    assert!(resolver.resolve(&name("www.zone."), RecordType::AAAA, None).await.is_err());
}

/// A prefetch that fails is not tried again by every question that finds the answer due: the
/// failing servers are asked once, until the retry interval has passed.
#[tokio::test]
async fn a_failed_prefetch_is_not_retried_at_once() {
    let mut s = Servers::default();
    s.answer("10.0.0.9", "www.zone. A", false, "www.zone. 100 A 192.0.2.1", "", "");
    let servers = Arc::new(s);
    let clock = Arc::new(ManualClock::default());
    let config =
        ResolverConfig { forwarders: hint("10.0.0.9"), prefetch: true, cache_entries: 100, ..Default::default() };
    let resolver = Resolver::new(config, servers.clone(), clock.clone());
    resolver.resolve(&name("www.zone."), RecordType::A, None).await.expect("an answer");
    servers.down.store(true, std::sync::atomic::Ordering::SeqCst);
    clock.advance(95);
    let asked = |s: &Servers| s.asked_of("10.0.0.9").len();
    for round in 0..3 {
        let r = resolver.resolve(&name("www.zone."), RecordType::A, None).await.expect("the cached answer");
        assert!(r.from_cache);
        for _ in 0..16 {
            tokio::task::yield_now().await;
        }
        assert_eq!(asked(&servers), 2, "round {round}: one prefetch only");
    }
}

/// A server whose answer was lost is asked once more after the others (here: the only one),
/// not given up at the first timeout; one that fails otherwise is not.
#[tokio::test]
async fn a_server_that_timed_out_is_asked_once_more() {
    let mut s = Servers::default();
    s.answer("10.0.0.9", "www.zone. A", false, "www.zone. A 192.0.2.1", "", "");
    s.lose_next.lock().unwrap().extend(["10.0.0.9".parse::<IpAddr>().unwrap(); 1]);
    let servers = Arc::new(s);
    let config = ResolverConfig { forwarders: hint("10.0.0.9"), ..Default::default() };
    let r = resolver(config, servers.clone());
    let a = r.resolve(&name("www.zone."), RecordType::A, None).await.expect("the second try answers");
    assert_eq!(a.answer.answers.len(), 1);
    assert_eq!(servers.asked_of("10.0.0.9").len(), 2);

    // Twice lost: given up after the second try.
    let mut s = Servers::default();
    s.answer("10.0.0.9", "www.zone. A", false, "www.zone. A 192.0.2.1", "", "");
    s.lose_next.lock().unwrap().extend(["10.0.0.9".parse::<IpAddr>().unwrap(); 2]);
    let servers = Arc::new(s);
    let config = ResolverConfig { forwarders: hint("10.0.0.9"), ..Default::default() };
    let r = resolver(config, servers.clone());
    assert!(r.resolve(&name("www.zone."), RecordType::A, None).await.is_err());
    assert_eq!(servers.asked_of("10.0.0.9").len(), 2);
}

/// A recursive server (RA without AA) answering for a zone it was delegated, with no data and
/// the zone's NS set: not lame, a recursive server's answer, taken when no other server
/// answers better (Unbound's REC_LAME); without RA the same answer is lame.
#[tokio::test]
async fn a_recursive_servers_nodata_is_the_answer_when_nothing_better_comes() {
    let script = |s: &mut Servers| {
        s.answer("10.0.0.1", "mail.zone. A", false, "", "zone. NS ns.zone.", "");
    };
    let mut s = Servers::default();
    script(&mut s);
    s.recursive.push("10.0.0.1".parse().unwrap());
    let servers = Arc::new(s);
    let config = ResolverConfig { stub_zones: vec![(name("zone."), hint("10.0.0.1"))], ..Default::default() };
    let r = resolver(config.clone(), servers).resolve(&name("mail.zone."), RecordType::A, None).await;
    let r = r.expect("the recursive server's answer");
    assert!(r.answer.answers.is_empty() && r.answer.rcode == ResponseCode::NoError);

    let mut s = Servers::default();
    script(&mut s);
    let r = resolver(config, Arc::new(s)).resolve(&name("mail.zone."), RecordType::A, None).await;
    assert!(r.is_err(), "without RA it is a lame referral: {r:?}");
}
