//! Postfix (Debian) on both sides of the relay: a Postfix that relays a municipality's mail to
//! mamori (as a client, over STARTTLS), and a Postfix as the tenant's next hop, which hands the
//! mail on to a test sink. Three messages from smtp-source cross all four.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mamori_mail::testkit::dns::{DnsServer, Zone};
use mamori_mail::testkit::sink::SmtpSink;
use support::RelaySetup;

/// A Postfix instance of its own (config, queue and log under a temporary directory), relaying
/// `domain` to `next_hop`; stopped on drop.
struct Postfix {
    dir: tempfile::TempDir,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn postfix(args: &[&str], config: &Path) -> std::process::Output {
    Command::new("postfix")
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("Postfix is needed for this test (apt-get install postfix): {e}"))
}

impl Postfix {
    fn start(domain: &str, next_hop: SocketAddr) -> Postfix {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Postfix's own processes run as the postfix user and must reach the queue.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (config, queue, data) = (root.join("etc"), root.join("queue"), root.join("data"));
        for d in [&config, &queue, &data] {
            std::fs::create_dir_all(d).unwrap();
        }
        assert!(Command::new("chown").arg("postfix").arg(&data).status().unwrap().success());
        let port = free_port();
        let main = format!(
            "compatibility_level = 3.6\nqueue_directory = {q}\ndata_directory = {d}\nmail_owner = postfix\n\
             setgid_group = postdrop\nmyhostname = postfix-{port}.example\nmydestination =\n\
             inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n\
             relay_domains = {domain}\ntransport_maps = inline:{{ {domain}=smtp:[127.0.0.1]:{hop} }}\n\
             alias_maps =\nalias_database =\nlocal_recipient_maps =\nsmtp_tls_security_level = may\n\
             maillog_file = {log}\nmaillog_file_prefixes = {root}\n",
            q = queue.display(),
            d = data.display(),
            hop = next_hop.port(),
            log = root.join("postfix.log").display(),
            root = root.display(),
        );
        std::fs::write(config.join("main.cf"), main).unwrap();
        let master = std::fs::read_to_string("/etc/postfix/master.cf")
            .unwrap_or_else(|e| panic!("Postfix is needed for this test (apt-get install postfix): {e}"));
        // Our port instead of 25, and no chroot (the queue is not a chroot jail here).
        let master: String = master
            .lines()
            .map(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                if l.starts_with('#') || l.starts_with(' ') || fields.len() < 8 {
                    return l.to_string();
                }
                let service = if fields[0] == "smtp" && fields[1] == "inet" {
                    format!("127.0.0.1:{port}")
                } else {
                    fields[0].into()
                };
                let mut f: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
                f[0] = service;
                f[4] = "n".into();
                f.join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(config.join("master.cf"), master + "\n").unwrap();
        let started = postfix(&["start"], &config);
        assert!(started.status.success(), "postfix start: {}", String::from_utf8_lossy(&started.stderr));
        let pf = Postfix { dir, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return pf;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("Postfix does not listen on {port}: {}", pf.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postfix.log")).unwrap_or_default()
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("etc")
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = postfix(&["stop"], &self.config());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_crosses_postfix_mamori_and_postfix() {
    let sink = SmtpSink::start(false).await.unwrap();
    let next_hop = Postfix::start("a.example.jp", sink.addr);
    let dns = DnsServer::start(Zone::default()).await.unwrap();
    let mut setup = RelaySetup::two_tenants(&format!("127.0.0.1:{}", next_hop.port));
    setup.mail.max_message_bytes = 1 << 20;
    setup.deliver_with_dns = Some(dns.addr);
    let relay = setup.start().await;
    let front = Postfix::start("a.example.jp", relay.addr);

    let out = Command::new("smtp-source")
        .args(["-m", "3", "-s", "2", "-l", "2000", "-f", "sender@example.com", "-t", "user@a.example.jp"])
        .arg(format!("127.0.0.1:{}", front.port))
        .output()
        .unwrap_or_else(|e| panic!("smtp-source is needed (apt-get install postfix): {e}"));
    assert!(out.status.success(), "smtp-source: {}", String::from_utf8_lossy(&out.stderr));

    let got = sink.wait_for(3, 60).await;
    assert_eq!(got.len(), 3, "front: {}\nnext hop: {}", front.log(), next_hop.log());
    for m in &got {
        assert_eq!(m.from, "sender@example.com");
        assert_eq!(m.to, vec!["user@a.example.jp"]);
        let text = String::from_utf8_lossy(&m.data);
        // Newest first: the next hop's, mamori's (reached over STARTTLS), the front's.
        let received: Vec<&str> = text.lines().filter(|l| l.starts_with("Received:")).collect();
        assert_eq!(received.len(), 3, "{text}");
        assert!(text.contains("by relay.pref.example.jp (mamori) with ESMTPS"), "{text}");
    }
    let events = relay.events.json();
    assert_eq!(events.iter().filter(|e| e["event"]["action"] == "accepted").count(), 3);
    assert!(events.iter().all(|e| e["event"]["action"] != "deferred"), "{events:?}");
}
