//! RFC 1035 §5 master files, read one logical record at a time so that every error names its
//! line. This part resolves what spans records (`$ORIGIN`, `$TTL`, `$INCLUDE`, parentheses,
//! comments, the inherited owner, TTL and class); the RDATA of each record is handed to
//! hickory's parser with the record's owner made absolute.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use hickory_proto::rr::{DNSClass, Name, Record, RecordType};

use hickory_proto::serialize::txt::{Parser, parse_ttl};

/// `$INCLUDE` nesting deeper than this is an error (a file including itself).
const MAX_INCLUDE_DEPTH: usize = 8;

/// A record and the line it starts on.
pub struct Parsed {
    pub line: usize,
    pub record: Record,
}

/// Parses `text`; `path` names the file in errors and anchors relative `$INCLUDE`s.
pub fn parse(text: &str, origin: &Name, path: Option<&Path>) -> Result<Vec<Parsed>, String> {
    parse_with_default_ttl(text, origin, path, None)
}

/// As [`parse`], with a TTL for records before any `$TTL` or explicit TTL (policy zones are
/// often written without; Unbound and BIND assume one).
pub fn parse_with_default_ttl(
    text: &str,
    origin: &Name,
    path: Option<&Path>,
    ttl: Option<u32>,
) -> Result<Vec<Parsed>, String> {
    let mut state = State { origin: origin.clone(), owner: None, default_ttl: None, last_ttl: ttl };
    let mut out = Vec::new();
    parse_into(text, path, &mut state, &mut out, 0)?;
    Ok(out)
}

struct State {
    origin: Name,
    owner: Option<Name>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
}

fn parse_into(
    text: &str,
    path: Option<&Path>,
    state: &mut State,
    out: &mut Vec<Parsed>,
    depth: usize,
) -> Result<(), String> {
    let file = path.map_or_else(|| "zone".to_string(), |p| p.display().to_string());
    for line in logical_lines(text).map_err(|(line, e)| format!("{file}:{line}: {e}"))? {
        let at = |e: String| format!("{file}:{}: {e}", line.number);
        let first = line.tokens[0].as_str();
        if !line.blank_owner && first.starts_with('$') {
            match first.to_ascii_uppercase().as_str() {
                "$ORIGIN" => {
                    let name = line.tokens.get(1).ok_or_else(|| at("$ORIGIN needs a name".into()))?;
                    state.origin =
                        Name::parse(name, Some(&state.origin)).map_err(|e| at(format!("$ORIGIN {name}: {e}")))?;
                }
                "$TTL" => {
                    let ttl = line.tokens.get(1).ok_or_else(|| at("$TTL needs a value".into()))?;
                    state.default_ttl = Some(parse_ttl(ttl).map_err(|e| at(format!("$TTL {ttl}: {e}")))?);
                }
                "$INCLUDE" => {
                    let target = line.tokens.get(1).ok_or_else(|| at("$INCLUDE needs a file name".into()))?;
                    include(target, line.tokens.get(2), path, state, out, depth).map_err(at)?;
                }
                other => return Err(at(format!("unknown directive {other}"))),
            }
            continue;
        }
        let record = record(&line, state).map_err(at)?;
        out.push(Parsed { line: line.number, record });
    }
    Ok(())
}

fn include(
    target: &str,
    origin: Option<&String>,
    path: Option<&Path>,
    state: &mut State,
    out: &mut Vec<Parsed>,
    depth: usize,
) -> Result<(), String> {
    if depth >= MAX_INCLUDE_DEPTH {
        return Err(format!("$INCLUDE nested more than {MAX_INCLUDE_DEPTH} deep"));
    }
    let base = path.and_then(Path::parent).ok_or("$INCLUDE needs the zone to be read from a file")?;
    let file: PathBuf = base.join(target);
    let text = std::fs::read_to_string(&file).map_err(|e| format!("$INCLUDE {}: {e}", file.display()))?;
    // RFC 1035 §5.1: the included file may have its own origin; ours comes back afterwards.
    let saved_origin = state.origin.clone();
    let saved_owner = state.owner.clone();
    if let Some(o) = origin {
        state.origin = Name::parse(o, Some(&state.origin)).map_err(|e| format!("$INCLUDE origin {o}: {e}"))?;
    }
    parse_into(&text, Some(&file), state, out, depth + 1)?;
    state.origin = saved_origin;
    state.owner = saved_owner;
    Ok(())
}

fn record(line: &Line, state: &mut State) -> Result<Record, String> {
    let mut tokens = line.tokens.iter().map(String::as_str).peekable();
    if !line.blank_owner {
        let owner = tokens.next().unwrap_or("@");
        state.owner = Some(match owner {
            "@" => state.origin.clone(),
            o => Name::parse(o, Some(&state.origin)).map_err(|e| format!("owner {o}: {e}"))?,
        });
    }
    let owner = state.owner.clone().ok_or("the first record has no owner name")?;
    let (mut ttl, mut class, mut rtype) = (None, None, None);
    // RFC 1035 §5.1: [<TTL>] [<class>] <type> in either order of the first two.
    for token in tokens.by_ref() {
        let upper = token.to_ascii_uppercase();
        if ttl.is_none()
            && token.starts_with(|c: char| c.is_ascii_digit())
            && let Ok(t) = parse_ttl(token)
        {
            ttl = Some(t);
        } else if class.is_none()
            && let Ok(c) = DNSClass::from_str(&upper)
        {
            class = Some(c);
        } else if upper == "ZONEMD" {
            // RFC 8976; hickory's parser does not know the type.
            rtype = Some(super::zonemd::ZONEMD);
            break;
        } else if let Some(code) = upper.strip_prefix("TYPE").and_then(|n| n.parse::<u16>().ok()) {
            // RFC 3597 §5: a type by number (`TYPE63`).
            rtype = Some(RecordType::from(code));
            break;
        } else {
            rtype = Some(RecordType::from_str(&upper).map_err(|_| format!("unknown record type or class '{token}'"))?);
            break;
        }
    }
    let rtype = rtype.ok_or("the record has no type")?;
    let rdata: Vec<&str> = tokens.collect();
    let class = class.unwrap_or(DNSClass::IN);
    let ttl = match ttl.or(state.default_ttl).or(state.last_ttl) {
        Some(t) => t,
        // RFC 2308 §4: the SOA's MINIMUM used to be the default; read it from this SOA.
        None if rtype == RecordType::SOA => rdata.get(6).and_then(|t| parse_ttl(t).ok()).ok_or("the SOA has no TTL")?,
        None => return Err("no TTL for this record and no $TTL before it".into()),
    };
    state.last_ttl = Some(ttl);
    if rdata.first() == Some(&"\\#") {
        return super::dnssec_text::generic(owner.clone(), ttl, class, rtype, &rdata[1..])
            .map_err(|e| format!("{rtype} record of {owner}: {e}"));
    }
    if rtype == super::zonemd::ZONEMD {
        return super::zonemd::record(owner.clone(), ttl, &rdata).map_err(|e| format!("ZONEMD record of {owner}: {e}"));
    }
    if super::dnssec_text::handles(rtype) {
        return super::dnssec_text::record(owner.clone(), ttl, class, rtype, &rdata, &state.origin)
            .map_err(|e| format!("{rtype} record of {owner}: {e}"));
    }
    let text = format!("{owner} {ttl} {class} {rtype} {}\n", rdata.join(" "));
    let (_, sets) = Parser::new(text, None, Some(state.origin.clone()))
        .parse()
        .map_err(|e| format!("{rtype} record of {owner}: {e}"))?;
    sets.into_values()
        .flat_map(|s| s.records_without_rrsigs().cloned().collect::<Vec<_>>())
        .next()
        .ok_or_else(|| format!("{rtype} record of {owner} has no data"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A record as one master-format line that [`parse`] reads back (hickory's `Display` writes
/// TXT strings unquoted): TXT strings quoted, `"` and `\` escaped, other bytes outside
/// printable ASCII as `\DDD`.
pub fn record_text(r: &Record) -> String {
    let rdata = match &r.data {
        hickory_proto::rr::RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::NSEC(nsec))
            if nsec.type_bit_maps().any(|t| matches!(t, RecordType::Unknown(_))) =>
        {
            let types: Vec<String> = nsec
                .type_bit_maps()
                .map(|t| match t {
                    RecordType::Unknown(n) => format!("TYPE{n}"),
                    t => t.to_string(),
                })
                .collect();
            format!("{} {}", nsec.next_domain_name(), types.join(" "))
        }
        // hickory writes a covered type it has no name for as `Unknown`, which reads back as
        // nothing: RFC 3597's `TYPEnnn` instead.
        hickory_proto::rr::RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(sig))
            if matches!(sig.input().type_covered, RecordType::Unknown(_)) =>
        {
            use base64::Engine;
            let i = sig.input();
            format!(
                "TYPE{} {} {} {} {} {} {} {} {}",
                u16::from(i.type_covered),
                u8::from(i.algorithm),
                i.num_labels,
                i.original_ttl,
                i.sig_expiration.get(),
                i.sig_inception.get(),
                i.key_tag,
                i.signer_name,
                base64::engine::general_purpose::STANDARD.encode(sig.sig())
            )
        }
        hickory_proto::rr::RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|s| {
                let mut out = String::from("\"");
                for &b in s.iter() {
                    match b {
                        b'"' | b'\\' => {
                            out.push('\\');
                            out.push(b as char);
                        }
                        0x20..=0x7e => out.push(b as char),
                        _ => out.push_str(&format!("\\{b:03}")),
                    }
                }
                out.push('"');
                out
            })
            .collect::<Vec<_>>()
            .join(" "),
        hickory_proto::rr::RData::Unknown { code, rdata } if *code == super::zonemd::ZONEMD => {
            let b = &rdata.anything[..];
            if b.len() < 6 {
                return format!("{} {} {} TYPE63 \\# {} {}", r.name, r.ttl, r.dns_class, b.len(), hex(b));
            }
            let serial = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            return format!("{} {} {} ZONEMD {serial} {} {} {}", r.name, r.ttl, r.dns_class, b[4], b[5], hex(&b[6..]));
        }
        other => other.to_string(),
    };
    format!("{} {} {} {} {rdata}", r.name, r.ttl, r.dns_class, r.record_type())
}

/// One record's tokens, joined across parentheses, with comments removed.
struct Line {
    number: usize,
    blank_owner: bool,
    tokens: Vec<String>,
}

fn logical_lines(text: &str) -> Result<Vec<Line>, (usize, String)> {
    let mut lines = Vec::new();
    let mut number = 1;
    let mut current: Option<Line> = None;
    let mut token = String::new();
    let mut token_open = false;
    let (mut parens, mut quoted) = (0usize, false);
    let mut chars = text.chars().peekable();
    let mut at_line_start = true;
    while let Some(c) = chars.next() {
        let line = current.get_or_insert_with(|| Line { number, blank_owner: false, tokens: Vec::new() });
        if at_line_start && parens == 0 {
            line.number = number;
            line.blank_owner = c == ' ' || c == '\t';
            at_line_start = false;
        }
        match c {
            '\\' => {
                token.push(c);
                if let Some(n) = chars.next() {
                    if n == '\n' {
                        number += 1;
                    }
                    token.push(n);
                }
                token_open = true;
                continue;
            }
            '"' => {
                quoted = !quoted;
                token.push(c);
                token_open = true;
                continue;
            }
            _ if quoted => {
                if c == '\n' {
                    return Err((number, "a quoted string runs past the end of the line".into()));
                }
                token.push(c);
                continue;
            }
            ';' => {
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
                continue;
            }
            '(' => parens += 1,
            ')' => {
                parens = parens.checked_sub(1).ok_or((number, "')' without '('".to_string()))?;
            }
            ' ' | '\t' | '\r' | '\n' => {}
            _ => {
                token.push(c);
                token_open = true;
                continue;
            }
        }
        if token_open {
            line.tokens.push(std::mem::take(&mut token));
            token_open = false;
        }
        if c == '\n' {
            number += 1;
            if parens == 0 {
                at_line_start = true;
                if let Some(l) = current.take().filter(|l| !l.tokens.is_empty()) {
                    lines.push(l);
                }
            }
        }
    }
    if quoted {
        return Err((number, "a quoted string is not closed".into()));
    }
    if parens > 0 {
        return Err((number, "'(' is not closed".into()));
    }
    if let Some(mut l) = current {
        if token_open {
            l.tokens.push(token);
        }
        if !l.tokens.is_empty() {
            lines.push(l);
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod record_text_tests {
    use super::*;

    #[test]
    fn records_written_read_back_the_same() {
        let origin = Name::from_ascii("example.jp.").unwrap();
        let text = "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n@ MX 10 mail\n@ TXT \"v=spf1 mx -all\" \"two words\"\nq TXT \"a \\\"quote\\\" and \\\\ back\"\n@ CAA 0 issue \"letsencrypt.org\"\n_sip._tcp SRV 10 60 5060 web\nweb A 192.0.2.1\nweb AAAA 2001:db8::1\nwww CNAME web\n1 PTR web\n";
        let records: Vec<Record> = parse(text, &origin, None).unwrap().into_iter().map(|p| p.record).collect();
        let written: String = records.iter().map(|r| record_text(r) + "\n").collect();
        let back: Vec<Record> = parse(&written, &origin, None).unwrap().into_iter().map(|p| p.record).collect();
        assert_eq!(back, records, "{written}");
    }
}
