//! Runs the OWASP CRS regression tests (go-ftw YAML) in process, set up as upstream runs them:
//! paranoia level 4, detection only, `crs-setup.conf.example`, the test-marker rule, and the
//! argument and file limits of upstream's test containers.
//! Usage: crs CRS_DIR OVERRIDES_FILE [FILTER]
//! Prints each failure (`FAIL id: why`, or `KNOWN id: reason` when listed in the overrides),
//! then `crs: N passed, M failed`.

#[allow(dead_code)] // each runner uses part of what the runners share
mod support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use mamori_waf::{Loader, Request, Response, Ruleset};
use serde_norway::Value;
use support::{Tally, load_overrides};

const BASE: &str = r#"
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
"#;

const AFTER_SETUP: &str = r#"
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=4,setvar:tx.crs_validate_utf8_encoding=1,\
  setvar:tx.max_num_args=255,setvar:tx.arg_name_length=100,setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,\
  setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"
SecRule REQUEST_HEADERS:X-CRS-Test "@rx ^.*$" "id:999999,phase:1,pass,t:none,log,msg:'X-CRS-Test %{MATCHED_VAR}'"
"#;

fn build(crs: &Path) -> Result<Ruleset, String> {
    let mut l = Loader::new();
    let err = |e: mamori_waf::ParseError| e.to_string();
    l.load_str(BASE, "base.conf", crs).map_err(err)?;
    l.load_file(&crs.join("crs-setup.conf.example")).map_err(err)?;
    l.load_str(AFTER_SETUP, "test-setup.conf", crs).map_err(err)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(crs.join("rules"))
        .map_err(|e| format!("cannot list rules: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    files.sort();
    for f in files {
        l.load_file(&f).map_err(err)?;
    }
    l.build().map_err(err)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: crs CRS_DIR OVERRIDES_FILE [FILTER]");
        std::process::exit(2);
    }
    let crs = PathBuf::from(&args[1]);
    let filter = args.get(3).cloned().unwrap_or_default();
    let overrides = load_overrides(Path::new(&args[2]));
    let started = std::time::Instant::now();
    let rs = match build(&crs) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("crs: the rules do not load: {e}");
            println!("crs: 0 passed, 1 failed");
            std::process::exit(1);
        }
    };
    eprintln!(
        "crs: {} rules loaded, {} patterns on the backtracking fallback",
        rs.rule_count(),
        mamori_waf::operators::FANCY_FALLBACKS.load(std::sync::atomic::Ordering::Relaxed)
    );
    let load_time = started.elapsed();
    let mut files = Vec::new();
    walk(&crs.join("tests/regression/tests"), &mut files);
    files.sort();
    if files.is_empty() {
        eprintln!("crs: no test files under {}", crs.join("tests/regression/tests").display());
        println!("crs: 0 passed, 1 failed");
        std::process::exit(1);
    }
    let mut tally = Tally::new(overrides);
    for f in files {
        let doc: Value = match std::fs::read_to_string(&f).ok().and_then(|t| serde_norway::from_str(&t).ok()) {
            Some(d) => d,
            None => {
                tally.unreadable(&f.display().to_string(), "not readable as YAML");
                continue;
            }
        };
        let rule_id = doc.get("rule_id").map(scalar).unwrap_or_default();
        for t in doc.get("tests").and_then(Value::as_sequence).into_iter().flatten() {
            let name = format!("{rule_id}-{}", t.get("test_id").map(scalar).unwrap_or_default());
            if !filter.is_empty() && name != filter && !(filter.ends_with('-') && name.starts_with(&filter)) {
                continue;
            }
            tally.record(&[&name], run_test(&rs, t));
        }
    }
    tally.report_unexpected("crs");
    // A rough figure only (one thread, every phase, test requests); the benchmark is bench/.
    let run_time = started.elapsed() - load_time;
    eprintln!(
        "crs: ruleset loaded in {:.0} ms; {} tests evaluated in {:.0} ms",
        load_time.as_secs_f64() * 1000.0,
        tally.passed + tally.failed,
        run_time.as_secs_f64() * 1000.0
    );
    println!("crs: {} passed, {} failed", tally.passed, tally.failed);
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn ids(v: Option<&Value>) -> Vec<i64> {
    v.and_then(Value::as_sequence).into_iter().flatten().filter_map(|x| scalar(x).parse().ok()).collect()
}

fn run_test(rs: &Ruleset, t: &Value) -> Result<(), String> {
    let stages = t.get("stages").and_then(Value::as_sequence).ok_or("no stages")?;
    for (i, st) in stages.iter().enumerate() {
        let input = st.get("input").ok_or("stage without input")?;
        let output = st.get("output").ok_or("stage without output")?;
        if output.get("expect_error").and_then(Value::as_bool) == Some(true) {
            return Err(format!("stage {i}: expects a connection error from the server"));
        }
        let req = request(input)?;
        let (logged, log_text, status) = run(rs, req);
        let log = output.get("log");
        let expect = ids(log.and_then(|l| l.get("expect_ids")));
        let no_expect = ids(log.and_then(|l| l.get("no_expect_ids")));
        let missing: Vec<_> = expect.iter().filter(|id| !logged.contains(id)).collect();
        let unwanted: Vec<_> = no_expect.iter().filter(|id| logged.contains(id)).collect();
        if !missing.is_empty() || !unwanted.is_empty() {
            return Err(format!("stage {i}: missing {missing:?}, unexpected {unwanted:?}"));
        }
        if let Some(re) = log.and_then(|l| l.get("match_regex")).map(scalar) {
            let r = regex::Regex::new(&re).map_err(|e| format!("bad match_regex: {e}"))?;
            if !r.is_match(&log_text) {
                return Err(format!("stage {i}: log does not match {re:?}"));
            }
        }
        if let Some(re) = log.and_then(|l| l.get("no_match_regex")).map(scalar) {
            let r = regex::Regex::new(&re).map_err(|e| format!("bad no_match_regex: {e}"))?;
            if r.is_match(&log_text) {
                return Err(format!("stage {i}: log matches {re:?}"));
            }
        }
        if let Some(want) = output.get("status").map(scalar).filter(|s| !s.is_empty())
            && want != status.to_string()
        {
            return Err(format!("stage {i}: status {status}, want {want}"));
        }
    }
    Ok(())
}

fn request(input: &Value) -> Result<Request, String> {
    let s = |k: &str, d: &str| input.get(k).map(scalar).unwrap_or_else(|| d.to_string());
    if let Some(enc) = input.get("encoded_request").map(scalar) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(enc.split_whitespace().collect::<String>())
            .map_err(|e| format!("encoded_request is not base64: {e}"))?;
        return parse_raw(&raw);
    }
    let mut req = Request {
        method: s("method", "GET"),
        uri: s("uri", "/"),
        protocol: s("version", "HTTP/1.1"),
        remote_addr: "127.0.0.1".into(),
        remote_port: 40000,
        server_port: input.get("port").map(scalar).and_then(|p| p.parse().ok()).unwrap_or(80),
        ..Default::default()
    };
    if let Some(Value::Mapping(h)) = input.get("headers") {
        for (k, v) in h {
            req.headers.push((scalar(k), scalar(v).into_bytes()));
        }
    }
    req.body = expand_template(&input.get("data").map(scalar).unwrap_or_default()).into_bytes();
    let autocomplete = input.get("autocomplete_headers").and_then(Value::as_bool).unwrap_or(true);
    // go-ftw completes requests with a body the way a form post would be sent.
    if autocomplete && !req.body.is_empty() {
        if req.header("content-type").is_none() {
            req.headers.push(("Content-Type".into(), b"application/x-www-form-urlencoded".to_vec()));
        }
        if req.header("content-length").is_none() {
            req.headers.push(("Content-Length".into(), req.body.len().to_string().into_bytes()));
        }
    }
    Ok(req)
}

/// go-ftw data templates: `{{ "1" | repeat 64200 }}`.
fn expand_template(s: &str) -> String {
    let re = regex::Regex::new(r#"\{\{\s*"([^"]*)"\s*\|\s*repeat\s+(\d+)\s*\}\}"#).expect("static pattern");
    re.replace_all(s, |c: &regex::Captures| c[1].repeat(c[2].parse().unwrap_or(0))).into_owned()
}

/// A raw HTTP/1.x request (`encoded_request`): request line, headers, body.
fn parse_raw(raw: &[u8]) -> Result<Request, String> {
    let split = memchr_find(raw, b"\r\n\r\n").map(|p| (p, 4)).or_else(|| memchr_find(raw, b"\n\n").map(|p| (p, 2)));
    let (head, body) = match split {
        Some((p, n)) => (&raw[..p], &raw[p + n..]),
        None => (raw, &b""[..]),
    };
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let line = lines.next().ok_or("empty raw request")?;
    let mut parts = line.splitn(3, ' ');
    let mut req = Request {
        method: parts.next().unwrap_or("").to_string(),
        uri: parts.next().unwrap_or("").to_string(),
        protocol: parts.next().unwrap_or("").to_string(),
        remote_addr: "127.0.0.1".into(),
        server_port: 80,
        body: body.to_vec(),
        ..Default::default()
    };
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            req.headers.push((k.to_string(), v.trim_start().as_bytes().to_vec()));
        }
    }
    Ok(req)
}

fn memchr_find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// The backend (albedo) reflects `/reflect` requests' JSON `{status, headers, body}`.
fn response(req: &Request) -> Response {
    let mut resp = Response {
        status: 200,
        protocol: "HTTP/1.1".into(),
        headers: vec![("Content-Type".into(), b"text/plain".to_vec())],
        body: Vec::new(),
    };
    if req.path() == "/reflect"
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&req.body)
    {
        if let Some(s) = v.get("status").and_then(|s| s.as_u64()) {
            resp.status = s as u16;
        }
        if let Some(h) = v.get("headers").and_then(|h| h.as_object()) {
            resp.headers = h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").as_bytes().to_vec())).collect();
        }
        if let Some(b) = v.get("body").and_then(|b| b.as_str()) {
            resp.body = b.as_bytes().to_vec();
        }
        if let Some(b) = v.get("encodedBody").and_then(|b| b.as_str())
            && let Ok(d) = base64::engine::general_purpose::STANDARD.decode(b)
        {
            resp.body = d;
        }
    }
    resp
}

/// Runs one request through the front end's checks and all phases; returns the logged rule ids, an error-log-like text
/// and the status the client would see in detection-only mode.
fn run(rs: &Ruleset, mut req: Request) -> (Vec<i64>, String, u16) {
    // The front end answers 400 to what it cannot parse; the WAF never sees it.
    let front = mamori_waf::request_check::check(&req).and_then(|_| mamori_waf::request_check::normalize(&mut req));
    if let Err(e) = front {
        return (Vec::new(), e.to_string(), 400);
    }
    let resp = response(&req);
    let status = resp.status;
    let mut tx = rs.transaction(req);
    tx.process_request();
    tx.process_response(resp);
    tx.process_logging();
    let mut log = String::new();
    let mut ids = Vec::new();
    if std::env::var_os("CRS_DEBUG").is_some() {
        for m in tx.matches() {
            eprintln!("  match {} logged={} {} | {}", m.id, m.logged, m.msg, m.logdata);
        }
    }
    for m in tx.matches().iter().filter(|m| m.logged) {
        ids.push(m.id);
        // ModSecurity's error log escapes control characters as \xHH.
        let esc = |s: &str| s.as_bytes().escape_ascii().to_string();
        log.push_str(&format!("[id \"{}\"] [msg \"{}\"] [data \"{}\"]\n", m.id, esc(&m.msg), esc(&m.logdata)));
    }
    (ids, log, status)
}
