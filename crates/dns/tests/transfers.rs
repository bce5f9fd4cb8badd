//! Zone transfers with real clients and a real secondary on 127.0.0.1: IXFR from the journal of
//! reloads (dig and kdig), TSIG-signed transfers allowed and refused (dig -y, kdig -y), and BIND
//! as a TSIG-using secondary that pulls the zone, then gets the new serial by NOTIFY and IXFR.

mod support;

use std::path::Path;
use std::time::Duration;

use mamori_core::config::dns::{DnsConfig, DnsZone, TsigKey};
use support::{dig, kdig, run, settle, start, tenants};

const SECRET: &str = "c2VjcmV0LWZvci10aGUtdHJhbnNmZXItdGVzdHMtb25seQ==";
const WRONG: &str = "YW5vdGhlci1zZWNyZXQtZW50aXJlbHktMTIzNDU2Nzg=";

fn zone(serial: u32, extra: &str) -> String {
    format!(
        "$TTL 300\n@ IN SOA ns1 hostmaster {serial} 3600 900 604800 300\n  IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.80\n{extra}"
    )
}

fn config(notify: Vec<std::net::SocketAddr>) -> DnsConfig {
    DnsConfig {
        recursion: false,
        zones: vec![DnsZone {
            tenant: "midori".into(),
            origin: "xfr.midori.example.jp".into(),
            file: "xfr.zone".into(),
            transfer_allow: vec!["127.0.0.1/32".parse().unwrap()],
            notify,
            transfer_keys: vec!["xfr-key".into()],
        }],
        tsig_keys: vec![TsigKey { name: "xfr-key".into(), algorithm: "hmac-sha256".into(), secret: SECRET.into() }],
        ..Default::default()
    }
}

fn reload(s: &support::Server, config: &DnsConfig, dir: &Path) {
    mamori_dns::build::reload(&s.service, config, &tenants(), dir).expect("the reload works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ixfr_sends_the_changes_since_the_clients_serial() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("xfr.zone"), zone(1, "")).unwrap();
    let config = config(vec![]);
    let s = start(&config, dir.path(), "127.0.0.1").await;
    std::fs::write(dir.path().join("xfr.zone"), zone(2, "mail IN A 192.0.2.25\n")).unwrap();
    reload(&s, &config, dir.path());
    std::fs::write(dir.path().join("xfr.zone"), zone(3, "mail IN A 192.0.2.26\n")).unwrap();
    reload(&s, &config, dir.path());
    // From serial 1: two changes, SOA 3 first and last, no unchanged www record.
    let out = dig(&s, &["xfr.midori.example.jp", "IXFR=1"]).await;
    assert_eq!(out.matches("\tSOA\t").count(), 6, "{out}");
    assert!(out.contains("192.0.2.25") && out.contains("192.0.2.26") && !out.contains("192.0.2.80"), "{out}");
    let out = kdig(&s, &["xfr.midori.example.jp", "IXFR=2"]).await;
    assert!(out.contains("192.0.2.25") && out.contains("192.0.2.26") && !out.contains("192.0.2.80"), "{out}");
    // Already current: the SOA alone; unknown serial: the whole zone.
    let out = dig(&s, &["xfr.midori.example.jp", "IXFR=3"]).await;
    assert_eq!(out.matches("\tSOA\t").count(), 1, "{out}");
    let out = dig(&s, &["xfr.midori.example.jp", "IXFR=99"]).await;
    assert!(out.contains("192.0.2.80") && out.contains("192.0.2.26") && !out.contains("192.0.2.25"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("xfr.zone"), zone(1, "")).unwrap();
    let config = config(vec![]);
    let s = start(&config, dir.path(), "127.0.0.1").await;
    std::fs::write(dir.path().join("xfr.zone"), zone(2, "mail IN A 192.0.2.25\n")).unwrap();
    reload(&s, &config, dir.path());
    assert!(dir.path().join("xfr.zone.jnl").exists(), "the journal is written beside the zone");
    drop(s);
    // Started again: IXFR from serial 1 is still the change alone, from the journal.
    let s = start(&config, dir.path(), "127.0.0.1").await;
    let out = dig(&s, &["xfr.midori.example.jp", "IXFR=1"]).await;
    assert_eq!(out.matches("\tSOA\t").count(), 4, "{out}");
    assert!(out.contains("192.0.2.25") && !out.contains("192.0.2.80"), "{out}");
    drop(s);
    // A zone file edited while mamori was down: the journal no longer fits, AXFR form.
    std::fs::write(dir.path().join("xfr.zone"), zone(3, "mail IN A 192.0.2.26\n")).unwrap();
    let s = start(&config, dir.path(), "127.0.0.1").await;
    let out = dig(&s, &["xfr.midori.example.jp", "IXFR=1"]).await;
    assert!(out.contains("192.0.2.80") && out.contains("192.0.2.26"), "{out}");
}

/// At start every zone's secondaries get a NOTIFY, signed with the zone's transfer key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_at_start_is_signed_with_the_zones_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("xfr.zone"), zone(7, "")).unwrap();
    let secondary = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let config = config(vec![secondary.local_addr().unwrap()]);
    let _s = start(&config, dir.path(), "127.0.0.1").await;
    let mut buf = [0u8; 1500];
    let (n, from) = tokio::time::timeout(Duration::from_secs(10), secondary.recv_from(&mut buf))
        .await
        .expect("a NOTIFY at start")
        .unwrap();
    assert_eq!((buf[2] >> 3) & 0x0f, 4, "opcode NOTIFY");
    use base64::Engine;
    let secret = base64::engine::general_purpose::STANDARD.decode(SECRET).unwrap();
    let key = mamori_dns::tsig::Key::new("xfr-key", mamori_dns::tsig::Algorithm::HmacSha256, secret).unwrap();
    let checked = mamori_dns::tsig::check(&buf[..n], &mamori_dns::tsig::Keys::new(vec![key]));
    let mamori_dns::tsig::Checked::Signed(unsigned, _) = checked else {
        panic!("the NOTIFY is not signed with xfr-key")
    };
    let m = hickory_proto::op::Message::from_vec(&unsigned).unwrap();
    assert_eq!(m.queries[0].name().to_ascii(), "xfr.midori.example.jp.");
    // Acknowledged, so it is not sent again.
    let mut ack = unsigned.clone();
    ack[2] |= 0x80;
    secondary.send_to(&ack, from).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tsig_signed_transfers_are_allowed_and_bad_keys_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("xfr.zone"), zone(1, "")).unwrap();
    let s = start(&config(vec![]), dir.path(), "127.0.0.1").await;
    let good = format!("hmac-sha256:xfr-key:{SECRET}");
    let wrong = format!("hmac-sha256:xfr-key:{WRONG}");
    // 127.0.0.2 is not in transfer_allow: only the key lets it transfer.
    let out = dig(&s, &["-b", "127.0.0.2", "-y", &good, "xfr.midori.example.jp", "AXFR"]).await;
    assert!(out.contains("192.0.2.80") && !out.contains("failed"), "{out}");
    let out = kdig(&s, &["-b", "127.0.0.2", "-y", &good, "xfr.midori.example.jp", "AXFR"]).await;
    assert!(out.contains("192.0.2.80") && !out.contains("REFUSED"), "{out}");
    let out = kdig(&s, &["-y", &good, "www.xfr.midori.example.jp", "A"]).await;
    assert!(out.contains("192.0.2.80") && out.contains("TSIG"), "a signed answer: {out}");
    let out = dig(&s, &["-b", "127.0.0.2", "-y", &wrong, "xfr.midori.example.jp", "AXFR"]).await;
    assert!(!out.contains("192.0.2.80"), "{out}");
    let out = kdig(&s, &["-b", "127.0.0.2", "-y", &wrong, "xfr.midori.example.jp", "AXFR"]).await;
    assert!(!out.contains("192.0.2.80"), "{out}");
    let out = dig(&s, &["-b", "127.0.0.2", "xfr.midori.example.jp", "AXFR"]).await;
    assert!(!out.contains("192.0.2.80"), "unsigned from elsewhere: {out}");
    settle().await;
    let events = s.events.events();
    let bad_sig = events.iter().find(|e| e.extra["dns"]["response_code"] == "NOTAUTH").expect("a NOTAUTH event");
    let reason = bad_sig.event.extra["reason"].as_str().unwrap_or("");
    assert!(reason.contains("bad signature"), "{reason}");
    assert!(events.iter().all(|e| !serde_json::to_string(e).unwrap().contains(SECRET)), "no secret in any event");
    assert!(s.service.metrics().rejected_count("tsig") >= 2);
}

fn free_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// BIND's answer for `name` at `port`, with `dig +short`.
async fn ask_named(port: u16, name: &str) -> String {
    let args: Vec<String> =
        ["@127.0.0.1", "-p", &port.to_string(), "+short", "+time=1", "+tries=1", name, "A"].map(String::from).to_vec();
    run("dig", &args).await
}

async fn wait_for(port: u16, name: &str, want: &str) -> bool {
    for _ in 0..100 {
        if ask_named(port, name).await.contains(want) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_secondary_pulls_with_tsig_and_follows_notify() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("xfr.zone"), zone(1, "")).unwrap();
    let named_port = free_port();
    let notify_to = format!("127.0.0.1:{named_port}").parse().unwrap();
    let mut config = config(vec![notify_to]);
    // Only the key lets BIND transfer: no address is allowed.
    config.zones[0].transfer_allow.clear();
    let s = start(&config, dir.path(), "127.0.0.1").await;
    let d = dir.path().display();
    let named_conf = format!(
        r#"key "xfr-key" {{ algorithm hmac-sha256; secret "{SECRET}"; }};
options {{
  directory "{d}";
  listen-on port {named_port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  recursion no;
  pid-file "{d}/named.pid";
  dnssec-validation no;
  notify no;
}};
server 127.0.0.1 {{ keys {{ xfr-key; }}; }};
zone "xfr.midori.example.jp" {{
  type secondary;
  primaries {{ 127.0.0.1 port {} key xfr-key; }};
  file "{d}/secondary.db";
}};
"#,
        s.addr.port()
    );
    std::fs::write(dir.path().join("named.conf"), named_conf).unwrap();
    let mut named = std::process::Command::new("named")
        .args(["-g", "-c"])
        .arg(dir.path().join("named.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("named.log")).unwrap())
        .spawn()
        .expect("named from bind9 (.ci/run installs it)");
    let log = || std::fs::read_to_string(dir.path().join("named.log")).unwrap_or_default();
    let pulled = wait_for(named_port, "www.xfr.midori.example.jp", "192.0.2.80").await;
    if !pulled {
        let _ = named.kill();
        panic!("BIND did not transfer the zone:\n{}", log());
    }
    std::fs::write(dir.path().join("xfr.zone"), zone(2, "mail IN A 192.0.2.25\n")).unwrap();
    reload(&s, &config, dir.path());
    let followed = wait_for(named_port, "mail.xfr.midori.example.jp", "192.0.2.25").await;
    let _ = named.kill();
    let _ = named.wait();
    let log = log();
    assert!(followed, "BIND did not follow the NOTIFY:\n{log}");
    assert!(log.contains("notify from 127.0.0.1"), "{log}");
    settle().await;
    let ixfr = s
        .events
        .events()
        .into_iter()
        .any(|e| e.extra["dns"]["question"]["type"] == "IXFR" && e.extra["dns"]["response_code"] == "NOERROR");
    assert!(ixfr, "BIND asked for IXFR and got it: {log}");
}
