//! CHECK_ANSWER: our reply against the expected entry. With `MATCH all` the flags, the rcode
//! and every section must agree (records compared as sets, TTLs only with `MATCH ttl`), as
//! testbound does; otherwise only what MATCH names.

use hickory_proto::op::Message;
use hickory_proto::rr::Record;

use crate::rpl::Entry;

pub fn check(expected: &Entry, got: &Message) -> Result<(), String> {
    let all = expected.has_match("all");
    let md = &got.metadata;
    if all {
        let flags = [
            ("QR", md.message_type == hickory_proto::op::MessageType::Response),
            ("AA", md.authoritative),
            ("TC", md.truncation),
            ("RD", md.recursion_desired),
            ("RA", md.recursion_available),
            ("AD", md.authentic_data),
            ("CD", md.checking_disabled),
        ];
        for (f, set) in flags {
            if expected.has_flag(f) != set {
                return Err(format!("flag {f}: expected {}, got {}", expected.has_flag(f), set));
            }
        }
        let want = expected.rcode.unwrap_or(hickory_proto::op::ResponseCode::NoError);
        if md.response_code != want {
            return Err(format!("rcode: expected {want}, got {}", md.response_code));
        }
    }
    if let Some((name, rtype, _)) = &expected.question
        && (all || expected.has_match("qname") || expected.has_match("qtype"))
    {
        let q = got.queries.first().ok_or("no question in the reply")?;
        if q.name().to_lowercase() != name.to_lowercase() || q.query_type != *rtype {
            return Err(format!("question: expected {name} {rtype}, got {} {}", q.name(), q.query_type));
        }
    }
    if all {
        let ttl = expected.has_match("ttl");
        same_section("answer", &expected.answer, &got.answers, ttl)?;
        same_section("authority", &expected.authority, &got.authorities, ttl)?;
        same_section("additional", &expected.additional, &got.additionals, ttl)?;
    }
    Ok(())
}

fn same_section(section: &str, want: &[Record], got: &[Record], ttl: bool) -> Result<(), String> {
    let norm = |rs: &[Record]| {
        let mut v: Vec<String> = rs
            .iter()
            .map(|r| {
                let ttl = if ttl { r.ttl.to_string() } else { String::new() };
                format!("{} {ttl} {} {}", r.name.to_lowercase(), r.record_type(), r.data).to_lowercase()
            })
            .collect();
        v.sort();
        v
    };
    let (w, g) = (norm(want), norm(got));
    if w != g {
        return Err(format!("{section} section: expected {w:?}, got {g:?}"));
    }
    Ok(())
}
