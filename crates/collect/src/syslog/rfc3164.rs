//! RFC 3164 ("BSD syslog") as devices really send it: `[PRI]TIMESTAMP HOSTNAME TAG[PID]: MSG`
//! where the PRI, the hostname or the tag may be missing, the timestamp may be ISO 8601, carry a
//! year or a fraction, and Cisco gear prefixes a sequence number and puts `%FAC-SEV-MNEMONIC:`
//! where the tag would be.
//!
//! RFC 3164 itself accepts anything after a valid PRI as the message, so with a PRI this parser
//! never fails. Without a PRI it needs a timestamp at the start (the layout of syslog files on
//! disk); anything else is not syslog and the caller stores it raw.

use std::net::IpAddr;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::timestamp::{self, Found, ResolveCache};

/// The parts found; `message` is what is left after them.
#[derive(Debug, Default)]
pub struct Message<'a> {
    pub timestamp: Option<Found>,
    pub hostname: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub pid: Option<&'a str>,
    pub cisco: Option<Mnemonic<'a>>,
    pub message: &'a str,
}

/// A Cisco-style `%FACILITY-SEVERITY-MNEMONIC` (IOS, NX-OS, ASA, FTD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mnemonic<'a> {
    pub facility: &'a str,
    pub severity: u8,
    pub mnemonic: &'a str,
}

/// Parses `s`, the text after the PRI (or the whole line when there is none). Returns `None`
/// when there is no PRI and no timestamp to anchor on.
pub fn parse<'a>(
    s: &'a str,
    has_pri: bool,
    tz: &TimeZone,
    reference: Timestamp,
    cache: &ResolveCache,
) -> Option<Message<'a>> {
    let mut out = Message::default();
    let mut rest = s;
    if let Some((found, host, after)) = leading_timestamp(s, tz, reference, cache) {
        out.timestamp = Some(found);
        out.hostname = host;
        rest = after;
        if out.hostname.is_none() {
            let (host, after) = hostname(rest);
            out.hostname = host;
            rest = after;
        }
    } else if !has_pri {
        return None;
    }
    if let Some((tag, pid, after)) = tag(rest) {
        out.tag = Some(tag);
        out.pid = pid;
        rest = after;
    }
    if let Some((mnemonic, after)) = cisco_mnemonic(rest) {
        out.cisco = Some(mnemonic);
        rest = after;
    }
    out.message = rest;
    Some(out)
}

/// A timestamp at the start, possibly after Cisco's `seq: ` or `seq: host: ` and spaces.
/// Returns it, the host named in the prefix and the text after it (separators skipped).
fn leading_timestamp<'a>(
    s: &'a str,
    tz: &TimeZone,
    reference: Timestamp,
    cache: &ResolveCache,
) -> Option<(Found, Option<&'a str>, &'a str)> {
    let at = |text: &'a str| -> Option<(Found, &'a str)> {
        let text = text.trim_start_matches(' ');
        let (found, used) = timestamp::scan_bsd_cached(text, tz, reference, cache)
            .or_else(|| timestamp::scan_iso_cached(text, tz, cache))?;
        let after = &text[used..];
        // Terminated by a space, `: ` (Cisco) or the end of the line.
        let after = match after.strip_prefix(':') {
            Some(a) if a.is_empty() || a.starts_with(' ') => a,
            Some(_) => return None,
            None if after.is_empty() || after.starts_with(' ') => after,
            None => return None,
        };
        Some((found, after.trim_start_matches(' ')))
    };
    if let Some((found, after)) = at(s) {
        return Some((found, None, after));
    }
    // Cisco IOS: `123: *Mar  1 ...` or, with `logging origin-id`, `123: router1: *Mar  1 ...`.
    let (seq, after_seq) = s.split_once(": ")?;
    if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some((found, after)) = at(after_seq) {
        return Some((found, None, after));
    }
    let (host, after_host) = after_seq.split_once(": ")?;
    if !is_hostname(host) {
        return None;
    }
    at(after_host).map(|(found, after)| (found, Some(host), after))
}

/// The hostname after a timestamp: a token that looks like a host name or an address and is
/// followed by more text. A token ending in `:` or holding `[` is the tag of a sender that
/// left the hostname out.
fn hostname(s: &str) -> (Option<&str>, &str) {
    let Some((token, after)) = s.split_once(' ') else {
        return (None, s);
    };
    if !is_hostname(token) {
        return (None, s);
    }
    let after = after.trim_start_matches(' ');
    // Cisco ASA with `logging device-id hostname`: `FW01 : %ASA-...`.
    let after = match after.strip_prefix(':') {
        Some(a) if a.starts_with(' ') => a.trim_start_matches(' '),
        _ => after,
    };
    (Some(token), after)
}

fn is_hostname(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 255
        && !token.starts_with(['%', '-', '.'])
        && (token.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            || token.parse::<IpAddr>().is_ok())
}

/// `name[pid]: `, `name[pid] `, `name: ` or a lone `name:` at the end. The name may hold `/`,
/// `.`, `-`, `_` and the like but no spaces, quotes or `=` (those start key=value messages).
fn tag(s: &str) -> Option<(&str, Option<&str>, &str)> {
    let end = s.find([' ', ':', '['])?;
    let name = &s[..end];
    if name.is_empty() || name.len() > 128 || name.starts_with('%') || name.contains(['=', '"']) {
        return None;
    }
    let after = &s[end..];
    let (pid, after) = match after.strip_prefix('[') {
        Some(p) => {
            let close = p.find(']')?;
            let pid = &p[..close];
            if pid.is_empty() || pid.len() > 128 || pid.contains(' ') {
                return None;
            }
            let after = &p[close + 1..];
            (Some(pid), after.strip_prefix(':').unwrap_or(after))
        }
        None => (None, after.strip_prefix(':')?),
    };
    if after.is_empty() {
        return Some((name, pid, after));
    }
    let msg = after.strip_prefix(' ')?;
    Some((name, pid, msg))
}

/// `%FAC[-SUB]-SEV-MNEMONIC: text` at the start of `s`: the parts and the text after `: `.
fn cisco_mnemonic(s: &str) -> Option<(Mnemonic<'_>, &str)> {
    let body = s.strip_prefix('%')?;
    let colon = body.find(':')?;
    let token = &body[..colon];
    if token.contains(' ') || token.is_empty() {
        return None;
    }
    // The severity is the last one-digit part that is neither first nor last.
    let mut start = 0;
    let mut found = None;
    let parts: Vec<(usize, &str)> = token
        .split('-')
        .map(|p| {
            let at = start;
            start += p.len() + 1;
            (at, p)
        })
        .collect();
    if parts.len() < 3 {
        return None;
    }
    for &(at, part) in &parts[1..parts.len() - 1] {
        if let [d @ b'0'..=b'7'] = part.as_bytes() {
            found = Some((at, d - b'0'));
        }
    }
    let (at, severity) = found?;
    let mnemonic = Mnemonic { facility: &token[..at - 1], severity, mnemonic: &token[at + 2..] };
    let after = &body[colon + 1..];
    Some((mnemonic, after.strip_prefix(' ').unwrap_or(after)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, has_pri: bool) -> Option<Message<'_>> {
        let reference: Timestamp = "2024-03-01T03:00:00Z".parse().unwrap();
        parse(s, has_pri, &TimeZone::fixed(jiff::tz::offset(9)), reference, &ResolveCache::default())
    }

    #[test]
    fn classic_line() {
        let m = p("Mar  1 12:00:00 web01 sshd[4123]: Accepted password for root", true).unwrap();
        assert!(m.timestamp.unwrap().is_ok());
        assert_eq!(m.hostname, Some("web01"));
        assert_eq!((m.tag, m.pid), (Some("sshd"), Some("4123")));
        assert_eq!(m.message, "Accepted password for root");
    }

    #[test]
    fn no_hostname() {
        let m = p("Mar  1 12:00:00 kernel: eth0 up", true).unwrap();
        assert_eq!((m.hostname, m.tag), (None, Some("kernel")));
        assert_eq!(m.message, "eth0 up");
        let m = p("Mar  1 12:00:00 sshd[1]: x", true).unwrap();
        assert_eq!((m.hostname, m.tag, m.pid), (None, Some("sshd"), Some("1")));
    }

    #[test]
    fn mnemonics() {
        let (m, rest) = cisco_mnemonic("%ASA-6-302013: Built outbound").unwrap();
        assert_eq!((m.facility, m.severity, m.mnemonic), ("ASA", 6, "302013"));
        assert_eq!(rest, "Built outbound");
        let (m, _) = cisco_mnemonic("%SEC_LOGIN-5-LOGIN_SUCCESS: x").unwrap();
        assert_eq!((m.facility, m.severity, m.mnemonic), ("SEC_LOGIN", 5, "LOGIN_SUCCESS"));
        let (m, _) = cisco_mnemonic("%ETH-PORT-3-IF-DOWN:x").unwrap();
        assert_eq!((m.facility, m.severity, m.mnemonic), ("ETH-PORT", 3, "IF-DOWN"));
        assert!(cisco_mnemonic("%ASA-302013: x").is_none());
        assert!(cisco_mnemonic("%A-9-B: x").is_none());
        assert!(cisco_mnemonic("%-1-: x").is_some());
        assert!(cisco_mnemonic("%%%").is_none());
        assert!(cisco_mnemonic("100% done: yes").is_none());
    }

    #[test]
    fn without_pri_needs_a_timestamp() {
        assert!(p("hello world", false).is_none());
        assert!(p("hello: world", false).is_none());
        let m = p("hello world", true).unwrap();
        assert_eq!((m.tag, m.message), (None, "hello world"));
        let m = p("2024-03-01T12:00:00+09:00 host app: x", false).unwrap();
        assert_eq!((m.hostname, m.tag, m.message), (Some("host"), Some("app"), "x"));
    }

    #[test]
    fn tags() {
        assert_eq!(tag("app: x"), Some(("app", None, "x")));
        assert_eq!(tag("app:"), Some(("app", None, "")));
        assert_eq!(tag("a/b[12]: x"), Some(("a/b", Some("12"), "x")));
        assert_eq!(tag("a[12] x"), Some(("a", Some("12"), "x")));
        assert_eq!(tag("CEF:0|x"), None);
        assert_eq!(tag("key=value: x"), None);
        assert_eq!(tag("a[12 x"), None);
        assert_eq!(tag("a[]: x"), None);
        assert_eq!(tag(": x"), None);
        assert_eq!(tag("plain words"), None);
        assert_eq!(tag(""), None);
    }
}
