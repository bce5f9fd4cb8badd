//! What the edge hands the WAF for every request: any request line, headers and body (the
//! body processor chosen by the first byte: urlencoded, multipart, JSON, XML) pass the front
//! end's checks or are refused, and what passes runs through phases 1, 2 and 5 without a panic.
#![no_main]
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mamori_waf::{Loader, Request, Ruleset};

const RULES: &str = r#"
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^text/xml" "id:2,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule ARGS|ARGS_NAMES|REQUEST_COOKIES|REQUEST_HEADERS|XML:/* "@detectSQLi" "id:3,phase:2,deny,t:urlDecodeUni,t:htmlEntityDecode"
SecRule ARGS|REQUEST_BODY|FILES|FILES_NAMES "@detectXSS" "id:4,phase:2,deny,t:none,t:jsDecode,t:cssDecode"
SecRule REQUEST_URI|REQUEST_FILENAME "@rx (?i)\.\./|etc/passwd" "id:5,phase:2,deny,t:normalizePathWin,t:lowercase"
SecRule MULTIPART_STRICT_ERROR|REQBODY_ERROR "!@eq 0" "id:6,phase:2,deny"
SecRule &ARGS "@gt 100" "id:7,phase:2,deny"
SecRule REQUEST_BODY "@validateUtf8Encoding" "id:8,phase:2,pass,log"
SecAction "id:9,phase:5,pass,log,msg:'%{MATCHED_VAR_NAME} %{tx.anomaly_score}'"
"#;

static RULESET: LazyLock<Ruleset> = LazyLock::new(|| {
    let mut l = Loader::new();
    l.load_str(RULES, "fuzz.conf", std::path::Path::new(".")).expect("the fuzz rules load");
    l.build().expect("the fuzz rules build")
});

const TYPES: [&str; 5] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "application/json",
    "text/xml",
    "text/plain",
];

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let split = rest.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match split {
        Some(p) => (&rest[..p], &rest[p + 4..]),
        None => (rest, &b""[..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").splitn(3, ' ');
    let mut req = Request {
        method: first.next().unwrap_or("").to_string(),
        uri: first.next().unwrap_or("").to_string(),
        protocol: first.next().unwrap_or("").to_string(),
        remote_addr: "192.0.2.1".into(),
        remote_port: 40000,
        server_port: 8080,
        body: body.to_vec(),
        ..Default::default()
    };
    for l in lines {
        if let Some((n, v)) = l.split_once(':') {
            req.headers.push((n.to_string(), v.trim_start().as_bytes().to_vec()));
        }
    }
    req.headers.push(("Content-Type".into(), TYPES[kind as usize % TYPES.len()].as_bytes().to_vec()));
    let front = mamori_waf::request_check::check(&req).and_then(|_| mamori_waf::request_check::normalize(&mut req));
    if front.is_err() {
        return;
    }
    let mut tx = RULESET.transaction(req);
    tx.process_request();
    tx.process_logging();
    let _ = tx.matches().len();
});
