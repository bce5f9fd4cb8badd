//! Runs ModSecurity v3's regression cases (`test/test-cases/regression/*.json`) against
//! mamori-waf, checking the `http_code`, `error_log` and `parser_error` expectations, and
//! `debug_log` expectations on the `Target value: "..." (Variable: ...)` line (what each
//! operator inspected); cases with only other expectations (other debug log lines, audit
//! logs) are skipped, and every skip is printed with its reason.
//! A `parser_error` case passes when the rules fail to load (the message text is
//! libmodsecurity's own and is not compared). The error log is written in libmodsecurity's
//! format closely enough for its regular expressions.
//! Usage: modsec DATA_DIR OVERRIDES_FILE (keys `FILE#INDEX`, or `FILE#*` for a whole file)

#[allow(dead_code)] // each runner uses part of what the runners share
mod support;

use std::path::Path;

use mamori_waf::{Loader, Request, Response};
use serde_json::Value;
use support::{Tally, load_overrides};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: modsec DATA_DIR OVERRIDES_FILE");
        std::process::exit(2);
    }
    let root = Path::new(&args[1]).join("test");
    let dir = root.join("test-cases/regression");
    let overrides = load_overrides(Path::new(&args[2]));
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(r) => {
            r.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        }
        Err(e) => {
            eprintln!("modsec-regression: cannot read {}: {e}", dir.display());
            println!("modsec-regression: 0 passed, 1 failed");
            std::process::exit(1);
        }
    };
    files.sort();
    let mut tally = Tally::new(overrides);
    // Reason → the cases skipped for it.
    let mut skipped: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for f in files {
        let fname = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let cases: Vec<Value> = match std::fs::read(&f).ok().and_then(|t| serde_json::from_slice(&t).ok()) {
            Some(c) => c,
            None => {
                tally.unreadable(&fname, "not a JSON array");
                continue;
            }
        };
        for (i, c) in cases.iter().enumerate() {
            let key = format!("{fname}#{i}");
            if let Some(reason) = skip_reason(c) {
                skipped.entry(reason).or_default().push(key);
                continue;
            }
            tally.record(&[&key, &format!("{fname}#*")], run_case(c, &root));
        }
    }
    tally.report_unexpected("modsec-regression");
    for (reason, cases) in &skipped {
        println!("SKIP {} cases: {reason}: {}", cases.len(), cases.join(" "));
    }
    let skipped: usize = skipped.values().map(Vec::len).sum();
    println!("modsec-regression: {} passed, {} failed, {skipped} skipped", tally.passed, tally.failed);
}

/// A debug_log expectation on the values operators saw (`Target value: "..." (Variable: ...)`),
/// the one debug log line mamori's engine can write (`Transaction::enable_trace`).
fn traced(e: &Value) -> bool {
    e.get("debug_log").and_then(Value::as_str).is_some_and(|d| d.trim_start().starts_with("Target value"))
}

/// Why a case is not run, if it is not.
fn skip_reason(c: &Value) -> Option<&'static str> {
    let e = &c["expected"];
    if c["enabled"].as_i64() == Some(0) {
        return Some("disabled upstream (`enabled: 0`)");
    }
    if ["http_code", "error_log", "parser_error"].iter().any(|k| e.get(*k).is_some()) || traced(e) {
        return None;
    }
    let others: Vec<&str> = e.as_object().into_iter().flatten().map(|(k, _)| k.as_str()).collect();
    Some(match others.as_slice() {
        [] => "no expectation at all",
        ["debug_log"] => {
            "only a debug_log expectation on a line other than `Target value` (libmodsecurity's debug log text, which mamori does not write)"
        }
        _ => "only audit/debug log expectations (libmodsecurity's log formats, which mamori does not write)",
    })
}

fn run_case(c: &Value, root: &Path) -> Result<(), String> {
    let e = &c["expected"];
    let rules: Vec<&str> = c["rules"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let mut l = Loader::new();
    let loaded = l.load_str(&rules.join("\n"), "rules.conf", root).and_then(|_| l.build());
    let rs = match (loaded, e.get("parser_error")) {
        (Err(_), Some(_)) => return Ok(()),
        (Ok(_), Some(p)) => return Err(format!("rules loaded, want a parser error like {p}")),
        (Err(err), None) => return Err(format!("rules do not load: {err}")),
        (Ok(rs), None) => rs,
    };
    let req = request(c);
    let resp = response(c);
    let mut tx = rs.transaction(req);
    tx.enable_trace();
    let mut status = 200;
    if let Some(i) = tx.process_request() {
        status = i.status;
    } else if let Some(i) = tx.process_response(resp) {
        status = i.status;
    }
    tx.process_logging();
    if let Some(want) = e.get("http_code").and_then(Value::as_i64)
        && want != status as i64
    {
        return Err(format!("status {status}, want {want}"));
    }
    if traced(e)
        && let Some(re) = e.get("debug_log").and_then(Value::as_str)
    {
        let r = regex::Regex::new(re).map_err(|x| format!("bad debug_log regex: {x}"))?;
        let trace = tx.trace();
        if !trace.iter().any(|l| r.is_match(l)) {
            let seen: Vec<&str> = trace.iter().map(String::as_str).take(4).collect();
            return Err(format!("debug log has no line like {re:?}; traced: {seen:?}"));
        }
    }
    if let Some(re) = e.get("error_log").and_then(Value::as_str) {
        let log = error_log(&tx);
        let r = regex::RegexBuilder::new(re)
            .dot_matches_new_line(false)
            .build()
            .map_err(|x| format!("bad error_log regex: {x}"))?;
        if !log.lines().any(|l| r.is_match(l)) && !r.is_match(&log) {
            return Err(format!("error log does not match {re:?}; log: {}", log.chars().take(300).collect::<String>()));
        }
    }
    Ok(())
}

fn error_log(tx: &mamori_waf::Transaction<'_>) -> String {
    let mut out = String::new();
    for m in tx.matches().iter().filter(|m| m.logged) {
        let what = match tx.interruption() {
            Some(i) if i.rule_id == m.id => format!("Access denied with code {} (phase {})", i.status, m.phase),
            _ => "Warning".to_string(),
        };
        let tags: String = m.tags.iter().map(|t| format!(" [tag \"{t}\"]")).collect();
        out.push_str(&format!(
            "ModSecurity: {what}. Matched \"Operator `{}' with parameter `{}' against variable `{}' (Value: `{}' ) [file \"rules.conf\"] [line \"0\"] [id \"{}\"] [rev \"\"] [msg \"{}\"] [data \"{}\"] [severity \"{}\"] [ver \"\"] [maturity \"0\"] [accuracy \"0\"]{tags} [hostname \"\"] [uri \"\"] [unique_id \"\"] [ref \"\"]\n",
            m.operator,
            m.param,
            m.var_name,
            String::from_utf8_lossy(&m.var_value),
            m.id,
            m.msg,
            m.logdata,
            m.severity.map(|s| s.to_string()).unwrap_or_default(),
        ));
    }
    out
}

fn headers(v: &Value) -> Vec<(String, Vec<u8>)> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            (k.clone(), v.as_str().map(|s| s.as_bytes().to_vec()).unwrap_or_else(|| v.to_string().into_bytes()))
        })
        .collect()
}

fn body(v: &Value) -> Vec<u8> {
    match v {
        // As libmodsecurity's runner: every line ends with a newline (the JSON's `\r` make CRLFs).
        Value::Array(lines) => {
            lines.iter().filter_map(Value::as_str).flat_map(|l| [l, "\n"]).collect::<String>().into_bytes()
        }
        Value::String(s) => s.as_bytes().to_vec(),
        _ => Vec::new(),
    }
}

fn request(c: &Value) -> Request {
    let r = &c["request"];
    Request {
        method: r["method"].as_str().unwrap_or("GET").to_string(),
        uri: r["uri"].as_str().unwrap_or("/").to_string(),
        protocol: format!(
            "HTTP/{}",
            r["http_version"].as_str().or(r["http_version"].as_f64().map(|_| "1.1")).unwrap_or("1.1")
        ),
        headers: headers(&r["headers"]),
        body: body(&r["body"]),
        remote_addr: c["client"]["ip"].as_str().unwrap_or("127.0.0.1").to_string(),
        remote_port: c["client"]["port"].as_u64().unwrap_or(0) as u16,
        server_port: c["server"]["port"].as_u64().unwrap_or(80) as u16,
    }
}

fn response(c: &Value) -> Response {
    let r = &c["response"];
    Response {
        status: r["status"].as_u64().unwrap_or(200) as u16,
        protocol: "HTTP/1.1".into(),
        headers: headers(&r["headers"]),
        body: body(&r["body"]),
    }
}
