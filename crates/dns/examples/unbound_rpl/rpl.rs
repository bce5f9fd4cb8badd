//! The testbound replay format (`.rpl`) of Unbound's test suite: a configuration block with
//! inline files, then a scenario of scripted upstream answers (RANGE: the steps during which
//! they hold, the server ADDRESSes they answer for, ENTRYs) and STEPs (QUERY, CHECK_ANSWER,
//! TIME_PASSES, ...).

use std::collections::HashMap;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};
use mamori_dns::zone::master;

/// One `ENTRY_BEGIN ... ENTRY_END`.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub matches: Vec<String>,
    pub adjust: Vec<String>,
    pub flags: Vec<String>,
    pub rcode: Option<ResponseCode>,
    pub question: Option<(Name, RecordType, DNSClass)>,
    pub answer: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
    /// A part this runner cannot read (raw hex packets).
    pub unsupported: Option<String>,
}

impl Entry {
    pub fn has_match(&self, m: &str) -> bool {
        self.matches.iter().any(|x| x.eq_ignore_ascii_case(m))
    }

    pub fn has_flag(&self, f: &str) -> bool {
        self.flags.iter().any(|x| x.eq_ignore_ascii_case(f))
    }
}

#[derive(Debug, Clone)]
pub struct Range {
    pub start: u64,
    pub end: u64,
    pub addresses: Vec<std::net::IpAddr>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Query {
        address: Option<std::net::IpAddr>,
        entry: Entry,
    },
    CheckAnswer(Entry),
    /// Milliseconds.
    TimePasses(u64),
    /// An answer to the resolver's outstanding upstream query.
    Reply(Entry),
    /// The resolver must have sent this query upstream.
    CheckOutQuery(Entry),
    /// The outstanding upstream query gets no answer.
    Timeout,
    /// The inline file `name`, as the resolver rewrote it, must hold these records.
    CheckTempfile {
        name: String,
        contents: String,
    },
    /// Steps this runner does not carry out (CHECK_OUT_QUERY, REPLY, TRAFFIC, ...).
    /// A server's round-trip time, in milliseconds.
    InfraRtt {
        ip: std::net::IpAddr,
        millis: u64,
    },
    Other(String),
}

#[derive(Debug, Clone)]
pub struct Step {
    pub number: u64,
    pub kind: StepKind,
}

/// One `name:` block of the configuration with its options (repeated keys kept in order) and
/// inline files.
#[derive(Debug, Clone, Default)]
pub struct Clause {
    pub kind: String,
    pub options: Vec<(String, String)>,
}

impl Clause {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.options.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
pub struct Scenario {
    pub clauses: Vec<Clause>,
    pub files: HashMap<String, String>,
    pub ranges: Vec<Range>,
    pub steps: Vec<Step>,
}

pub fn parse(text: &str) -> Result<Scenario, String> {
    let mut sc = Scenario::default();
    let mut lines = text.lines().enumerate().peekable();
    // Configuration up to CONFIG_END.
    while let Some((_, line)) = lines.next() {
        let t = line.trim();
        if t == "CONFIG_END" {
            break;
        }
        if let Some(name) = t.strip_prefix("TEMPFILE_NAME ") {
            // `zonefile:` left empty takes the name of the inline file that follows.
            if let Some(c) = sc.clauses.last_mut()
                && let Some(slot) = c.options.iter_mut().find(|(k, v)| k == "zonefile" && v.is_empty())
            {
                slot.1 = name.trim().to_string();
            }
            continue;
        }
        if let Some(name) = t.strip_prefix("TEMPFILE_CONTENTS ") {
            let mut body = String::new();
            for (_, l) in lines.by_ref() {
                if l.trim() == "TEMPFILE_END" {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            sc.files.insert(name.trim().to_string(), body);
            continue;
        }
        let t = strip_comment(t);
        if t.is_empty() {
            continue;
        }
        // unbound.conf comments start with `#`.
        let t = t.split('#').next().unwrap_or("").trim();
        if t.is_empty() {
            continue;
        }
        // `key: value` pairs, several on a line at times (`forward-zone: name: "." ...`).
        let mut key: Option<String> = None;
        let mut value: Vec<String> = Vec::new();
        let flush = |key: Option<String>, value: &mut Vec<String>, sc: &mut Scenario| {
            let Some(k) = key else { return };
            let v = unquote(&value.join(" ")).to_string();
            value.clear();
            if CLAUSES.contains(&k.as_str()) && v.is_empty() {
                sc.clauses.push(Clause { kind: k, options: Vec::new() });
            } else if let Some(c) = sc.clauses.last_mut() {
                c.options.push((k, v));
            }
        };
        for word in words(t) {
            if let Some(k) = word.strip_suffix(':').filter(|k| !k.starts_with('"') && !k.is_empty()) {
                // A clause name ends its value-less header at once.
                flush(key.take(), &mut value, &mut sc);
                key = Some(k.to_string());
                if CLAUSES.contains(&k) {
                    flush(key.take(), &mut value, &mut sc);
                }
            } else {
                value.push(word);
            }
        }
        flush(key, &mut value, &mut sc);
    }
    // The scenario.
    let mut current_range: Option<Range> = None;
    while let Some((n, line)) = lines.next() {
        let t = strip_comment(line.trim());
        let words: Vec<&str> = t.split_whitespace().collect();
        match words.first().copied() {
            None | Some("SCENARIO_BEGIN") | Some("SCENARIO_END") => {}
            Some("RANGE_BEGIN") => {
                let num = |i: usize| words.get(i).and_then(|w| w.parse().ok()).unwrap_or(0);
                current_range = Some(Range { start: num(1), end: num(2), addresses: vec![], entries: vec![] });
            }
            Some("ADDRESS") => {
                if let Some(r) = current_range.as_mut()
                    && let Some(ip) = words.get(1).and_then(|w| w.parse().ok())
                {
                    r.addresses.push(ip);
                }
            }
            Some("ENTRY_BEGIN") => {
                let entry = parse_entry(&mut lines).map_err(|e| format!("line {}: {e}", n + 1))?;
                if let Some(r) = current_range.as_mut() {
                    r.entries.push(entry);
                }
            }
            Some("RANGE_END") => {
                if let Some(r) = current_range.take() {
                    sc.ranges.push(r);
                }
            }
            Some("STEP") => {
                let number: u64 = words
                    .get(1)
                    .and_then(|w| w.parse().ok())
                    .ok_or(format!("line {}: STEP without a number", n + 1))?;
                let kind = match words.get(2).copied() {
                    Some("QUERY") => {
                        let address = words
                            .iter()
                            .position(|w| *w == "ADDRESS")
                            .and_then(|i| words.get(i + 1))
                            .and_then(|w| w.parse().ok());
                        expect_entry(&mut lines)?;
                        StepKind::Query { address, entry: parse_entry(&mut lines)? }
                    }
                    Some("CHECK_ANSWER") => {
                        expect_entry(&mut lines)?;
                        StepKind::CheckAnswer(parse_entry(&mut lines)?)
                    }
                    Some("TIME_PASSES") => {
                        // Seconds, with a fraction (`0.300`): kept in milliseconds.
                        let secs: f64 = words
                            .iter()
                            .position(|w| *w == "ELAPSE")
                            .and_then(|i| words.get(i + 1))
                            .and_then(|w| w.parse().ok())
                            .unwrap_or(0.0);
                        StepKind::TimePasses((secs * 1000.0).round() as u64)
                    }
                    Some("REPLY") => {
                        expect_entry(&mut lines)?;
                        StepKind::Reply(parse_entry(&mut lines)?)
                    }
                    Some("CHECK_OUT_QUERY") => {
                        expect_entry(&mut lines)?;
                        StepKind::CheckOutQuery(parse_entry(&mut lines)?)
                    }
                    Some("CHECK_TEMPFILE") => {
                        let name = words.get(3).ok_or(format!("line {}: CHECK_TEMPFILE without a name", n + 1))?;
                        let mut contents = String::new();
                        for (_, l) in lines.by_ref() {
                            match l.trim() {
                                "FILE_BEGIN" => {}
                                "FILE_END" => break,
                                _ => {
                                    contents.push_str(l);
                                    contents.push('\n');
                                }
                            }
                        }
                        StepKind::CheckTempfile { name: name.to_string(), contents }
                    }
                    Some("TIMEOUT") | Some("ERROR") => StepKind::Timeout,
                    // `INFRA_RTT ADDRESS ZONE MILLISECONDS`: what is known of a server's speed.
                    Some("INFRA_RTT") => {
                        let at = words.iter().position(|w| *w == "INFRA_RTT").unwrap_or(0);
                        let arg = |i: usize| words.get(at + i).copied().unwrap_or("");
                        let ip = arg(1).parse().map_err(|_| "INFRA_RTT without an address")?;
                        let millis = arg(3).parse().map_err(|_| "INFRA_RTT without a time")?;
                        StepKind::InfraRtt { ip, millis }
                    }
                    Some(other) => StepKind::Other(other.to_string()),
                    None => StepKind::Other(String::new()),
                };
                sc.steps.push(Step { number, kind });
            }
            _ => {}
        }
    }
    Ok(sc)
}

fn expect_entry<'a>(lines: &mut impl Iterator<Item = (usize, &'a str)>) -> Result<(), String> {
    for (_, l) in lines {
        let t = strip_comment(l.trim());
        if t.is_empty() {
            continue;
        }
        return if t == "ENTRY_BEGIN" { Ok(()) } else { Err(format!("expected ENTRY_BEGIN, found {t}")) };
    }
    Err("the file ends before ENTRY_BEGIN".into())
}

fn parse_entry<'a>(lines: &mut impl Iterator<Item = (usize, &'a str)>) -> Result<Entry, String> {
    let mut e = Entry::default();
    let mut section = String::new();
    let mut blocks: HashMap<String, String> = HashMap::new();
    for (_, l) in lines.by_ref() {
        let t = l.trim();
        let words: Vec<&str> = strip_comment(t).split_whitespace().collect();
        match words.first().copied() {
            Some("ENTRY_END") => break,
            Some("MATCH") => e.matches.extend(words[1..].iter().map(|w| w.to_string())),
            Some("ADJUST") => e.adjust.extend(words[1..].iter().map(|w| w.to_string())),
            Some("REPLY") => {
                for w in &words[1..] {
                    match rcode(w) {
                        Some(r) => e.rcode = Some(r),
                        None => e.flags.push(w.to_string()),
                    }
                }
            }
            Some("SECTION") => section = words.get(1).unwrap_or(&"").to_string(),
            Some("HEX_ANSWER_BEGIN") | Some("EXTRA_PACKET") | Some("HEX_EDNSDATA_BEGIN") => {
                e.unsupported = Some(words[0].to_string());
            }
            Some(_) if !section.is_empty() => {
                let b = blocks.entry(section.clone()).or_default();
                b.push_str(t);
                b.push('\n');
            }
            _ => {}
        }
    }
    if let Some(q) = blocks.get("QUESTION") {
        e.question = parse_question(q);
    }
    let records = |s: &str| -> Result<Vec<Record>, String> {
        match blocks.get(s) {
            None => Ok(vec![]),
            Some(text) => {
                let whole = format!("$TTL 3600\n{text}");
                if let Ok(parsed) = master::parse(&whole, &Name::root(), None) {
                    return Ok(parsed.into_iter().map(|p| p.record).collect());
                }
                // Records hickory will not read from text (RRSIG, ...) are left out one by one.
                let mut out = Vec::new();
                for line in text.lines() {
                    if let Ok(p) = master::parse(&format!("$TTL 3600\n{line}\n"), &Name::root(), None) {
                        out.extend(p.into_iter().map(|p| p.record));
                    }
                }
                Ok(out)
            }
        }
    };
    e.answer = records("ANSWER")?;
    e.authority = records("AUTHORITY")?;
    e.additional = records("ADDITIONAL")?;
    Ok(e)
}

fn parse_question(text: &str) -> Option<(Name, RecordType, DNSClass)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let name = Name::parse(words.first()?, Some(&Name::root())).ok()?;
    // `name [class] type`: the type comes last (`IN ANY` is a class and a type).
    let (last, middle) = words[1..].split_last()?;
    let mut class = DNSClass::IN;
    for w in middle {
        if let Ok(c) = w.to_ascii_uppercase().parse::<DNSClass>() {
            class = c;
        }
    }
    let u = last.to_ascii_uppercase();
    // hickory's RecordType::from_str has no IXFR.
    let rtype = if u == "IXFR" { RecordType::IXFR } else { u.parse::<RecordType>().ok()? };
    Some((name, rtype, class))
}

fn rcode(w: &str) -> Option<ResponseCode> {
    Some(match w {
        "NOERROR" => ResponseCode::NoError,
        "FORMERR" => ResponseCode::FormErr,
        "SERVFAIL" => ResponseCode::ServFail,
        "NXDOMAIN" => ResponseCode::NXDomain,
        "NOTIMPL" | "NOTIMP" => ResponseCode::NotImp,
        "REFUSED" => ResponseCode::Refused,
        "YXDOMAIN" => ResponseCode::YXDomain,
        "NOTAUTH" => ResponseCode::NotAuth,
        _ => return None,
    })
}

fn strip_comment(t: &str) -> &str {
    // `;` starts a comment outside quotes.
    let mut quoted = false;
    for (i, c) in t.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return t[..i].trim_end(),
            _ => {}
        }
    }
    t
}

/// Top-level blocks of unbound.conf.
const CLAUSES: &[&str] = &[
    "server",
    "rpz",
    "stub-zone",
    "forward-zone",
    "auth-zone",
    "view",
    "remote-control",
    "python",
    "dynlib",
    "cachedb",
    "dnstap",
];

/// Words of a configuration line; quoted strings stay one word (with their quotes).
fn words(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in t.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v)
}
