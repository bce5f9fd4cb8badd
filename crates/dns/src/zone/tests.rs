use std::str::FromStr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};

use super::Zone;
use super::lookup::answer;

const ZONE: &str = r#"
$ORIGIN example.lg.jp.
$TTL 3600
@       IN SOA ns1 hostmaster ( 2026112201 ; serial
                3600 900 604800 300 )
        IN NS  ns1
        IN NS  ns2.example.net.
        IN MX  10 mail
        IN TXT "v=spf1 mx -all"
        IN CAA 0 issue "letsencrypt.org"
ns1     IN A   192.0.2.53
        IN AAAA 2001:db8::53
mail    IN A   192.0.2.25
www     IN CNAME web
web     IN A   192.0.2.80
        IN AAAA 2001:db8::80
*.wild  IN A   192.0.2.99
        IN TXT "wild"
host.wild IN A 192.0.2.98
a.b.ent IN A   192.0.2.1
_sip._tcp IN SRV 10 60 5060 web
sub     IN NS  ns.sub
ns.sub  IN A   192.0.2.54
loop1   IN CNAME loop2
loop2   IN CNAME loop1
"#;

fn zone() -> Zone {
    Zone::parse(ZONE, &name("example.lg.jp."), None).unwrap()
}

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

#[test]
fn apex_data_and_additional_addresses() {
    let z = zone();
    assert_eq!(z.serial(), 2026112201);
    let a = answer(&z, &name("Example.LG.jp."), RecordType::MX);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.authoritative);
    assert_eq!(a.answers.len(), 1);
    assert_eq!(a.additional.len(), 1, "the mail host's address: {:?}", a.additional);
    assert_eq!(answer(&z, &name("example.lg.jp."), RecordType::TXT).answers.len(), 1);
    assert_eq!(answer(&z, &name("example.lg.jp."), RecordType::CAA).answers.len(), 1);
    let srv = answer(&z, &name("_sip._tcp.example.lg.jp."), RecordType::SRV);
    assert_eq!(srv.answers.len(), 1);
    assert_eq!(srv.additional.len(), 2);
}

#[test]
fn cname_is_followed_inside_the_zone() {
    let a = answer(&zone(), &name("www.example.lg.jp."), RecordType::AAAA);
    let types: Vec<RecordType> = a.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(types, vec![RecordType::CNAME, RecordType::AAAA]);
}

#[test]
fn cname_loops_end() {
    let a = answer(&zone(), &name("loop1.example.lg.jp."), RecordType::A);
    assert!(a.answers.len() <= 16);
}

#[test]
fn nxdomain_and_nodata_carry_the_soa_with_the_negative_ttl() {
    let z = zone();
    let nx = answer(&z, &name("nothing.example.lg.jp."), RecordType::A);
    assert_eq!(nx.rcode, ResponseCode::NXDomain);
    assert_eq!(nx.authority.len(), 1);
    assert_eq!(nx.authority[0].record_type(), RecordType::SOA);
    assert_eq!(nx.authority[0].ttl, 300, "RFC 2308: min(SOA TTL, MINIMUM)");
    let nodata = answer(&z, &name("mail.example.lg.jp."), RecordType::AAAA);
    assert_eq!(nodata.rcode, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    assert_eq!(nodata.authority[0].record_type(), RecordType::SOA);
}

#[test]
fn empty_non_terminals_are_nodata_not_nxdomain() {
    let a = answer(&zone(), &name("b.ent.example.lg.jp."), RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.answers.is_empty());
}

#[test]
fn wildcards_per_rfc_4592() {
    let z = zone();
    let a = answer(&z, &name("x.wild.example.lg.jp."), RecordType::A);
    assert_eq!(a.answers.len(), 1);
    assert_eq!(a.answers[0].name, name("x.wild.example.lg.jp."));
    // Deeper names are synthesised by the same wildcard (the closest encloser is wild.).
    assert_eq!(answer(&z, &name("y.x.wild.example.lg.jp."), RecordType::TXT).answers.len(), 1);
    // An existing name blocks the wildcard, for every type.
    let host = answer(&z, &name("host.wild.example.lg.jp."), RecordType::TXT);
    assert!(host.answers.is_empty());
    assert_eq!(host.rcode, ResponseCode::NoError);
    // Below an existing name the wildcard of wild. does not apply (closest encloser is host).
    let below = answer(&z, &name("z.host.wild.example.lg.jp."), RecordType::A);
    assert_eq!(below.rcode, ResponseCode::NXDomain);
    // Wildcard with a type it lacks: NODATA.
    assert!(answer(&z, &name("q.wild.example.lg.jp."), RecordType::MX).answers.is_empty());
}

#[test]
fn delegations_give_referrals_with_glue() {
    let a = answer(&zone(), &name("www.sub.example.lg.jp."), RecordType::A);
    assert!(!a.authoritative);
    assert!(a.answers.is_empty());
    assert_eq!(a.authority.len(), 1);
    assert_eq!(a.authority[0].record_type(), RecordType::NS);
    assert_eq!(a.additional.len(), 1);
    assert_eq!(a.rcode, ResponseCode::NoError);
}

#[test]
fn errors_name_the_line() {
    let bad = "$TTL 60\n@ IN SOA ns h 1 2 3 4 5\n@ IN NS ns\nx IN A 999.1.1.1\n";
    let e = Zone::parse(bad, &name("example."), None).unwrap_err();
    assert!(e.contains(":4:"), "{e}");
    let e = Zone::parse("$TTL 60\n@ IN NS ns\n", &name("example."), None).unwrap_err();
    assert!(e.contains("SOA"), "{e}");
    let e = Zone::parse("$TTL 60\n@ IN SOA ns h 1 2 3 4 5\nout.example.org. IN A 1.2.3.4\n", &name("example."), None)
        .unwrap_err();
    assert!(e.contains("outside"), "{e}");
    let e = Zone::parse("@ IN SOA ns h ( 1 2 3 4 5\n", &name("example."), None).unwrap_err();
    assert!(e.contains("not closed"), "{e}");
}

#[test]
fn reverse_zones_serve_ptr() {
    let text = "$TTL 1h\n@ SOA ns.example. h.example. 1 2 3 4 5\n NS ns.example.\n25 PTR mail.example.lg.jp.\n";
    let z = Zone::parse(text, &name("2.0.192.in-addr.arpa."), None).unwrap();
    let a = answer(&z, &name("25.2.0.192.in-addr.arpa."), RecordType::PTR);
    assert_eq!(a.answers.len(), 1);
}

#[test]
fn transfer_lists_every_record_soa_first() {
    let z = zone();
    let all: Vec<_> = z.all_records().collect();
    assert_eq!(all[0].record_type(), RecordType::SOA);
    assert_eq!(all.len(), z.record_count());
}

/// NOTIFY for a held zone is heeded from its primaries and from `allow_notify`: addresses,
/// and host names once looked up (IPv4-mapped sources count as IPv4).
#[test]
fn notify_is_heeded_from_primaries_and_allowed_notifiers() {
    use crate::rpz::secondary::Notifiers;
    use crate::zone::held::HeldZone;
    let name = Name::from_str("held.example.").unwrap();
    let primary = "192.0.2.1:53".parse().unwrap();
    let mut held = HeldZone::new(&name, vec![primary], None, vec![], 0).unwrap();
    let ns = Name::from_str("ns.example.net.").unwrap();
    held.notifiers = Notifiers::new(vec!["192.0.2.7".parse().unwrap()], vec![(ns, 53)]);
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    assert!(held.is_primary(ip("192.0.2.1")) && held.is_primary(ip("192.0.2.7")));
    assert!(held.notifiers.allows(ip("::ffff:192.0.2.7")));
    assert!(!held.is_primary(ip("192.0.2.9")), "not yet looked up");
    held.notifiers.set_looked_up(vec!["192.0.2.9:53".parse().unwrap()]);
    assert!(held.is_primary(ip("192.0.2.9")) && !held.is_primary(ip("192.0.2.10")));
}
