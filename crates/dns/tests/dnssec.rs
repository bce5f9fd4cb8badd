//! DNSSEC validation in mamori's resolver, with dig: a zone signed by BIND's
//! `dnssec-signzone` (ECDSA P-256, NSEC) is served by BIND's `named`; the resolver forwards to
//! it with the zone's key-signing key as its trust anchor. Validated answers carry AD and,
//! for clients that set DO, their signatures; a record changed after signing makes the answer
//! bogus: SERVFAIL, unless the client sets CD. Denials are validated by their NSEC proofs, a
//! wildcard's answer by the NSEC that shows the name itself does not exist, and an unsigned
//! child zone is insecure by the NSEC that shows its delegation has no DS.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mamori_core::config::dns::DnsConfig;
use support::{dig, run, start};

const ZONE: &str = "$TTL 300
@ IN SOA ns h 1 3600 900 604800 60
  IN NS ns
ns IN A 127.0.0.1
www IN A 198.51.100.8
forged IN A 198.51.100.9
*.wild IN A 198.51.100.11
insecure IN NS ns.insecure
ns.insecure IN A 127.0.0.1
";

/// An unsigned child of the signed zone (its delegation has no DS).
const INSECURE: &str = "$TTL 300
@ IN SOA ns h 1 3600 900 604800 60
  IN NS ns
ns IN A 127.0.0.1
www IN A 198.51.100.10
";

/// Runs a BIND tool in `dir`; its output, or the test fails with its error.
fn tool(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): .ci/run installs bind9, which brings it"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Signs `good.test` in `dir` and returns the key-signing key's DNSKEY record (the trust
/// anchor). After signing, `forged` gets another address: its signature no longer matches.
fn sign(dir: &Path) -> String {
    std::fs::write(dir.join("good.zone"), ZONE).unwrap();
    std::fs::write(dir.join("insecure.zone"), INSECURE).unwrap();
    tool(dir, "dnssec-keygen", &["-q", "-a", "ECDSAP256SHA256", "-n", "ZONE", "good.test"]);
    let ksk = tool(dir, "dnssec-keygen", &["-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-n", "ZONE", "good.test"]);
    tool(dir, "dnssec-signzone", &["-q", "-S", "-K", ".", "-o", "good.test", "-f", "good.signed", "good.zone"]);
    let signed = std::fs::read_to_string(dir.join("good.signed")).unwrap();
    let forged: String = signed
        .lines()
        .map(|l| if l.starts_with("forged.good.test.") { l.replace("198.51.100.9", "198.51.100.66") } else { l.into() })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(forged.contains("198.51.100.66"), "{forged}");
    std::fs::write(dir.join("good.signed"), forged + "\n").unwrap();
    let key = std::fs::read_to_string(dir.join(format!("{}.key", ksk.trim()))).unwrap();
    key.lines().find(|l| !l.starts_with(';') && l.contains("DNSKEY")).expect("the key's DNSKEY line").to_string()
}

fn free_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// BIND serving the signed zone on `port`; killed when dropped.
struct Named(std::process::Child);

impl Drop for Named {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn named(dir: &Path, port: u16) -> Named {
    let d = dir.display();
    let conf = format!(
        r#"options {{
  directory "{d}";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  recursion no;
  pid-file "{d}/named.pid";
  dnssec-validation no;
  notify no;
}};
zone "good.test" {{ type primary; file "{d}/good.signed"; }};
zone "insecure.good.test" {{ type primary; file "{d}/insecure.zone"; }};
"#
    );
    std::fs::write(dir.join("named.conf"), conf).unwrap();
    let child = Command::new("named")
        .args(["-g", "-c"])
        .arg(dir.join("named.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("named.log")).unwrap())
        .spawn()
        .expect("named from bind9 (.ci/run installs it)");
    let named = Named(child);
    let args: Vec<String> =
        ["@127.0.0.1", "-p", &port.to_string(), "+short", "+time=1", "+tries=1", "www.good.test", "A"]
            .map(String::from)
            .to_vec();
    for _ in 0..100 {
        if run("dig", &args).await.contains("198.51.100.8") {
            return named;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("named did not serve the zone: {}", std::fs::read_to_string(dir.join("named.log")).unwrap_or_default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_answers_are_validated_and_forged_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = sign(dir.path());
    let port = free_port();
    let _named = named(dir.path(), port).await;
    let config = DnsConfig {
        forward_zones: [("good.test".to_string(), vec![format!("127.0.0.1:{port}").parse().unwrap()])].into(),
        dnssec_validation: true,
        trust_anchors: vec![anchor],
        ..Default::default()
    };
    let s = start(&config, dir.path(), "127.0.0.1").await;

    let out = dig(&s, &["+dnssec", "www.good.test", "A"]).await;
    assert!(out.contains("198.51.100.8") && out.contains(" ad"), "validated: {out}");
    assert!(out.contains("RRSIG"), "signatures for a DO client: {out}");
    let out = dig(&s, &["+noadflag", "www.good.test", "A"]).await;
    assert!(out.contains("198.51.100.8") && !out.contains("RRSIG"), "no signatures without DO: {out}");
    assert!(!out.contains(" ad"), "no AD for a client that shows neither DO nor AD: {out}");

    let out = dig(&s, &["+dnssec", "forged.good.test", "A"]).await;
    assert!(out.contains("status: SERVFAIL") && !out.contains("198.51.100.66"), "bogus: {out}");
    let out = dig(&s, &["+dnssec", "+cd", "forged.good.test", "A"]).await;
    assert!(out.contains("198.51.100.66") && !out.contains(" ad"), "CD: the client validates: {out}");

    let out = dig(&s, &["+dnssec", "nope.good.test", "A"]).await;
    assert!(out.contains("status: NXDOMAIN") && out.contains(" ad") && out.contains("NSEC"), "denial: {out}");
    let out = dig(&s, &["+dnssec", "www.good.test", "TXT"]).await;
    assert!(out.contains("status: NOERROR") && out.contains(" ad") && out.contains("NSEC"), "no data: {out}");

    // A wildcard's answer is secure with the NSEC that shows the name itself does not exist.
    let out = dig(&s, &["+dnssec", "x.wild.good.test", "A"]).await;
    assert!(out.contains("198.51.100.11") && out.contains(" ad") && out.contains("NSEC"), "wildcard: {out}");

    // Below a delegation proven to have no DS: insecure, answered without AD.
    let out = dig(&s, &["+dnssec", "www.insecure.good.test", "A"]).await;
    assert!(out.contains("198.51.100.10") && !out.contains(" ad"), "insecure: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_trust_anchor_makes_every_answer_bogus() {
    let dir = tempfile::tempdir().unwrap();
    sign(dir.path());
    // Another zone's key as the anchor of good.test: nothing there matches it.
    let other = tempfile::tempdir().unwrap();
    let wrong = sign(other.path());
    let port = free_port();
    let _named = named(dir.path(), port).await;
    let config = DnsConfig {
        forward_zones: [("good.test".to_string(), vec![format!("127.0.0.1:{port}").parse().unwrap()])].into(),
        dnssec_validation: true,
        trust_anchors: vec![wrong],
        ..Default::default()
    };
    let s = start(&config, dir.path(), "127.0.0.1").await;
    let out = dig(&s, &["+dnssec", "www.good.test", "A"]).await;
    assert!(out.contains("status: SERVFAIL"), "{out}");
    let out = dig(&s, &["+dnssec", "+cd", "www.good.test", "A"]).await;
    assert!(out.contains("198.51.100.8") && !out.contains(" ad"), "{out}");
}
