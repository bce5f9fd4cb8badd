//! `mamori up` with an edge site: a missing certificate is a clear error at check-config and at
//! start; then requests pass or are blocked, and their access and alert events are searchable.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::*;

/// An origin that answers every request with `hello` (one request per connection).
fn origin() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().map_while(Result::ok) {
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            );
        }
    });
    addr
}

#[test]
fn edge_sites_under_mamori_up() {
    let crs = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/crs");
    assert!(crs.join("rules").is_dir(), "the OWASP CRS of the shared test data is missing at {}", crs.display());
    let dir = tempfile::tempdir().unwrap();
    let [http_port, https_port] = free_ports();
    let origin = origin();
    let site = |tls: &str| {
        format!(
            "[[edge.sites]]\nname = \"midori-www\"\ntenant = \"midori\"\nhosts = [\"www.city.midori.example.jp\"]\n\
             origins = [\"http://{origin}\"]\nruleset = \"crs\"\n{tls}\n"
        )
    };
    let edit = |tls: &'static str| {
        let crs = crs.clone();
        let site = site(tls);
        move |t: String| {
            t.replace("127.0.0.1:8080", &format!("127.0.0.1:{http_port}"))
                .replace("127.0.0.1:8443", &format!("127.0.0.1:{https_port}"))
                .replace("setup = \"crs/crs-setup.conf\"", &format!("setup = {:?}", crs.join("crs-setup.conf.example")))
                .replace("rules = [\"crs/rules/*.conf\"]", &format!("rules = [{:?}]", crs.join("rules/*.conf")))
                .replace("# One block per site:", &site)
        }
    };

    let m = Instance::configure(dir.path(), edit("tls_cert = \"certs/www.crt\"\ntls_key = \"certs/www.key\""));
    let out = m.cli(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("edge.sites[0].tls_cert") && err.contains("certs/www.crt"), "{err}");
    let up = m.cli(&["up"]);
    let err = String::from_utf8_lossy(&up.stderr);
    assert!(!up.status.success() && err.contains("the edge cannot start") && err.contains("certs/www.crt"), "{err}");

    let mut m = Instance::configure(dir.path(), edit(""));
    m.cli_ok(&["check-config"]);
    m.start();
    let agent = http();
    let url = |path: &str| format!("http://127.0.0.1:{http_port}{path}");
    let get = |path: &str| agent.get(url(path)).header("Host", "www.city.midori.example.jp").call().unwrap();
    let mut ok = get("/");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.body_mut().read_to_string().unwrap(), "hello");
    let mut blocked = get("/?id=1%27%20OR%201=1--");
    assert_eq!(blocked.status(), 403);
    assert!(blocked.body_mut().read_to_string().unwrap().contains("アクセスがブロックされました"));

    assert!(m.wait_count("event.dataset:edge.access AND organization.id:midori", 2) >= 2, "{}", m.log_text());
    assert!(m.wait_count("event.dataset:edge.waf AND event.kind:alert AND rule.id:942100", 1) >= 1);
    assert!(
        m.wait_count(
            "event.dataset:edge.access AND http.response.status_code:403 AND mamori.edge.waf.action:blocked",
            1
        ) >= 1
    );
    m.stop();
}
