//! RFC 5424: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
//! STRUCTURED-DATA [SP MSG]`, after the PRI.
//!
//! Lenient where senders are sloppy: header fields may hold any non-space UTF-8 (not only
//! printable ASCII) and are not length-checked; a missing STRUCTURED-DATA field is taken as the
//! start of MSG (with a note) instead of failing the line. A header with missing fields or a
//! structured-data element that never closes fails: such a line is stored raw.

use jiff::tz::TimeZone;
use serde_json::{Map, Value};

use super::timestamp::{self, Found, ResolveCache};

/// The parts of an RFC 5424 message after the PRI. `None` stands for the NILVALUE `-`.
#[derive(Debug, Default)]
pub struct Message<'a> {
    pub version: &'a str,
    pub timestamp: Option<Found>,
    pub hostname: Option<&'a str>,
    pub appname: Option<&'a str>,
    pub procid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    pub structured_data: Option<Map<String, Value>>,
    pub message: &'a str,
    /// Things that were repaired, for `error.message`.
    pub notes: Vec<String>,
}

/// Whether the text after the PRI starts like RFC 5424: a version of 1-2 digits, not zero,
/// followed by a space.
pub fn looks_like(after_pri: &str) -> bool {
    let b = after_pri.as_bytes();
    let n = b.iter().take(3).take_while(|c| c.is_ascii_digit()).count();
    (1..=2).contains(&n) && b.get(n) == Some(&b' ') && b[0] != b'0'
}

/// Parses the text after the PRI; the error says which part is wrong.
pub fn parse<'a>(after_pri: &'a str, tz: &TimeZone, cache: &ResolveCache) -> Result<Message<'a>, String> {
    let mut rest = after_pri;
    let mut field = |name: &str| -> Result<&'a str, String> {
        let (token, tail) = match rest.split_once(' ') {
            Some(split) => split,
            None if !rest.is_empty() => (rest, ""),
            None => return Err(format!("RFC 5424 header ends before {name}")),
        };
        if token.is_empty() {
            return Err(format!("RFC 5424 {name} is empty (two spaces in the header)"));
        }
        rest = tail;
        Ok(token)
    };
    let nil = |token: &'a str| (token != "-").then_some(token);
    let version = field("VERSION")?;
    let ts_token = field("TIMESTAMP")?;
    let hostname = nil(field("HOSTNAME")?);
    let appname = nil(field("APP-NAME")?);
    let procid = nil(field("PROCID")?);
    let msgid = nil(field("MSGID")?);
    let timestamp = nil(ts_token).map(|t| match timestamp::scan_iso_cached(t, tz, cache) {
        Some((found, used)) if used == t.len() => found,
        _ => Err(format!("TIMESTAMP '{t}' is not an RFC 3339 timestamp")),
    });
    let mut out = Message { version, timestamp, hostname, appname, procid, msgid, ..Default::default() };
    let after_sd = if let Some(tail) = rest.strip_prefix('-') {
        tail
    } else if rest.starts_with('[') {
        let (sd, tail) = structured_data(rest)?;
        out.structured_data = Some(sd);
        tail
    } else if rest.is_empty() {
        out.notes.push("RFC 5424 STRUCTURED-DATA field missing at the end".into());
        ""
    } else {
        out.notes.push("RFC 5424 STRUCTURED-DATA field missing; the rest is taken as MSG".into());
        return Ok(Message { message: strip_bom(rest), ..out });
    };
    out.message = strip_bom(after_sd.strip_prefix(' ').unwrap_or(after_sd));
    Ok(out)
}

/// MSG may start with a UTF-8 byte order mark to say it is UTF-8; it is not part of the text.
fn strip_bom(msg: &str) -> &str {
    msg.strip_prefix('\u{feff}').unwrap_or(msg)
}

/// Parses one or more `[SD-ID PARAM="VALUE" ...]` elements at the start of `s`; returns the
/// map SD-ID → {PARAM: VALUE} and the text after the last `]`. A parameter given more than once
/// (RFC 5424 allows it, e.g. `origin ip=`) becomes an array of its values.
pub fn structured_data(s: &str) -> Result<(Map<String, Value>, &str), String> {
    let mut map = Map::new();
    let mut rest = s;
    while let Some(after_open) = rest.strip_prefix('[') {
        let id_len = after_open.find([' ', ']']).ok_or("STRUCTURED-DATA element is not closed with ']'")?;
        let id = &after_open[..id_len];
        if id.is_empty() {
            return Err("STRUCTURED-DATA element without SD-ID".into());
        }
        let mut params = Map::new();
        let mut p = &after_open[id_len..];
        loop {
            p = p.trim_start_matches(' ');
            if let Some(tail) = p.strip_prefix(']') {
                rest = tail;
                break;
            }
            let eq = p
                .find(['=', ']'])
                .filter(|&i| p.as_bytes()[i] == b'=')
                .ok_or_else(|| format!("SD-PARAM in [{id}] has no '=\"value\"'"))?;
            let name = &p[..eq];
            let after_eq = p[eq + 1..]
                .strip_prefix('"')
                .ok_or_else(|| format!("SD-PARAM {name} in [{id}] has no opening '\"'"))?;
            let (value, tail) =
                quoted_value(after_eq).ok_or_else(|| format!("SD-PARAM {name} in [{id}] has no closing '\"'"))?;
            add_param(&mut params, name, value);
            p = tail;
        }
        match map.get_mut(id) {
            Some(Value::Object(existing)) => {
                for (k, v) in params {
                    merge_param(existing, k, v);
                }
            }
            _ => {
                map.insert(id.to_string(), Value::Object(params));
            }
        }
    }
    Ok((map, rest))
}

/// Reads a PARAM-VALUE up to its closing quote, undoing the escapes `\"`, `\\` and `\]`; a
/// backslash before anything else is kept as written (RFC 5424 section 6.3.3).
fn quoted_value(s: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &s[i + 1..])),
            '\\' => match chars.clone().next() {
                Some((_, next @ ('"' | '\\' | ']'))) => {
                    value.push(next);
                    chars.next();
                }
                _ => value.push('\\'),
            },
            other => value.push(other),
        }
    }
    None
}

fn add_param(params: &mut Map<String, Value>, name: &str, value: String) {
    merge_param(params, name.to_string(), Value::String(value));
}

fn merge_param(params: &mut Map<String, Value>, name: String, value: Value) {
    match params.get_mut(&name) {
        None => {
            params.insert(name, value);
        }
        Some(Value::Array(values)) => values.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tz() -> TimeZone {
        TimeZone::UTC
    }

    #[test]
    fn rfc_example_with_structured_data() {
        let m = parse(
            r#"1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] BOMAn application event log entry..."#,
            &tz(),
            &ResolveCache::default(),
        )
        .unwrap();
        assert_eq!(m.version, "1");
        assert_eq!(m.hostname, Some("mymachine.example.com"));
        assert_eq!(m.appname, Some("evntslog"));
        assert_eq!(m.procid, None);
        assert_eq!(m.msgid, Some("ID47"));
        assert_eq!(
            Value::Object(m.structured_data.unwrap()),
            json!({"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}})
        );
        assert_eq!(m.message, "BOMAn application event log entry...");
    }

    #[test]
    fn escapes_repeats_and_several_elements() {
        let (sd, rest) = structured_data(
            r#"[a x="q\"uote" y="back\\slash" z="br\]acket" w="keep\n"][origin ip="1.2.3.4" ip="5.6.7.8" ip="9.9.9.9"][a extra="日本語"] msg"#,
        )
        .unwrap();
        assert_eq!(rest, " msg");
        assert_eq!(
            Value::Object(sd),
            json!({
                "a": {"x": "q\"uote", "y": "back\\slash", "z": "br]acket", "w": "keep\\n", "extra": "日本語"},
                "origin": {"ip": ["1.2.3.4", "5.6.7.8", "9.9.9.9"]}
            })
        );
    }

    #[test]
    fn bom_is_removed_and_nil_fields_are_none() {
        let m = parse("1 - - - - - - \u{feff}こんにちは", &tz(), &ResolveCache::default()).unwrap();
        assert!(m.timestamp.is_none() && m.hostname.is_none() && m.structured_data.is_none());
        assert_eq!(m.message, "こんにちは");
        let m = parse("1 - - - - - -", &tz(), &ResolveCache::default()).unwrap();
        assert_eq!(m.message, "");
    }

    #[test]
    fn broken_headers_and_data() {
        assert!(parse("1 2003-10-11T22:14:15Z host app", &tz(), &ResolveCache::default()).is_err());
        assert!(parse("1  host app - - -", &tz(), &ResolveCache::default()).is_err());
        assert!(parse(r#"1 - h a - - [id x="unterminated"#, &tz(), &ResolveCache::default()).is_err());
        assert!(parse(r#"1 - h a - - [id x=noquote]"#, &tz(), &ResolveCache::default()).is_err());
        assert!(parse(r#"1 - h a - - [id x]"#, &tz(), &ResolveCache::default()).is_err());
        assert!(parse(r#"1 - h a - - [ x="1"]"#, &tz(), &ResolveCache::default()).is_err());
        assert!(parse(r#"1 - h a - - ["#, &tz(), &ResolveCache::default()).is_err());
    }

    #[test]
    fn missing_structured_data_is_repaired() {
        let m = parse("1 - host app 12 - hello world", &tz(), &ResolveCache::default()).unwrap();
        assert_eq!(m.message, "hello world");
        let m = parse("1 - host app 12 ID1 hello world", &tz(), &ResolveCache::default()).unwrap();
        assert_eq!(m.message, "hello world");
        assert_eq!(m.notes.len(), 1);
    }

    #[test]
    fn bad_timestamp_is_reported_in_place() {
        let m = parse("1 yesterday host app - - - x", &tz(), &ResolveCache::default()).unwrap();
        assert!(m.timestamp.unwrap().unwrap_err().contains("yesterday"));
    }

    #[test]
    fn detection() {
        assert!(looks_like("1 2003"));
        assert!(looks_like("12 -"));
        assert!(!looks_like("0 x"));
        assert!(!looks_like("123 x"));
        assert!(!looks_like("1x"));
        assert!(!looks_like("Oct 11"));
        assert!(!looks_like(""));
    }
}
