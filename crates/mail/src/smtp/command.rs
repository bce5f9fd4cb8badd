//! SMTP command lines (RFC 5321 §4.1.1, with the parameters of RFC 1870 SIZE, RFC 6152
//! 8BITMIME, RFC 6531 SMTPUTF8 and RFC 3030 BDAT). Pure parsing: no I/O, no state.

use super::address::{self, Path};
use super::reply::{Reply, codes};

/// `BODY=` of RFC 6152 / RFC 3030.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Body {
    #[default]
    SevenBit,
    EightBitMime,
    BinaryMime,
}

/// Parameters of MAIL FROM the server understands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailParams {
    pub size: Option<u64>,
    pub body: Body,
    pub smtputf8: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Helo(String),
    Ehlo(String),
    Mail(Path, MailParams),
    Rcpt(Path),
    Data,
    Bdat { size: u64, last: bool },
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
}

/// Parses one command line (CRLF removed). The error is the reply to send.
pub fn parse(line: &[u8]) -> Result<Command, Reply> {
    let line = std::str::from_utf8(line).map_err(|_| codes::syntax("Syntax error: command is not valid UTF-8"))?;
    if line.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
        return Err(codes::syntax("Syntax error: control character in the command"));
    }
    let (verb, arg) = match line.find(' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, ""),
    };
    let verb = verb.to_ascii_uppercase();
    let no_arg = |c: Command| {
        if arg.trim().is_empty() { Ok(c) } else { Err(codes::param_syntax("Syntax error: no parameters allowed")) }
    };
    match verb.as_str() {
        "HELO" | "EHLO" => {
            let host = arg.trim();
            if host.is_empty() || host.contains(char::is_whitespace) {
                return Err(codes::param_syntax(&format!("Syntax: {verb} hostname")));
            }
            Ok(if verb == "HELO" { Command::Helo(host.into()) } else { Command::Ehlo(host.into()) })
        }
        "MAIL" => {
            let rest = strip_keyword(arg, "FROM:").ok_or_else(|| codes::param_syntax("Syntax: MAIL FROM:<address>"))?;
            let (path_text, params_text) = address::split_path(rest).map_err(|e| codes::param_syntax(&e.0))?;
            let params = mail_params(params_text)?;
            let path =
                address::parse_path(path_text, params.smtputf8).map_err(|e| address_reply(&e, params.smtputf8))?;
            if path == Path::Postmaster {
                return Err(codes::bad_address("Syntax error: <postmaster> is not a sender"));
            }
            Ok(Command::Mail(path, params))
        }
        "RCPT" => {
            let rest = strip_keyword(arg, "TO:").ok_or_else(|| codes::param_syntax("Syntax: RCPT TO:<address>"))?;
            let (path_text, params_text) = address::split_path(rest).map_err(|e| codes::param_syntax(&e.0))?;
            if let Some(p) = params_text.split_whitespace().next() {
                return Err(codes::param_not_implemented(&format!("RCPT parameter {p} is not supported")));
            }
            // UTF-8 is checked against the transaction's SMTPUTF8 by the session.
            let path = address::parse_path(path_text, true).map_err(|e| address_reply(&e, true))?;
            if path == Path::Null {
                return Err(codes::bad_address("Syntax error: <> is not a recipient"));
            }
            Ok(Command::Rcpt(path))
        }
        "BDAT" => {
            let mut parts = arg.split(' ');
            let size = parts
                .next()
                .filter(|s| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| codes::param_syntax("Syntax: BDAT size [LAST]"))?;
            let last = match parts.next() {
                None => false,
                Some(l) if l.eq_ignore_ascii_case("LAST") => true,
                Some(_) => return Err(codes::param_syntax("Syntax: BDAT size [LAST]")),
            };
            if parts.next().is_some() {
                return Err(codes::param_syntax("Syntax: BDAT size [LAST]"));
            }
            Ok(Command::Bdat { size, last })
        }
        "DATA" => no_arg(Command::Data),
        "RSET" => no_arg(Command::Rset),
        "NOOP" => Ok(Command::Noop),
        "QUIT" => no_arg(Command::Quit),
        "VRFY" => Ok(Command::Vrfy),
        "EXPN" => Ok(Command::Expn),
        "HELP" => Ok(Command::Help),
        "STARTTLS" => no_arg(Command::StartTls),
        "" => Err(codes::syntax("Syntax error: empty command")),
        _ => Err(codes::syntax("Command unrecognized")),
    }
}

fn address_reply(e: &address::AddressError, utf8: bool) -> Reply {
    if !utf8 && e.0.contains("SMTPUTF8") { codes::smtputf8_required() } else { codes::bad_address(&e.0) }
}

/// `FROM:` / `TO:` in any case; one space after the colon is tolerated (common clients send it).
fn strip_keyword<'a>(arg: &'a str, keyword: &str) -> Option<&'a str> {
    let head = arg.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword).then(|| arg[keyword.len()..].strip_prefix(' ').unwrap_or(&arg[keyword.len()..]))
}

fn mail_params(text: &str) -> Result<MailParams, Reply> {
    let mut p = MailParams::default();
    for param in text.split(' ').filter(|s| !s.is_empty()) {
        let (key, value) = param.split_once('=').map_or((param, None), |(k, v)| (k, Some(v)));
        match (key.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(v)) if !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) => {
                p.size = Some(v.parse().unwrap_or(u64::MAX))
            }
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("7BIT") => p.body = Body::SevenBit,
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("8BITMIME") => p.body = Body::EightBitMime,
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("BINARYMIME") => p.body = Body::BinaryMime,
            ("SMTPUTF8", None) => p.smtputf8 = true,
            ("SIZE" | "BODY" | "SMTPUTF8", _) => {
                return Err(codes::param_syntax(&format!("Syntax error in the parameter {param}")));
            }
            _ => return Err(codes::param_not_implemented(&format!("MAIL parameter {key} is not supported"))),
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_with_parameters() {
        let c = parse(b"mail from:<a@x.jp> SIZE=1000 BODY=8BITMIME SMTPUTF8").unwrap();
        let Command::Mail(Path::Mailbox { mailbox, .. }, p) = c else { panic!() };
        assert_eq!(mailbox.to_string(), "a@x.jp");
        assert_eq!(p, MailParams { size: Some(1000), body: Body::EightBitMime, smtputf8: true });
        assert!(matches!(parse(b"MAIL FROM: <>").unwrap(), Command::Mail(Path::Null, _)));
    }

    #[test]
    fn bad_commands_get_the_right_codes() {
        assert_eq!(parse(b"FOO").unwrap_err().code, 500);
        assert_eq!(parse(b"MAIL FROM:a@x.jp").unwrap_err().code, 501);
        assert_eq!(parse(b"MAIL FROM:<a@x.jp> XFOO=1").unwrap_err().code, 555);
        assert_eq!(parse(b"MAIL FROM:<a@x.jp> SIZE=abc").unwrap_err().code, 501);
        assert_eq!(parse(b"RCPT TO:<a@@x.jp>").unwrap_err().enhanced, "5.1.3");
        assert_eq!(parse(b"MAIL FROM:<\xe5@x.jp>").unwrap_err().enhanced, "5.5.2");
        assert_eq!(parse("MAIL FROM:<山@x.jp>".as_bytes()).unwrap_err().enhanced, "5.6.7");
        assert_eq!(parse(b"DATA x").unwrap_err().code, 501);
        assert_eq!(parse(b"BDAT 10 MORE").unwrap_err().code, 501);
        assert_eq!(parse(b"RCPT TO:<>").unwrap_err().code, 501);
        assert_eq!(parse(b"EHLO").unwrap_err().code, 501);
    }

    #[test]
    fn bdat_sizes() {
        assert_eq!(parse(b"BDAT 0 LAST").unwrap(), Command::Bdat { size: 0, last: true });
        assert_eq!(parse(b"bdat 512").unwrap(), Command::Bdat { size: 512, last: false });
        assert!(parse(b"BDAT 99999999999999999999").is_err());
    }
}
