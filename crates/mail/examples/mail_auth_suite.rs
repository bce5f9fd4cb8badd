//! mail-auth's DKIM (RFC 6376) and ARC (RFC 8617) vectors (`resources/dkim`, `resources/arc`)
//! verified as the relay will verify them: each file's key records are served by a real DNS
//! server on 127.0.0.1 and mail-auth's resolver asks it. A vector passes when every DKIM
//! signature verifies (`pass`), or when the ARC chain verifies.
//!
//! Usage: mail_auth_suite RESOURCES_DIR. Ends with `mail-auth: N passed, M failed`.

use std::path::Path;
use std::time::Duration;

use mail_auth::{AuthenticatedMessage, DkimResult};
use mamori_mail::auth::authenticator;
use mamori_mail::testkit::dns::{Data, DnsServer, Zone};

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: mail_auth_suite RESOURCES_DIR");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (passed, failed) = runtime.block_on(run(Path::new(&dir)));
    println!("mail-auth: {passed} passed, {failed} failed");
}

async fn run(dir: &Path) -> (usize, usize) {
    let server = DnsServer::start(Zone::default()).await.expect("a DNS server on 127.0.0.1");
    let (mut passed, mut failed) = (0, 0);
    for kind in ["dkim", "arc"] {
        let mut files: Vec<_> = match std::fs::read_dir(dir.join(kind)) {
            Ok(rd) => rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "txt")).collect(),
            Err(e) => {
                println!("FAIL {kind}: cannot read {}: {e}", dir.join(kind).display());
                failed += 1;
                continue;
            }
        };
        files.sort();
        for path in files {
            let name = format!("{kind}/{}", path.file_name().unwrap_or_default().to_string_lossy());
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let Some((records, message)) = text.split_once("\n\n") else {
                println!("FAIL {name}: no blank line between the records and the message");
                failed += 1;
                continue;
            };
            let mut zone = Zone::default();
            for line in records.lines().filter(|l| !l.trim().is_empty()) {
                if let Some((host, value)) = line.split_once(' ') {
                    zone.add(host, Data::Txt(vec![value.as_bytes().to_vec()]));
                }
            }
            server.set_zone(zone);
            let auth = authenticator(Some(server.addr), Duration::from_millis(500)).expect("resolver");
            let raw = message.replace("\r\n", "\n").replace('\n', "\r\n");
            let Some(msg) = AuthenticatedMessage::parse(raw.as_bytes()) else {
                println!("FAIL {name}: mail-auth cannot parse the message");
                failed += 1;
                continue;
            };
            let verdict = if kind == "dkim" {
                let out = auth.verify_dkim(&msg).await;
                let results: Vec<String> = out.iter().map(|o| format!("{:?}", o.result())).collect();
                if !out.is_empty() && out.iter().all(|o| *o.result() == DkimResult::Pass) {
                    Ok(())
                } else {
                    Err(format!("signatures: {}", if results.is_empty() { "none".into() } else { results.join(", ") }))
                }
            } else {
                let out = auth.verify_arc(&msg).await;
                if *out.result() == DkimResult::Pass { Ok(()) } else { Err(format!("ARC chain: {:?}", out.result())) }
            };
            match verdict {
                Ok(()) => {
                    passed += 1;
                    println!("ok   {name}");
                }
                Err(why) => {
                    failed += 1;
                    println!("FAIL {name}: {why}");
                }
            }
        }
    }
    (passed, failed)
}
