//! Engine behaviour: phases, chains, skipAfter, setvar and macros, ctl, captures, blocking.

use std::path::Path;

use mamori_waf::{Interruption, Loader, Request, Ruleset};

fn load(text: &str) -> Ruleset {
    let mut l = Loader::new();
    l.load_str(text, "t.conf", Path::new(".")).expect("rules load");
    l.build().expect("rules build")
}

fn get(uri: &str) -> Request {
    Request {
        method: "GET".into(),
        uri: uri.into(),
        protocol: "HTTP/1.1".into(),
        headers: vec![("Host".into(), b"localhost".to_vec())],
        ..Default::default()
    }
}

fn ids(rs: &Ruleset, req: Request) -> (Vec<i64>, Option<Interruption>) {
    let mut tx = rs.transaction(req);
    let i = tx.process_request();
    tx.process_logging();
    (tx.matches().iter().map(|m| m.id).collect(), i)
}

#[test]
fn anomaly_scoring_like_crs() {
    let rs = load(
        r#"
SecRuleEngine On
SecDefaultAction "phase:2,log,pass"
SecAction "id:1,phase:1,pass,nolog,setvar:tx.critical=5,setvar:tx.score=0"
SecRule ARGS "@rx (?i)union\s+select" "id:2,phase:2,block,capture,t:urlDecodeUni,msg:'SQLi',logdata:'%{TX.0} in %{MATCHED_VAR_NAME}',setvar:'tx.score=+%{tx.critical}'"
SecRule TX:score "@ge 5" "id:3,phase:2,deny,status:403,msg:'score %{tx.score}'"
"#,
    );
    let mut tx = rs.transaction(get("/?q=1%20UNION%20select%202"));
    let i = tx.process_request().expect("blocked");
    assert_eq!((i.rule_id, i.status), (3, 403));
    let m = &tx.matches()[1];
    assert_eq!((m.id, m.logdata.as_str()), (2, "UNION select in ARGS:q"));
    assert_eq!(tx.matches()[2].msg, "score 5");
    assert_eq!(tx.tx_var("score"), Some(&b"5"[..]));
    assert_eq!(ids(&rs, get("/?q=hello")).0, vec![1]);
}

#[test]
fn chains_skip_after_and_markers() {
    let rs = load(
        r#"
SecRuleEngine DetectionOnly
SecRule REQUEST_METHOD "@streq GET" "id:10,phase:1,pass,chain"
    SecRule ARGS:a "@eq 1" "setvar:tx.chained=1"
SecRule ARGS:skip "@unconditionalMatch" "id:11,phase:1,pass,skipAfter:END"
SecAction "id:12,phase:1,pass"
SecMarker END
SecAction "id:13,phase:1,pass"
"#,
    );
    assert_eq!(ids(&rs, get("/?a=1")).0, vec![10, 12, 13]);
    assert_eq!(ids(&rs, get("/?a=2&skip=1")).0, vec![11, 13]);
}

#[test]
fn exclusions_counts_and_ctl() {
    let rs = load(
        r#"
SecRuleEngine On
SecRule &ARGS "@gt 2" "id:20,phase:1,pass"
SecRule ARGS|!ARGS:safe "@contains evil" "id:21,phase:1,pass"
SecRule ARGS:off "@streq 1" "id:22,phase:1,pass,ctl:ruleRemoveById=23,ctl:ruleRemoveTargetById=24;ARGS:x"
SecRule ARGS "@contains evil" "id:23,phase:1,deny"
SecRule ARGS "@contains evil" "id:24,phase:1,deny"
"#,
    );
    // 21 leaves ARGS:safe out; 23 does not.
    let (m, i) = ids(&rs, get("/?safe=evil"));
    assert_eq!((m, i.map(|i| i.rule_id)), (vec![23], Some(23)));
    let (m, i) = ids(&rs, get("/?x=evil"));
    assert_eq!((m, i.map(|i| i.rule_id)), (vec![21, 23], Some(23)));
    let (m, i) = ids(&rs, get("/?off=1&x=evil&b=c"));
    assert_eq!((m, i), (vec![20, 21, 22], None));
}

#[test]
fn bodies_become_arguments() {
    let rs = load(
        r#"
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule ARGS:json.user.name "@streq root" "id:30,phase:2,deny"
SecRule FILES "@endsWith .php" "id:31,phase:2,deny"
"#,
    );
    let post = |ct: &str, body: &[u8]| {
        let mut r = get("/");
        r.method = "POST".into();
        r.headers.push(("Content-Type".into(), ct.as_bytes().to_vec()));
        r.body = body.to_vec();
        r
    };
    assert_eq!(ids(&rs, post("application/json", br#"{"user":{"name":"root"}}"#)).0, vec![1, 30]);
    let mp = b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.php\"\r\n\r\nx\r\n--B--\r\n";
    assert_eq!(ids(&rs, post("multipart/form-data; boundary=B", mp)).0, vec![31]);
}
