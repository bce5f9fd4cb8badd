//! HTTP/2 with prior knowledge ("h2c") towards plain-HTTP origins named in the settings.

mod common;

use common::*;
use mamori_proxy::{H2cOrigin, ProxySettings};

#[test]
fn plain_origins_named_for_h2c_are_spoken_to_in_http2() {
    let settings = ProxySettings { h2c_origins: vec![H2cOrigin::parse("127.0.0.1").unwrap()], ..Default::default() };
    let h = harness(settings);
    for i in 0..3 {
        let url = format!("http://127.0.0.1:{}/h2c?n={i}", h.origin.port());
        let r = h.curl("127.0.0.3", &["-H", "X-Forwarded-For: 10.9.9.9", "-H", "Via: 1.1 town-proxy", &url]);
        assert_eq!(r.code, 200, "{} {}", r.stderr, r.body);
        assert!(r.body.contains("version: HTTP/2.0"), "{}", r.body);
        assert!(r.body.starts_with(&format!("GET {url}\n")), "{}", r.body);
        assert!(!r.body.contains("10.9.9.9") && !r.body.contains("town-proxy"), "{}", r.body);
        // The terminal still speaks HTTP/1.1 to the proxy.
        assert!(r.headers.starts_with("http/1.1 200"), "{}", r.headers);
    }
    // Bodies both ways, and the download scan.
    let url = format!("http://127.0.0.1:{}/upload", h.origin.port());
    let r = h.curl("127.0.0.3", &["--data-binary", "hello h2c", &url]);
    assert!(r.body.contains("body bytes: 9"), "{}", r.body);
    let url = format!("http://127.0.0.1:{}/eicar.com", h.origin.port());
    assert_eq!(h.curl("127.0.0.3", &[&url]).code, 403);
    // An origin not named keeps HTTP/1.1.
    let url = format!("http://localhost:{}/h1", h.origin.port());
    let r = h.curl("127.0.0.3", &[&url]);
    assert!(r.body.contains("version: HTTP/1.1"), "{}", r.body);
    let ev = h.events_for("/h2c?n=");
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert!(ev.iter().all(|e| e["http"]["response"]["status_code"] == 200), "{ev:?}");
}
