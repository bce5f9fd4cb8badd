//! Operators (`@rx`, `@pm`, `@within`, ...): parsed and compiled once per rule.

mod ip;
mod national_ids;
mod rx;
mod validate;

use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

pub use rx::{FANCY_FALLBACKS, Rx};
pub use validate::{atoi, invalid_url_encoding};

use crate::libinjection;
use crate::macros::{Macro, Resolve};

#[derive(Debug)]
enum Kind {
    Rx(Rx),
    /// `@rx` whose pattern has `%{...}`: compiled per evaluation.
    RxMacro(Macro),
    Pm(AhoCorasick, Vec<Vec<u8>>),
    Streq(Macro),
    Contains(Macro),
    ContainsWord(Macro),
    BeginsWith(Macro),
    EndsWith(Macro),
    Within(Macro),
    StrMatch(Macro),
    Eq(Macro),
    Ge(Macro),
    Gt(Macro),
    Le(Macro),
    Lt(Macro),
    IpMatch(ip::IpSet),
    ValidateByteRange(Box<[bool; 256]>),
    ValidateUrlEncoding,
    ValidateUtf8Encoding,
    VerifyCc(Rx),
    /// `@verifyCPF`, `@verifySSN`, `@verifySVNR`: a regex match that passes the check.
    VerifyId(Rx, fn(&[u8]) -> bool),
    DetectSqli,
    DetectXss,
    Unconditional,
    NoMatch,
}

#[derive(Debug)]
pub struct Operator {
    kind: Kind,
    pub negated: bool,
    pub name: String,
    pub param: String,
}

/// What a match yields for `capture` (TX:0-9) and `MATCHED_VAR`-style logging.
pub type Captures = Vec<Vec<u8>>;

impl Operator {
    /// Parses `[!]@name param` (a bare pattern is `@rx`); `dir` resolves data files.
    pub fn parse(s: &str, dir: &Path) -> Result<Operator, String> {
        let (negated, s) = match s.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let (name, param) = match s.strip_prefix('@') {
            Some(r) => match r.split_once([' ', '\t']) {
                Some((n, p)) => (n.to_string(), p.trim_start().to_string()),
                None => (r.to_string(), String::new()),
            },
            None => ("rx".to_string(), s.to_string()),
        };
        let kind = Self::compile(&name, &param, dir)?;
        Ok(Operator { kind, negated, name, param })
    }

    fn compile(name: &str, param: &str, dir: &Path) -> Result<Kind, String> {
        let m = || Macro::parse(param);
        Ok(match name.to_ascii_lowercase().as_str() {
            "rx" | "rxglobal" if param.contains("%{") => Kind::RxMacro(m()),
            "rx" | "rxglobal" => Kind::Rx(Rx::new(param)?),
            "pm" => pm(param.split_ascii_whitespace().map(|w| w.as_bytes().to_vec()).collect())?,
            "pmfromfile" | "pmf" => {
                let mut phrases = Vec::new();
                for f in param.split_ascii_whitespace() {
                    let text = std::fs::read_to_string(dir.join(f)).map_err(|e| format!("cannot read {f}: {e}"))?;
                    phrases.extend(
                        text.lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty() && !l.starts_with('#'))
                            .map(|l| l.as_bytes().to_vec()),
                    );
                }
                pm(phrases)?
            }
            "streq" => Kind::Streq(m()),
            "contains" => Kind::Contains(m()),
            "containsword" => Kind::ContainsWord(m()),
            "beginswith" => Kind::BeginsWith(m()),
            "endswith" => Kind::EndsWith(m()),
            "within" => Kind::Within(m()),
            "strmatch" => Kind::StrMatch(m()),
            "eq" => Kind::Eq(m()),
            "ge" => Kind::Ge(m()),
            "gt" => Kind::Gt(m()),
            "le" => Kind::Le(m()),
            "lt" => Kind::Lt(m()),
            "ipmatch" => Kind::IpMatch(ip::IpSet::parse(param.split(',').map(str::trim))?),
            "ipmatchfromfile" | "ipmatchf" => {
                let text = std::fs::read_to_string(dir.join(param.trim()))
                    .map_err(|e| format!("cannot read {}: {e}", param.trim()))?;
                Kind::IpMatch(ip::IpSet::parse(
                    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')),
                )?)
            }
            "validatebyterange" => Kind::ValidateByteRange(validate::byte_ranges(param)?),
            "validateurlencoding" => Kind::ValidateUrlEncoding,
            "validateutf8encoding" => Kind::ValidateUtf8Encoding,
            "verifycc" => Kind::VerifyCc(Rx::new(param)?),
            "verifycpf" => Kind::VerifyId(Rx::new(param)?, national_ids::cpf),
            "verifyssn" => Kind::VerifyId(Rx::new(param)?, national_ids::ssn),
            "verifysvnr" => Kind::VerifyId(Rx::new(param)?, national_ids::svnr),
            "detectsqli" => Kind::DetectSqli,
            "detectxss" => Kind::DetectXss,
            "unconditionalmatch" => Kind::Unconditional,
            "nomatch" => Kind::NoMatch,
            other => return Err(format!("unsupported operator '@{other}'")),
        })
    }

    /// The parameter with its `%{...}` expanded (as the error log shows it).
    pub fn param_expanded(&self, r: &dyn Resolve) -> Vec<u8> {
        if self.param.contains("%{") { Macro::parse(&self.param).expand(r) } else { self.param.clone().into_bytes() }
    }

    /// Evaluates against one value; `want` asks for captures (group 0 for non-regex matches).
    pub fn matches(&self, input: &[u8], r: &dyn Resolve, want: bool) -> (bool, Option<Captures>) {
        let (hit, caps) = self.eval(input, r, want);
        (hit != self.negated, caps)
    }

    fn eval(&self, input: &[u8], r: &dyn Resolve, want: bool) -> (bool, Option<Captures>) {
        let num = |m: &Macro| atoi(&String::from_utf8_lossy(&m.expand(r)));
        let inum = || atoi(&String::from_utf8_lossy(input));
        let found = |b: bool, what: &[u8]| (b, if b && want { Some(vec![what.to_vec()]) } else { None });
        match &self.kind {
            Kind::Rx(rx) => {
                if want {
                    let c = rx.captures(input);
                    (c.is_some(), c)
                } else {
                    (rx.is_match(input), None)
                }
            }
            Kind::RxMacro(m) => {
                let Ok(rx) = Rx::new(&String::from_utf8_lossy(&m.expand(r))) else { return (false, None) };
                if want {
                    let c = rx.captures(input);
                    (c.is_some(), c)
                } else {
                    (rx.is_match(input), None)
                }
            }
            Kind::Pm(ac, phrases) => match ac.find(input) {
                Some(m) => found(true, &phrases[m.pattern().as_usize()]),
                None => (false, None),
            },
            Kind::Streq(m) => found(m.expand(r) == input, input),
            Kind::Contains(m) => {
                let p = m.expand(r);
                found(p.is_empty() || memchr::memmem::find(input, &p).is_some(), &p)
            }
            Kind::StrMatch(m) => {
                let p = m.expand(r);
                found(memchr::memmem::find(input, &p).is_some(), &p)
            }
            Kind::ContainsWord(m) => {
                let p = m.expand(r);
                found(contains_word(input, &p), &p)
            }
            Kind::BeginsWith(m) => {
                let p = m.expand(r);
                found(input.starts_with(&p), &p)
            }
            Kind::EndsWith(m) => {
                let p = m.expand(r);
                found(input.ends_with(&p), &p)
            }
            Kind::Within(m) => {
                let p = m.expand(r);
                found(input.is_empty() || memchr::memmem::find(&p, input).is_some(), input)
            }
            Kind::Eq(m) => found(inum() == num(m), input),
            Kind::Ge(m) => found(inum() >= num(m), input),
            Kind::Gt(m) => found(inum() > num(m), input),
            Kind::Le(m) => found(inum() <= num(m), input),
            Kind::Lt(m) => found(inum() < num(m), input),
            Kind::IpMatch(set) => found(set.contains(input), input),
            Kind::ValidateByteRange(allowed) => match input.iter().find(|&&b| !allowed[b as usize]) {
                Some(&b) => found(true, &[b]),
                None => (false, None),
            },
            Kind::ValidateUrlEncoding => found(validate::invalid_url_encoding(input), input),
            Kind::ValidateUtf8Encoding => found(validate::invalid_utf8(input), input),
            Kind::VerifyCc(rx) => {
                let hit = match rx {
                    Rx::Bytes(re) => re.find_iter(input).any(|m| validate::luhn(m.as_bytes())),
                    Rx::Fancy(_) => rx.captures(input).is_some_and(|c| validate::luhn(&c[0])),
                };
                found(hit, input)
            }
            Kind::VerifyId(rx, valid) => {
                let hit = match rx {
                    Rx::Bytes(re) => re.find_iter(input).any(|m| valid(m.as_bytes())),
                    Rx::Fancy(_) => rx.captures(input).is_some_and(|c| valid(&c[0])),
                };
                found(hit, input)
            }
            Kind::DetectSqli => match libinjection::sqli::detect(input) {
                Some(fp) => found(true, &fp),
                None => (false, None),
            },
            Kind::DetectXss => found(libinjection::xss::detect(input), input),
            Kind::Unconditional => found(true, input),
            Kind::NoMatch => (false, None),
        }
    }
}

fn pm(phrases: Vec<Vec<u8>>) -> Result<Kind, String> {
    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostFirst)
        .build(&phrases)
        .map_err(|e| format!("cannot build the phrase matcher: {e}"))?;
    Ok(Kind::Pm(ac, phrases))
}

fn contains_word(input: &[u8], word: &[u8]) -> bool {
    if word.is_empty() {
        return true;
    }
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    memchr::memmem::find_iter(input, word).any(|p| {
        let before = p == 0 || !is_word(input[p - 1]);
        let after = p + word.len() >= input.len() || !is_word(input[p + word.len()]);
        before && after
    })
}
