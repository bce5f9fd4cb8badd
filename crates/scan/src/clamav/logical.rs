//! Logical signatures (`.ldb`): `Name;TargetDescription;Expression;Subsig0;Subsig1;...`,
//! whose subsignatures are hex patterns (with the `::i`, `::w`, `::a`, `::f` modifiers), PCRE
//! (see `pcre`) or byte comparisons (see `bytecmp`). Macro and fuzzy image hash
//! subsignatures make the whole signature unsupported.

use super::bytecmp::ByteCompare;
use super::offset::Offset;
use super::pattern::Pattern;
use super::pcre::PcreSub;

#[derive(Debug, Clone)]
pub enum Expr {
    Sub(usize),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `X=n`, `X>n`, `X<n`, optionally `,m` distinct subsignatures.
    Count {
        inner: Box<Expr>,
        op: char,
        count: usize,
        distinct: Option<usize>,
    },
}

/// What an expression evaluates to: whether it holds, how many matches it saw, and how many
/// distinct subsignatures matched.
#[derive(Debug, Clone, Copy)]
pub struct Value {
    pub holds: bool,
    pub matches: usize,
    pub distinct: usize,
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, String> {
        let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut at = 0;
        let expr = parse_or(&chars, &mut at)?;
        if at != chars.len() {
            return Err(format!("unexpected '{}' in logical expression", chars[at]));
        }
        Ok(expr)
    }

    pub fn max_subsig(&self) -> usize {
        match self {
            Expr::Sub(n) => *n,
            Expr::And(a, b) | Expr::Or(a, b) => a.max_subsig().max(b.max_subsig()),
            Expr::Count { inner, .. } => inner.max_subsig(),
        }
    }

    pub fn uses_counts(&self) -> bool {
        match self {
            Expr::Sub(_) => false,
            Expr::And(a, b) | Expr::Or(a, b) => a.uses_counts() || b.uses_counts(),
            Expr::Count { .. } => true,
        }
    }

    /// Evaluates with `counts[i]` = number of matches of subsignature `i`.
    pub fn eval(&self, counts: &[usize]) -> Value {
        match self {
            Expr::Sub(n) => {
                let matches = counts.get(*n).copied().unwrap_or(0);
                Value { holds: matches > 0, matches, distinct: usize::from(matches > 0) }
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                let (a, b) = (a.eval(counts), b.eval(counts));
                let holds = if matches!(self, Expr::And(..)) { a.holds && b.holds } else { a.holds || b.holds };
                Value { holds, matches: a.matches + b.matches, distinct: a.distinct + b.distinct }
            }
            Expr::Count { inner, op, count, distinct } => {
                let value = inner.eval(counts);
                let count_ok = match op {
                    '=' => value.matches == *count,
                    '>' => value.matches > *count,
                    _ => value.matches < *count && value.matches > 0,
                };
                let distinct_ok = distinct.is_none_or(|d| value.distinct > d);
                Value { holds: count_ok && distinct_ok, ..value }
            }
        }
    }
}

fn parse_or(chars: &[char], at: &mut usize) -> Result<Expr, String> {
    let mut left = parse_and(chars, at)?;
    while chars.get(*at) == Some(&'|') {
        *at += 1;
        left = Expr::Or(Box::new(left), Box::new(parse_and(chars, at)?));
    }
    Ok(left)
}

fn parse_and(chars: &[char], at: &mut usize) -> Result<Expr, String> {
    let mut left = parse_count(chars, at)?;
    while chars.get(*at) == Some(&'&') {
        *at += 1;
        left = Expr::And(Box::new(left), Box::new(parse_count(chars, at)?));
    }
    Ok(left)
}

fn parse_count(chars: &[char], at: &mut usize) -> Result<Expr, String> {
    let primary = parse_primary(chars, at)?;
    let Some(&op) = chars.get(*at).filter(|c| matches!(c, '=' | '>' | '<')) else { return Ok(primary) };
    *at += 1;
    let count = parse_number(chars, at)?;
    let distinct = if chars.get(*at) == Some(&',') {
        *at += 1;
        Some(parse_number(chars, at)?)
    } else {
        None
    };
    Ok(Expr::Count { inner: Box::new(primary), op, count, distinct })
}

fn parse_primary(chars: &[char], at: &mut usize) -> Result<Expr, String> {
    if chars.get(*at) == Some(&'(') {
        *at += 1;
        let inner = parse_or(chars, at)?;
        if chars.get(*at) != Some(&')') {
            return Err("unbalanced parentheses in logical expression".into());
        }
        *at += 1;
        return Ok(inner);
    }
    Ok(Expr::Sub(parse_number(chars, at)?))
}

fn parse_number(chars: &[char], at: &mut usize) -> Result<usize, String> {
    let start = *at;
    while chars.get(*at).is_some_and(char::is_ascii_digit) {
        *at += 1;
    }
    chars[start..*at].iter().collect::<String>().parse().map_err(|_| "number expected in logical expression".into())
}

/// A hex subsignature: one or two patterns (`::a` with `::w` means either form).
#[derive(Debug, Clone)]
pub struct HexSub {
    pub offset: Offset,
    pub patterns: Vec<Pattern>,
    /// `::f`: a match counts only between non-alphanumeric bytes (or the data's ends).
    pub fullword: bool,
}

/// One subsignature of a logical signature.
#[derive(Debug)]
pub enum SubSig {
    Hex(HexSub),
    Pcre(Box<PcreSub>),
    ByteCompare(ByteCompare),
}

impl SubSig {
    pub fn patterns(&self) -> &[Pattern] {
        match self {
            SubSig::Hex(hex) => &hex.patterns,
            _ => &[],
        }
    }
}

/// Parses subsignature number `index` of a logical signature.
pub fn parse_subsig(text: &str, index: usize) -> Result<SubSig, String> {
    // In ClamAV's order: macro, PCRE (any '/'), byte compare, fuzzy image hash, hex.
    if text.starts_with('$') {
        return Err("macro subsignature".into());
    }
    if super::pcre::is_pcre(text) {
        return Ok(SubSig::Pcre(Box::new(PcreSub::parse(text, index)?)));
    }
    if super::bytecmp::is_byte_compare(text) {
        let compare = ByteCompare::parse(text)?;
        if compare.trigger >= index {
            return Err("byte-compare trigger refers to itself or a later subsignature".into());
        }
        return Ok(SubSig::ByteCompare(compare));
    }
    if text.starts_with("fuzzy_img#") {
        return Err("fuzzy image hash subsignature".into());
    }
    parse_hex_subsig(text).map(SubSig::Hex)
}

pub fn parse_hex_subsig(text: &str) -> Result<HexSub, String> {
    let (body, modifiers) = match text.split_once("::") {
        Some((body, modifiers)) => (body, modifiers),
        None => (text, ""),
    };
    let (offset, hex) = match body.rsplit_once(':') {
        Some((offset, hex)) => (Offset::parse(offset)?, hex),
        None => (Offset::Anywhere, body),
    };
    let (mut nocase, mut wide, mut ascii, mut fullword) = (false, false, false, false);
    for modifier in modifiers.chars() {
        match modifier {
            'i' => nocase = true,
            'w' => wide = true,
            'a' => ascii = true,
            'f' => fullword = true,
            other => return Err(format!("subsignature modifier '{other}'")),
        }
    }
    let mut patterns = Vec::new();
    if !wide || ascii {
        patterns.push(Pattern::parse(hex, nocase, false)?);
    }
    if wide {
        patterns.push(Pattern::parse(hex, nocase, true)?);
    }
    Ok(HexSub { offset, patterns, fullword })
}

/// The target description block: `Target:1,FileSize:100-2000,Engine:81-255`.
#[derive(Debug, Clone, Default)]
pub struct TargetDescription {
    pub target: Option<u32>,
    pub file_size: Option<(u64, u64)>,
    /// `EntryPoint:X-Y`: the entry point's file offset (PE files only).
    pub entry_point: Option<(u64, u64)>,
    /// `NumberOfSections:X-Y` (PE files only).
    pub sections: Option<(u64, u64)>,
}

pub fn parse_target_description(text: &str) -> Result<TargetDescription, String> {
    let mut description = TargetDescription::default();
    for item in text.split(',').filter(|s| !s.is_empty()) {
        let (key, value) = item.split_once(':').ok_or_else(|| format!("bad target description item '{item}'"))?;
        let range = || -> Result<(u64, u64), String> {
            let (min, max) = value.split_once('-').unwrap_or((value, value));
            let parse = |v: &str| v.trim().parse::<u64>().map_err(|_| format!("bad {key} '{value}'"));
            Ok((parse(min)?, parse(max)?))
        };
        match key {
            "Target" => description.target = Some(value.parse().map_err(|_| format!("bad Target '{value}'"))?),
            "FileSize" => description.file_size = Some(range()?),
            "EntryPoint" => description.entry_point = Some(range()?),
            "NumberOfSections" => description.sections = Some(range()?),
            "Engine" => {}
            other => return Err(format!("target description '{other}'")),
        }
    }
    Ok(description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        let expr = Expr::parse("0&(1|2)").unwrap();
        assert!(expr.eval(&[1, 0, 1]).holds);
        assert!(!expr.eval(&[1, 0, 0]).holds);
        let counted = Expr::parse("(0|1)>2,1").unwrap();
        assert!(counted.eval(&[2, 1]).holds);
        assert!(!counted.eval(&[3, 0]).holds);
        assert!(Expr::parse("0=1").unwrap().eval(&[1]).holds);
        assert!(Expr::parse("0&").is_err());
    }

    #[test]
    fn subsignatures() {
        assert_eq!(parse_subsig("EP+0:4142::iw", 0).unwrap().patterns().len(), 1);
        assert_eq!(parse_subsig("4142::aw", 0).unwrap().patterns().len(), 2);
        assert!(matches!(parse_subsig("4142::f", 0).unwrap(), SubSig::Hex(HexSub { fullword: true, .. })));
        assert!(parse_subsig("0/abc/i", 0).is_err(), "a PCRE may not trigger on itself");
        assert!(matches!(parse_subsig("0/abc::def/i", 1).unwrap(), SubSig::Pcre(_)));
        assert!(matches!(parse_subsig("0(>>4#hb4#=1)", 1).unwrap(), SubSig::ByteCompare(_)));
        assert!(parse_subsig("1(>>4#hb4#=1)", 1).is_err());
        assert!(parse_subsig("${6-7}12$", 1).is_err());
        assert!(parse_subsig("fuzzy_img#af2ad01ed42993c7", 1).is_err());
    }
}
