//! mail-auth's DKIM (RFC 6376) and ARC (RFC 8617) vectors (`resources/dkim`, `resources/arc`)
//! verified as the relay will verify them: each file's key records are served by a real DNS
//! server on 127.0.0.1 and mail-auth's resolver asks it. A vector passes when every DKIM
//! signature verifies (`pass`), or when the ARC chain verifies.
//!
//! Then its DMARC vectors (`resources/dmarc-feedback`: aggregate reports as XML and as mail, each
//! with the expected reading as JSON) through the relay's report intake: a vector passes when
//! the `mail.dmarc_report` events carry the expected reporter, report id, period, published
//! policy and, row by row, source address, count, disposition, DMARC and SPF/DKIM results.
//!
//! Usage: mail_auth_suite RESOURCES_DIR. Ends with `mail-auth: N passed, M failed`.

use std::path::Path;
use std::time::Duration;

use mail_auth::{AuthenticatedMessage, DkimResult};
use mamori_mail::auth::authenticator;
use mamori_mail::dmarc::aggregate;
use mamori_mail::testkit::dns::{Data, DnsServer, Zone};
use serde_json::{Value, json};

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
    let (p, f) = dmarc_feedback(&dir.join("dmarc-feedback"));
    (passed + p, failed + f)
}

/// The DMARC aggregate report vectors.
fn dmarc_feedback(dir: &Path) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    let mut expected: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect(),
        Err(e) => {
            println!("FAIL dmarc-feedback: cannot read {}: {e}", dir.display());
            return (0, 1);
        }
    };
    expected.sort();
    for json in expected {
        let name = format!("dmarc-feedback/{}", json.file_name().unwrap_or_default().to_string_lossy());
        match check_report(&json) {
            Ok(rows) => {
                passed += 1;
                println!("ok   {name} ({rows} rows)");
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }
    (passed, failed)
}

fn check_report(json: &Path) -> Result<usize, String> {
    let want: Value = serde_json::from_slice(&std::fs::read(json).map_err(|e| e.to_string())?)
        .map_err(|e| format!("expected JSON: {e}"))?;
    let (xml, eml) = (json.with_extension("xml"), json.with_extension("eml"));
    let report = if xml.exists() {
        aggregate::parse_file(&std::fs::read(&xml).map_err(|e| e.to_string())?)?
    } else {
        aggregate::parse_mail(&std::fs::read(&eml).map_err(|e| e.to_string())?)?
    };
    let events: Vec<Value> =
        aggregate::events(&report, Some("t")).iter().map(|e| serde_json::to_value(e).expect("an event")).collect();
    let rows = want["record"].as_array().ok_or("expected JSON without records")?;
    same("rows", &json!(events.len()), &json!(rows.len()))?;
    let meta = &want["report_metadata"];
    let published = &want["policy_published"];
    for (i, (event, row)) in events.iter().zip(rows).enumerate() {
        let got = &event["mamori"]["dmarc_report"];
        let lower = |v: &Value| json!(v.as_str().unwrap_or_default().to_ascii_lowercase());
        same("org_name", &got["reporter"], &meta["org_name"])?;
        same("report_id", &got["report_id"], &meta["report_id"])?;
        same("domain", &got["domain"], &published["domain"])?;
        same("p", &got["policy"], &lower(&published["p"]))?;
        same("sp", &got["subdomain_policy"], &lower(&published["sp"]))?;
        for (field, key) in [("start", "begin"), ("end", "end")] {
            let secs =
                event["event"][field].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()).map(|t| t.as_second());
            same(field, &json!(secs), &meta["date_range"][key])?;
        }
        let r = &row["row"];
        let at = |what: &str| format!("record {i} {what}");
        same(&at("source_ip"), &event["source"]["ip"], &r["source_ip"])?;
        same(&at("count"), &got["count"], &r["count"])?;
        same(&at("disposition"), &got["disposition"], &lower(&r["policy_evaluated"]["disposition"]))?;
        same(&at("dkim"), &got["dkim"], &lower(&r["policy_evaluated"]["dkim"]))?;
        same(&at("spf"), &got["spf"], &lower(&r["policy_evaluated"]["spf"]))?;
        same(&at("header_from"), &event["email"]["from"]["address"][0], &row["identifiers"]["header_from"])?;
        for kind in ["dkim", "spf"] {
            let want: Vec<Value> = row["auth_results"][kind]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| json!([a["domain"], lower(&a["result"])]))
                .collect();
            let got: Vec<Value> = got[format!("{kind}_results")]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| json!([a["domain"], a["result"]]))
                .collect();
            same(&at(&format!("{kind} results")), &json!(got), &json!(want))?;
        }
    }
    Ok(rows.len())
}

fn same(what: &str, got: &Value, want: &Value) -> Result<(), String> {
    if got == want { Ok(()) } else { Err(format!("{what}: got {got}, expected {want}")) }
}
