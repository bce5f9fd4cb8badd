//! Connection limits with a real client: past `max_tcp_connections` open connections a new
//! one is closed at once (kdig gets no answer) and counted; once one closes, TCP answers again.

mod support;

use std::time::Duration;

use mamori_core::config::dns::{DnsConfig, DnsZone};
use support::{kdig, start};

/// A directory holding `z.zone`, the smallest zone the limits are tried on.
fn minimal_zone_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("z.zone"),
        "$TTL 300\n@ IN SOA ns1 h 1 3600 900 604800 300\n IN NS ns1\nns1 IN A 192.0.2.53\n",
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connections_over_the_cap_are_closed_and_counted() {
    let dir = minimal_zone_dir();
    let config = DnsConfig {
        recursion: false,
        max_tcp_connections: 1,
        zones: vec![DnsZone {
            tenant: "midori".into(),
            origin: "limit.example.jp".into(),
            file: "z.zone".into(),
            transfer_allow: vec![],
            notify: vec![],
            transfer_keys: vec![],
        }],
        ..Default::default()
    };
    let s = start(&config, dir.path(), "127.0.0.1").await;
    let idle = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = kdig(&s, &["+tcp", "ns1.limit.example.jp", "A"]).await;
    assert!(!out.contains("192.0.2.53"), "the second connection is over the cap: {out}");
    assert!(s.service.metrics().rejected_count("tcp_connections") >= 1);
    drop(idle);
    let mut answered = false;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if kdig(&s, &["+tcp", "ns1.limit.example.jp", "A"]).await.contains("192.0.2.53") {
            answered = true;
            break;
        }
    }
    assert!(answered, "a slot is free again once the idle connection closed");
    // UDP is not limited by it.
    assert!(kdig(&s, &["ns1.limit.example.jp", "A"]).await.contains("192.0.2.53"));
}

/// Response rate limiting: a burst of UDP queries from 127.0.0.2 (not a tenant) gets a
/// second's worth of answers, every other limited one empty with TC, the rest none, all
/// counted; over TCP the same client is answered; the tenant's 127.0.0.1 is exempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_answers_past_the_rate_are_dropped_or_truncated_and_counted() {
    let dir = minimal_zone_dir();
    let config = DnsConfig {
        recursion: false,
        rate_limit: Some(mamori_core::config::dns::DnsRateLimit {
            responses_per_second: 5,
            slip: 2,
            ipv4_prefix: 32,
            ipv6_prefix: 56,
            exempt: vec![],
            exempt_tenants: true,
        }),
        zones: vec![DnsZone {
            tenant: "midori".into(),
            origin: "rrl.example.jp".into(),
            file: "z.zone".into(),
            transfer_allow: vec![],
            notify: vec![],
            transfer_keys: vec![],
        }],
        ..Default::default()
    };
    let s = start(&config, dir.path(), "127.0.0.1").await;
    let (full, truncated) = burst(s.addr, "127.0.0.2:0", 100).await;
    assert!((1..100).contains(&full), "{full} full answers");
    assert!(truncated >= 1, "{truncated} truncated answers");
    assert!(s.service.metrics().rejected_count("rate_limited") >= 1);
    assert!(s.service.metrics().rejected_count("rate_limited_tc") >= 1);
    // A real client retries the truncated answer over TCP, which is not limited.
    let out = kdig(&s, &["-b", "127.0.0.2", "+tcp", "ns1.rrl.example.jp", "A"]).await;
    assert!(out.contains("192.0.2.53"), "{out}");
    let (full, truncated) = burst(s.addr, "127.0.0.1:0", 30).await;
    assert_eq!((full, truncated), (30, 0), "the tenant's network is exempt");
}

/// Sends `count` queries at once from `from`, then reads answers until none comes for a
/// while: how many were full answers and how many empty with TC.
async fn burst(server: std::net::SocketAddr, from: &str, count: u16) -> (usize, usize) {
    let socket = tokio::net::UdpSocket::bind(from).await.unwrap();
    for id in 0..count {
        let mut m = hickory_proto::op::Message::query();
        m.metadata.id = id;
        m.add_query(hickory_proto::op::Query::query(
            hickory_proto::rr::Name::from_ascii("ns1.rrl.example.jp.").unwrap(),
            hickory_proto::rr::RecordType::A,
        ));
        socket.send_to(&m.to_vec().unwrap(), server).await.unwrap();
    }
    let (mut full, mut truncated) = (0, 0);
    let mut buf = [0u8; 1500];
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1500), socket.recv(&mut buf)).await {
        let m = hickory_proto::op::Message::from_vec(&buf[..n]).unwrap();
        if m.metadata.truncation {
            truncated += 1;
        } else if !m.answers.is_empty() {
            full += 1;
        }
    }
    (full, truncated)
}
