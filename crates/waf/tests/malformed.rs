//! Malformed rule files and requests give errors (with file and line), never panics.

use std::path::Path;

use mamori_waf::request_check;
use mamori_waf::{Loader, Request, Response};

fn load(text: &str) -> Result<mamori_waf::Ruleset, mamori_waf::ParseError> {
    let mut l = Loader::new();
    l.load_str(text, "t.conf", Path::new("."))?;
    l.build()
}

#[test]
fn rule_file_errors_name_file_and_line() {
    let cases = [
        ("SecRule ARGS \"@rx (\" \"id:1,pass\"", 1, "regular expression"),
        ("\n\nSecRule NOPE \"@rx a\" \"id:1\"", 3, "unknown variable"),
        ("SecRule ARGS \"@bogus a\" \"id:1\"", 1, "unsupported operator"),
        ("SecRule ARGS \"@rx a\" \"id:1,t:nothing\"", 1, "unknown transformation"),
        ("SecRule ARGS \"@rx a\" \"id:1,phase:9\"", 1, "invalid phase"),
        ("SecRule ARGS \"@rx a\" \"id:1\"\nSecRule ARGS \"@rx b\" \"id:1\"", 2, "duplicate rule id"),
        ("SecRule ARGS \"@rx a\" \"id:1,chain\"\nSecMarker END", 2, "without a chained rule"),
        ("SecDefaultAction \"phase:2,log\"", 1, "disruptive"),
        ("SecDefaultAction \"phase:2,log,block\"", 1, "disruptive"),
        ("SecDefaultAction \"phase:2,pass\"\nSecDefaultAction \"phase:2,deny\"", 2, "once per phase"),
        ("SecDefaultAction \"phase:2,pass,id:4\"", 1, "not suitable"),
        ("SecRule ARGS \"@rx a\" \"id:-1\"", 1, "invalid id"),
        ("SecRemoteRules key https://example.jp/rules.conf", 1, "not supported"),
        ("SecUnicodeMapFile /nonexistent.mapping 20127", 1, "unicode map"),
        ("SecRule ARGS \"@rx a\" \"id:1,xmlns:soap\"", 1, "xmlns"),
        ("SecRuleEngine Maybe", 1, "engine mode"),
        ("SecWhatever On", 1, "unknown directive"),
        ("Include /nonexistent/*.conf", 1, "cannot list"),
        ("SecRule ARGS \"@pmFromFile /nonexistent.data\" \"id:1\"", 1, "cannot read"),
        ("SecRule ARGS \"@ipMatch 10.0.0.0/100\" \"id:1\"", 1, "invalid network"),
        ("SecRule ARGS \"@validateByteRange 1-300\" \"id:1\"", 1, "byte range"),
        ("SecAction \"id:1,msg:'unterminated\"", 1, "unterminated"),
    ];
    for (text, line, why) in cases {
        let e = load(text).err().unwrap_or_else(|| panic!("{text:?} loaded"));
        assert_eq!((e.file.as_str(), e.line), ("t.conf", line), "{text:?}: {e}");
        assert!(e.reason.contains(why), "{text:?}: {e}");
    }
}

/// A small deterministic generator, so the "fuzz" cases are the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn bytes(&mut self, alphabet: &[u8], max: usize) -> Vec<u8> {
        let n = (self.next() as usize) % max;
        (0..n).map(|_| alphabet[(self.next() as usize) % alphabet.len()]).collect()
    }
}

#[test]
fn garbage_rule_files_do_not_panic() {
    let alphabet = b"SecRule ARGS|!&:/\"'\\@rx pm within id:1,phase:2,chain,t:none,setvar:tx.a=+1 %{}\n\t#";
    let mut g = Lcg(7);
    for _ in 0..3000 {
        let text = String::from_utf8_lossy(&g.bytes(alphabet, 200)).into_owned();
        let _ = load(&text);
    }
}

#[test]
fn garbage_requests_do_not_panic() {
    let rules = r#"
SecRuleEngine On
SecRequestBodyAccess On
SecResponseBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@rx json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "@rx xml" "id:2,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule ARGS|ARGS_NAMES|REQUEST_COOKIES|FILES|FILES_NAMES|XML:/*|XML://@*|MULTIPART_PART_HEADERS|REQUEST_BODY "@rx (?i)<script" "id:3,phase:2,pass,capture,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:cmdLine,t:normalizePathWin,t:base64Decode,multiMatch,logdata:'%{TX.0} %{MATCHED_VAR_NAME}'"
SecRule ARGS "@detectSQLi" "id:4,phase:2,pass"
SecRule ARGS "@detectXSS" "id:5,phase:2,pass"
SecRule REQBODY_ERROR "!@eq 0" "id:6,phase:2,deny,status:400"
SecRule RESPONSE_BODY "@pm secret" "id:7,phase:4,deny"
"#;
    let rs = load(rules).expect("rules load");
    let alphabet = b"ab=&;%u0041%zz+<script>{\"[]}--xx\r\n\\\x00\xff\xc3Content-Disposition: form-data; name=\"";
    let types =
        ["application/json", "text/xml", "multipart/form-data; boundary=xx", "application/x-www-form-urlencoded"];
    let mut g = Lcg(11);
    for i in 0..2000 {
        let body = g.bytes(alphabet, 300);
        let uri = format!("/p?{}", String::from_utf8_lossy(&g.bytes(alphabet, 60)));
        let mut req = Request {
            method: "POST".into(),
            uri,
            protocol: "HTTP/1.1".into(),
            headers: vec![
                ("Host".into(), b"h".to_vec()),
                ("Content-Type".into(), types[i % types.len()].as_bytes().to_vec()),
                ("Cookie".into(), g.bytes(alphabet, 40)),
            ],
            body: body.clone(),
            ..Default::default()
        };
        let _ = request_check::check(&req);
        let _ = request_check::normalize(&mut req);
        let mut tx = rs.transaction(req);
        tx.process_request();
        tx.process_response(Response { status: 200, body, ..Default::default() });
        tx.process_logging();
    }
}
