//! Connection limits with a real client: past `max_tcp_connections` open connections a new
//! one is closed at once (kdig gets no answer) and counted; once one closes, TCP answers again.

mod support;

use std::time::Duration;

use mamori_core::config::dns::{DnsConfig, DnsZone};
use support::{kdig, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connections_over_the_cap_are_closed_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("z.zone"),
        "$TTL 300\n@ IN SOA ns1 h 1 3600 900 604800 300\n IN NS ns1\nns1 IN A 192.0.2.53\n",
    )
    .unwrap();
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
