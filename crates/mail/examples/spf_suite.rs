//! The RFC 7208 SPF test suite (openspf.org 2014.04, `rfc7208-tests.yml`) against the relay's
//! SPF check (mamori's evaluator, `mamori_mail::auth::check_spf`): each scenario's zone data is
//! served by a real DNS server on 127.0.0.1 (mamori-mail's testkit), and the relay's resolver
//! asks it, as it would ask any resolver.
//!
//! Usage: spf_suite SUITE.yml [OVERRIDES]. Prints each failure (marked `known` when the
//! overrides file lists it with its reason) and ends with `spf: N passed, M failed`.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use mamori_mail::auth::{authenticator, check_spf};
use mamori_mail::testkit::dns::{self, Data, DnsServer, Zone};
use serde::Deserialize;
use serde_yaml::Value;

#[derive(Deserialize)]
struct Scenario {
    description: String,
    tests: BTreeMap<String, Test>,
    #[serde(default)]
    zonedata: BTreeMap<String, Vec<Value>>,
}

#[derive(Deserialize)]
struct Test {
    #[serde(default)]
    helo: String,
    host: String,
    #[serde(default)]
    mailfrom: String,
    result: Value,
    #[serde(default)]
    explanation: Option<String>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: spf_suite rfc7208-tests.yml [overrides]");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("spf: cannot read {path}: {e}");
        println!("spf: 0 passed, 1 failed");
        std::process::exit(1);
    });
    let known: HashMap<String, String> = args
        .get(2)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace).map(|(k, v)| (k.to_string(), v.trim().to_string())))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (passed, failed) = runtime.block_on(run(&text, &known));
    println!("spf: {passed} passed, {failed} failed");
}

async fn run(text: &str, known: &HashMap<String, String>) -> (usize, usize) {
    let server = DnsServer::start(Zone::default()).await.expect("a DNS server on 127.0.0.1");
    let (mut passed, mut failed) = (0, 0);
    for doc in serde_yaml::Deserializer::from_str(text) {
        let scenario = match Scenario::deserialize(doc) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("spf: a scenario cannot be read: {e}");
                failed += 1;
                continue;
            }
        };
        server.set_zone(zone(&scenario.zonedata));
        for (name, test) in &scenario.tests {
            // A fresh resolver per test: no answer cached from another test's zone.
            let auth = authenticator(Some(server.addr), Duration::from_millis(400)).expect("resolver");
            let Ok(ip) = test.host.parse::<IpAddr>() else {
                println!("FAIL {name}: bad host {}", test.host);
                failed += 1;
                continue;
            };
            let sender = match test.mailfrom.as_str() {
                "" => String::new(),
                s if !s.contains('@') => format!("postmaster@{s}"),
                s => s.to_string(),
            };
            let out = check_spf(&auth, ip, &test.helo, &sender, "unknown").await;
            let got = out.result.name();
            let expected: Vec<String> = match &test.result {
                Value::Sequence(v) => v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
                v => v.as_str().map(|s| vec![s.to_string()]).unwrap_or_default(),
            };
            let mut ok = expected.iter().any(|e| e == got);
            let mut why = format!("expected {} got {got}", expected.join("|"));
            if ok
                && got == "fail"
                && let Some(exp) = test.explanation.as_deref().filter(|e| *e != "DEFAULT")
                && out.explanation.as_deref() != Some(exp)
            {
                ok = false;
                why = format!("explanation: expected {exp:?} got {:?}", out.explanation);
            }
            if ok {
                passed += 1;
            } else {
                failed += 1;
                match known.get(name) {
                    Some(reason) => println!("FAIL {name} ({}): {why} [known: {reason}]", scenario.description),
                    None => println!("FAIL {name} ({}): {why}", scenario.description),
                }
            }
        }
    }
    (passed, failed)
}

/// The suite's zone data as DNS records. As the suite's own driver does: SPF records are also
/// TXT records unless the name lists TXT itself (`TXT: NONE` for none); `TIMEOUT` makes every
/// type not listed before it time out; names under `error.` time out.
fn zone(data: &BTreeMap<String, Vec<Value>>) -> Zone {
    let mut zone = Zone::default();
    for (name, records) in data {
        let has_txt = records.iter().any(|r| r.get("TXT").is_some());
        let mut seen = Vec::new();
        for r in records {
            if r.as_str() == Some("TIMEOUT") {
                zone.timeout_except(name, seen.clone());
                break;
            }
            let Value::Mapping(m) = r else { continue };
            for (k, v) in m {
                let kind = k.as_str().unwrap_or("");
                let qtype = match kind {
                    "A" => dns::A,
                    "AAAA" => dns::AAAA,
                    "MX" => dns::MX,
                    "PTR" => dns::PTR,
                    "CNAME" => dns::CNAME,
                    "TXT" => dns::TXT,
                    "SPF" => dns::SPF,
                    _ => continue,
                };
                // `TXT: NONE` only says the name has no TXT records; it answers nothing.
                if v.as_str() == Some("NONE") {
                    continue;
                }
                seen.push(qtype);
                if kind == "SPF" && !has_txt {
                    seen.push(dns::TXT);
                }
                for data in records_of(kind, v) {
                    if let Data::Spf(strings) = &data
                        && !has_txt
                    {
                        zone.add(name, Data::Txt(strings.clone()));
                    }
                    zone.add(name, data);
                }
            }
        }
    }
    zone
}

fn records_of(kind: &str, v: &Value) -> Vec<Data> {
    let strings = |v: &Value| -> Vec<Vec<u8>> {
        match v {
            // A record of no strings is one empty string on the wire (RFC 1035 §3.3.14).
            Value::Sequence(parts) if parts.is_empty() => vec![Vec::new()],
            Value::Sequence(parts) => parts.iter().map(bytes).collect(),
            other => vec![bytes(other)],
        }
    };
    let each = |v: &Value| -> Vec<String> {
        match v {
            Value::Sequence(items) => items.iter().map(scalar).collect(),
            other => vec![scalar(other)],
        }
    };
    match kind {
        "TXT" => vec![Data::Txt(strings(v))],
        "SPF" => vec![Data::Spf(strings(v))],
        "A" => each(v).iter().filter_map(|s| s.parse().ok()).map(Data::A).collect(),
        "AAAA" => each(v).iter().filter_map(|s| s.parse().ok()).map(Data::Aaaa).collect(),
        "PTR" => each(v).into_iter().map(Data::Ptr).collect(),
        "CNAME" => each(v).into_iter().map(Data::Cname).collect(),
        "MX" => match v {
            Value::Sequence(p) if p.len() == 2 => vec![Data::Mx(p[0].as_u64().unwrap_or(0) as u16, scalar(&p[1]))],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

/// YAML `\xNN` escapes are code points; the suite means bytes.
fn bytes(v: &Value) -> Vec<u8> {
    let s = scalar(v);
    if s.chars().all(|c| (c as u32) < 256) { s.chars().map(|c| c as u8).collect() } else { s.into_bytes() }
}
