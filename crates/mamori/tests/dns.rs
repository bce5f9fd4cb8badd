//! `mamori up` with `[dns]`: a tenant zone answered to dig over UDP and TCP, the query in the
//! log store, a reload (SIGHUP) that takes a changed zone and keeps it when the next change is
//! broken.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Instance;

const ZONE: &str =
    "$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 900 604800 300\n IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.80\n";

fn dig(m: &Instance, args: &[&str]) -> String {
    let out = Command::new("dig")
        .arg(format!("@{}", m.dns.ip()))
        .args(["-p", &m.dns.port().to_string(), "+time=2", "+tries=1"])
        .args(args)
        .output()
        .expect("dig (bind9-dnsutils) is needed; scripts/test installs it");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(m: &Instance, args: &[&str], want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = dig(m, args);
        if out.contains(want) || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn tenant_zone_served_logged_and_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("midori.zone"), ZONE).unwrap();
    let mut m = Instance::configure(dir.path(), |text| {
        // After the last key of [dns] (the commented zone example follows them).
        text.replacen(
            "\n# [[dns.zones]]\n",
            "\n[[dns.zones]]\ntenant = \"midori\"\norigin = \"city.midori.example.jp\"\nfile = \"midori.zone\"\n\n# [[dns.zones]]\n",
            1,
        )
    });
    m.start();
    let out = dig(&m, &["www.city.midori.example.jp", "A"]);
    assert!(out.contains("192.0.2.80") && out.contains(" aa"), "{out}\n{}", m.log_text());
    let out = dig(&m, &["+tcp", "www.city.midori.example.jp", "A"]);
    assert!(out.contains("192.0.2.80"), "{out}");
    assert!(m.wait_count("event.dataset:dns.query AND dns.question.name:\"www.city.midori.example.jp.\"", 2) >= 2);

    std::fs::write(dir.path().join("midori.zone"), ZONE.replace("192.0.2.80", "192.0.2.81")).unwrap();
    m.signal(libc::SIGHUP);
    let out = wait_for(&m, &["www.city.midori.example.jp", "A"], "192.0.2.81");
    assert!(out.contains("192.0.2.81"), "the reloaded zone: {out}");

    std::fs::write(dir.path().join("midori.zone"), ZONE.replace("192.0.2.80", "192.0.2.999")).unwrap();
    m.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !m.log_text().contains("DNS keeps its running zones") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(m.log_text().contains("midori.zone:"), "the broken file is named:\n{}", m.log_text());
    assert!(dig(&m, &["www.city.midori.example.jp", "A"]).contains("192.0.2.81"), "the old zone stays");
    m.stop();
}
