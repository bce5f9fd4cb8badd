//! TLS inspection with curl in front (trusting the exported mamori CA) and HTTPS origins behind
//! whose certificates come from a test CA the proxy trusts as extra roots.

mod common;

use common::*;
use mamori_proxy::ProxySettings;

#[test]
fn an_inspected_request_is_filtered_and_logged_with_its_full_url() {
    let h = harness(ProxySettings::default());
    let ca = h.exported_ca(None);
    let url = format!("https://localhost:{}/page?q=1", h.tls_origin.port());
    let r = h.curl("127.0.0.2", &["--cacert", path_str(&ca), "-H", "X-Forwarded-For: 10.9.9.9", &url]);
    assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
    assert!(r.body.starts_with("GET /page?q=1\n"), "{}", r.body);
    assert!(!r.body.contains("x-forwarded-for"), "terminal information reached the origin: {}", r.body);
    let ev = h.events_for("/page?q=1");
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0]["url"]["full"], url);
    assert_eq!(ev[0]["event"]["action"], "allowed");
    assert_eq!(ev[0]["organization"]["id"], "midori");
}

#[test]
fn a_path_rule_only_a_decrypting_proxy_can_see_blocks_with_the_block_page() {
    let h = harness(ProxySettings::default());
    let ca = h.exported_ca(None);
    let url = format!("https://localhost:{}/secret/plan.pdf", h.tls_origin.port());
    let r = h.curl("127.0.0.2", &["--cacert", path_str(&ca), &url]);
    assert_eq!(r.code, 403, "{} {}", r.stderr, r.body);
    assert!(r.body.contains("アクセスがブロックされました") && r.body.contains("tenant:midori:block"), "{}", r.body);
    let ev = h.events_for("/secret/plan.pdf");
    assert_eq!(ev[0]["event"]["action"], "blocked");
    assert_eq!(ev[0]["url"]["full"], url);
}

#[test]
fn a_bypass_domain_is_tunnelled_untouched() {
    let h = harness(ProxySettings::default());
    // Only the origin's own CA is trusted: a minted certificate would fail.
    let url = format!("https://127.0.0.1:{}/bypassed", h.tls_origin.port());
    let r = h.curl("127.0.0.2", &["--cacert", path_str(&h.origin_ca_file()), &url]);
    assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
    assert!(h.events_for("/bypassed").is_empty(), "nothing inside the tunnel is seen");
    // A tenant that does not inspect: the same.
    let url = format!("https://localhost:{}/not-inspected", h.tls_origin.port());
    let r = h.curl("127.0.0.3", &["--cacert", path_str(&h.origin_ca_file()), &url]);
    assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
}

#[test]
fn a_bypass_category_is_tunnelled_untouched() {
    let h = harness(ProxySettings::default());
    // Decrypted before localhost is in the category.
    let ca = h.exported_ca(None);
    let url = format!("https://localhost:{}/before", h.tls_origin.port());
    assert_eq!(h.curl("127.0.0.2", &["--cacert", path_str(&ca), &url]).code, 200);
    assert_eq!(h.events_for("/before").len(), 1);
    // localhost is a bank: みどり市 does not decrypt banking.
    h.ctx.state.store(std::sync::Arc::new(state_with(|b, tenants| {
        let bank = b.list("category:finance").unwrap();
        b.add(bank, mamori_urlfilter::Entry::guess("localhost").unwrap());
        tenants.get_mut("midori").unwrap().tls_bypass.push(bank);
    })));
    let url = format!("https://localhost:{}/banking", h.tls_origin.port());
    let r = h.curl("127.0.0.2", &["--cacert", path_str(&h.origin_ca_file()), &url]);
    assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
    assert!(h.events_for("/banking").is_empty(), "nothing inside the tunnel is seen");
    let ev = h.events_for(&format!("localhost:{}", h.tls_origin.port()));
    assert_eq!(ev.last().unwrap()["http"]["request"]["method"], "CONNECT", "{ev:?}");
    assert_eq!(ev.last().unwrap()["mamori"]["url_categories"][0], "finance", "{ev:?}");
}

#[test]
fn a_terminal_that_rejects_the_mamori_ca_gets_a_plain_tunnel_next_time() {
    let h = harness(ProxySettings::default());
    // A pinning client: it trusts only the origin's CA.
    let url = format!("https://localhost:{}/pinned", h.tls_origin.port());
    let first = h.curl("127.0.0.2", &["--cacert", path_str(&h.origin_ca_file()), &url]);
    assert!(!first.ok, "the minted certificate was accepted: {}", first.body);
    let ev = h.events_for(&format!("localhost:{}", h.tls_origin.port()));
    let bypass = ev.iter().find(|e| e["event"]["action"] == "bypassed").expect("a log entry for the bypass");
    assert!(bypass["error"]["message"].as_str().unwrap().contains("rejected"), "{bypass}");
    let second = h.curl("127.0.0.2", &["--cacert", path_str(&h.origin_ca_file()), &url]);
    assert_eq!(second.code, 200, "{} {}", second.stderr, second.body);
}

/// A terminal that starts the TLS handshake in a tunnel to `localhost:port` and hangs up once
/// the proxy answers, as a browser does when the user cancels.
fn abandon_handshake(h: &Harness, port: u16) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let mut s = socket.connect(h.proxy).await.unwrap();
        s.write_all(format!("CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(s.read_u8().await.unwrap());
        }
        assert!(head.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head));
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let mut tls =
            rustls::ClientConnection::new(std::sync::Arc::new(config), "localhost".try_into().unwrap()).unwrap();
        let mut hello = Vec::new();
        tls.write_tls(&mut hello).unwrap();
        s.write_all(&hello).await.unwrap();
        // The proxy's ServerHello: it is in the handshake with the terminal now.
        let mut answer = [0u8; 5];
        s.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer[0], 22, "a TLS handshake record");
    });
}

#[test]
fn a_terminal_that_only_hangs_up_is_not_taken_for_pinning_until_it_keeps_doing_so() {
    let h = harness(ProxySettings::default());
    let ca = h.exported_ca(None);
    let port = h.tls_origin.port();
    abandon_handshake(&h, port);
    // Still decrypted after one cancelled handshake.
    let url = format!("https://localhost:{port}/after-one-hang-up");
    let r = h.curl("127.0.0.2", &["--cacert", path_str(&ca), &url]);
    assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
    assert_eq!(h.events_for("/after-one-hang-up").len(), 1, "the request inside the tunnel is seen");
    assert!(h.events_for(&format!("localhost:{port}")).iter().all(|e| e["event"]["action"] != "bypassed"));
    // A terminal that abandons every handshake is pinning: the host is tunnelled from then on.
    abandon_handshake(&h, port);
    abandon_handshake(&h, port);
    let mut bypass = None;
    for _ in 0..50 {
        let ev = h.events_for(&format!("localhost:{port}"));
        bypass = ev.into_iter().find(|e| e["event"]["action"] == "bypassed");
        if bypass.is_some() {
            break;
        }
    }
    let bypass = bypass.expect("a log entry for the bypass after repeated hang-ups");
    assert!(bypass["error"]["message"].as_str().unwrap().contains("abandoned"), "{bypass}");
    let url = format!("https://localhost:{port}/after-hang-ups");
    let r = h.curl("127.0.0.2", &["--cacert", path_str(&h.origin_ca_file()), &url]);
    assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
}

#[test]
fn an_origin_that_wants_a_client_certificate_is_tunnelled() {
    let h = harness(ProxySettings::default());
    let (cert, key) = h.origin_ca.issue(&["terminal.midori.example"]);
    let (cert, key) = (h.file("client.pem", &cert), h.file("client.key", &key));
    let url = format!("https://localhost:{}/mtls", h.mtls_origin.port());
    let origin_ca = h.origin_ca_file();
    let args = ["--cacert", path_str(&origin_ca), "--cert", path_str(&cert), "--key", path_str(&key), &url];
    let r = h.curl("127.0.0.2", &args);
    assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
    let ev = h.events_for(&format!("localhost:{}", h.mtls_origin.port()));
    let bypass = ev.iter().find(|e| e["event"]["action"] == "bypassed").expect("a log entry for the bypass");
    assert!(bypass["error"]["message"].as_str().unwrap().contains("client certificate"), "{bypass}");
}

#[test]
fn an_origin_whose_certificate_does_not_verify_gets_a_japanese_error_page() {
    let h = harness(ProxySettings::default());
    let ca = h.exported_ca(None);
    let url = format!("https://localhost:{}/rogue", h.rogue_origin.port());
    let r = h.curl("127.0.0.2", &["--cacert", path_str(&ca), &url]);
    assert_eq!(r.code, 502, "{} {}", r.stderr, r.body);
    assert!(r.body.contains("安全な接続を確認できませんでした"), "{}", r.body);
    let ev = h.events_for("/rogue");
    assert_eq!(ev[0]["event"]["action"], "error");
}

#[test]
fn a_tenant_with_its_own_ca_is_served_certificates_of_that_ca() {
    let h = harness(ProxySettings::default());
    let mut state = state();
    state.tenants.get_mut("midori").unwrap().tls_ca = Some("midori".into());
    h.ctx.state.store(std::sync::Arc::new(state));
    let own = std::fs::read_to_string(h.exported_ca(Some("midori"))).unwrap();
    let common = std::fs::read_to_string(h.exported_ca(None)).unwrap();
    assert_ne!(own, common);
    let own = h.file("own-ca.pem", &own);
    let url = format!("https://localhost:{}/own-ca", h.tls_origin.port());
    let r = h.curl("127.0.0.2", &["--cacert", path_str(&own), &url]);
    assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
}

#[test]
fn origins_that_offer_http2_are_spoken_to_in_http2() {
    let h = harness(ProxySettings::default());
    let ca = h.exported_ca(None);
    let ca = path_str(&ca);
    for i in 0..3 {
        let url = format!("https://localhost:{}/h2?n={i}", h.h2_origin.port());
        let r = h.curl("127.0.0.2", &["--cacert", ca, "-H", "X-Real-IP: 10.9.9.9", &url]);
        assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
        assert!(r.body.contains("version: HTTP/2.0"), "{}", r.body);
        assert!(r.body.starts_with(&format!("GET {url}\n")), "{}", r.body);
        assert!(!r.body.contains("x-real-ip"), "{}", r.body);
    }
    let url = format!("https://localhost:{}/eicar.com", h.h2_origin.port());
    assert_eq!(h.curl("127.0.0.2", &["--cacert", ca, &url]).code, 403);
    // Origins that do not offer it keep HTTP/1.1.
    let url = format!("https://localhost:{}/h1", h.tls_origin.port());
    let r = h.curl("127.0.0.2", &["--cacert", ca, &url]);
    assert!(r.body.contains("version: HTTP/1.1"), "{}", r.body);
}
