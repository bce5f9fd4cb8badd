//! Bad input never crashes the service: random bytes and mutated real queries get a reply that
//! decodes (FORMERR among them) or nothing, and UDP replies fit the client's size. The same
//! check as the `dns_packet` fuzz target, run on every test run with a fixed seed.

use std::net::SocketAddr;
use std::str::FromStr;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use mamori_dns::catalog::{Catalog, ServedZone};
use mamori_dns::zone::Zone;
use mamori_dns::{DnsService, DnsState, Reply, Transport};
use rand::{Rng, SeedableRng};

const ZONE: &str = "$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n*.w TXT \"x\"\nc CNAME ns\nsub NS ns.sub\nns.sub A 192.0.2.2\n";

fn service() -> DnsService {
    let origin = Name::from_str("example.").unwrap();
    let zone = Zone::parse(ZONE, &origin, None).unwrap();
    let served = ServedZone::new("t".into(), zone, vec!["127.0.0.1/32".parse().unwrap()]);
    let state = DnsState::new(Catalog::new(vec![served]).unwrap(), Default::default(), vec![], Default::default());
    DnsService::new(state, None, None, Default::default(), Default::default())
}

fn queries() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (name, t) in [
        ("ns.example.", RecordType::A),
        ("a.w.example.", RecordType::TXT),
        ("example.", RecordType::AXFR),
        ("x.sub.example.", RecordType::A),
    ] {
        let mut m = Message::query();
        m.add_query(Query::query(Name::from_str(name).unwrap(), t));
        out.push(m.to_vec().unwrap());
        m.set_edns(Edns::new());
        out.push(m.to_vec().unwrap());
    }
    out
}

#[tokio::test]
async fn random_and_mutated_packets_never_crash() {
    let svc = service();
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261122);
    let client: SocketAddr = "127.0.0.1:5300".parse().unwrap();
    let seeds = queries();
    let mut answered = 0;
    for i in 0..20_000 {
        let packet: Vec<u8> = if i % 2 == 0 {
            let len = rng.random_range(0..64);
            (0..len).map(|_| rng.random()).collect()
        } else {
            let mut p = seeds[i % seeds.len()].clone();
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..p.len());
                p[at] = rng.random();
            }
            if rng.random_bool(0.2) {
                p.truncate(rng.random_range(0..p.len()));
            }
            p
        };
        let transport = if i % 3 == 0 { Transport::Tcp } else { Transport::Udp };
        match svc.handle(&packet, client, transport).await {
            Reply::One(bytes) => {
                Message::from_vec(&bytes).expect("every reply decodes");
                if transport == Transport::Udp {
                    assert!(bytes.len() <= 1232);
                }
                answered += 1;
            }
            Reply::Many(messages) => assert!(messages.iter().all(|m| Message::from_vec(m).is_ok())),
            Reply::Nothing => {}
        }
    }
    assert!(answered > 1000, "most packets get an answer ({answered})");
    assert!(svc.metrics().rejected_count("malformed") > 1000);
}
