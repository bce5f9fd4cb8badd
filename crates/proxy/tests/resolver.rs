//! Origins' names through the configured DNS server: a small one here answers 127.0.0.1 for
//! every name under mamori.test, which the system resolver does not know.

mod common;

use std::net::{SocketAddr, UdpSocket};

use common::*;
use mamori_proxy::ProxySettings;

/// Answers A queries under mamori.test with 127.0.0.1, anything else with no address.
fn dns_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let q = &buf[..n];
            // The question: labels up to the root, then type and class.
            let mut at = 12;
            let mut name = Vec::new();
            while at < q.len() && q[at] != 0 {
                let len = q[at] as usize;
                name.push(String::from_utf8_lossy(&q[at + 1..at + 1 + len]).to_lowercase());
                at += 1 + len;
            }
            let end = at + 5;
            let qtype = u16::from_be_bytes([q[at + 1], q[at + 2]]);
            let answer = qtype == 1 && name.join(".").ends_with("mamori.test");
            let mut r = Vec::from(&q[..2]);
            r.extend([0x81, 0x80, 0, 1, 0, answer as u8, 0, 0, 0, 0]);
            r.extend(&q[12..end]);
            if answer {
                r.extend([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
            }
            let _ = socket.send_to(&r, from);
        }
    });
    addr
}

#[test]
fn origins_are_resolved_by_the_configured_dns_server() {
    let h = harness_with(ProxySettings::default(), Some(dns_server()));
    let url = format!("http://www.mamori.test:{}/by-dns", h.origin.port());
    let r = h.curl("127.0.0.3", &[&url]);
    assert_eq!(r.code, 200, "{}", r.body);
    assert!(r.body.starts_with("GET /by-dns"), "{}", r.body);
    // Tunnels too.
    let url = format!("http://tunnel.mamori.test:{}/tunnel-by-dns", h.origin.port());
    let r = h.curl("127.0.0.3", &["-p", &url]);
    assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
    // A name the server does not know.
    let r = h.curl("127.0.0.3", &[&format!("http://www.other.test:{}/", h.origin.port())]);
    assert_eq!(r.code, 502);
    assert!(r.body.contains("接続できませんでした"), "{}", r.body);
}
