//! PCRE subsignatures of logical signatures: `[Offset:]Trigger/PCRE/[Flags]`.
//!
//! The trigger is a logical expression over the preceding subsignatures; the expression runs
//! only when it holds. Patterns are PCRE; they are translated to the `regex` crate's syntax
//! (bytes, ASCII classes, as PCRE without UTF) and compiled with it, or, when they need what
//! it lacks (look-around, back-references, atomic groups), with `fancy-regex` in its
//! byte mode. Either is compiled the first time its trigger holds, so that a database of
//! thousands of rarely triggered expressions costs only their text until then.
//!
//! Flags: `i s m x U A E` as in PCRE; ClamAV's own `g` (count every match, not just the
//! first), `r` (rolling: the offset is where the search starts, not the only place a match
//! may start) and `e` (encompass: the match must lie within offset..offset+maxshift).
//! As in ClamAV, an expression with an exact offset and no maxshift is anchored there unless
//! `r` is given; one with a maxshift may start anywhere up to offset+maxshift.

use super::logical::Expr;
use super::offset::Offset;
use super::pe::PeInfo;
use std::sync::OnceLock;

/// Compiled program limits: a hostile database must not take memory without bound.
const REGEX_SIZE_LIMIT: usize = 4 << 20;
const REGEX_DFA_LIMIT: usize = 1 << 20;
/// Steps of fancy-regex's backtracking VM before it gives up on one search.
const BACKTRACK_LIMIT: usize = 1_000_000;
/// Matches counted per expression with `g`.
const MAX_GLOBAL_MATCHES: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    /// The `regex` crate (finite automata, linear time).
    Plain,
    /// `fancy-regex` (backtracking where the pattern needs it).
    Fancy,
}

enum Compiled {
    Plain(regex::bytes::Regex),
    Fancy(fancy_regex::Regex),
    /// Parsed at load but not compilable (e.g. over the size limit): never matches.
    Broken,
}

pub struct PcreSub {
    pub offset: Offset,
    pub trigger: Expr,
    /// The expression as the engine reads it (translated, flags and anchoring applied).
    source: Box<str>,
    engine: Engine,
    flags: Flags,
    compiled: OnceLock<Compiled>,
}

impl std::fmt::Debug for PcreSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcreSub").field("offset", &self.offset).field("source", &self.source).finish()
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    caseless: bool,
    dotall: bool,
    multiline: bool,
    extended: bool,
    anchored: bool,
    dollar_end_only: bool,
    ungreedy: bool,
    global: bool,
    rolling: bool,
    encompass: bool,
}

/// Whether a subsignature is written as PCRE: it has a `/` (hex patterns never do).
pub fn is_pcre(text: &str) -> bool {
    text.contains('/')
}

impl PcreSub {
    /// Parses `[Offset:]Trigger/PCRE/[Flags]`; `index` is the subsignature's own position,
    /// which the trigger may not reach.
    pub fn parse(text: &str, index: usize) -> Result<PcreSub, String> {
        let first = text.find('/').ok_or("PCRE subsignature without '/'")?;
        let last = text.rfind('/').filter(|&last| last > first).ok_or("PCRE subsignature with a single '/'")?;
        let head = &text[..first];
        let pattern = &text[first + 1..last];
        let flag_text = &text[last + 1..];
        let (offset, trigger) = match head.rsplit_once(':') {
            Some((offset, trigger)) => (Offset::parse(offset)?, trigger),
            None => (Offset::Anywhere, head),
        };
        if trigger.trim().is_empty() {
            return Err("PCRE subsignature without a trigger".into());
        }
        if pattern.is_empty() {
            return Err("empty PCRE".into());
        }
        let trigger = Expr::parse(trigger)?;
        if trigger.max_subsig() >= index {
            return Err("PCRE trigger refers to itself or a later subsignature".into());
        }
        let mut flags = Flags::default();
        for flag in flag_text.chars() {
            match flag {
                'i' => flags.caseless = true,
                's' => flags.dotall = true,
                'm' => flags.multiline = true,
                'x' => flags.extended = true,
                'A' => flags.anchored = true,
                'E' => flags.dollar_end_only = true,
                'U' => flags.ungreedy = true,
                'g' => flags.global = true,
                'r' => flags.rolling = true,
                'e' => flags.encompass = true,
                other => return Err(format!("PCRE flag '{other}'")),
            }
        }
        let translated = translate(pattern, flags)?;
        // Anchored where ClamAV anchors: an exact offset without maxshift (and not rolling),
        // or the A flag.
        let exact_offset = matches!(offset, Offset::At { shift: 0, .. });
        let anchored = flags.anchored || (exact_offset && !flags.rolling);
        let mut source = String::with_capacity(translated.len() + 16);
        source.push_str(inline_flags(flags).as_str());
        if anchored {
            source.push_str(r"\A");
        }
        source.push_str("(?:");
        source.push_str(&translated);
        // A comment in extended mode runs to the end of its line, not past the group.
        source.push_str(if flags.extended { "\n)" } else { ")" });
        let engine = if plain_parser().parse(&source).is_ok() {
            Engine::Plain
        } else {
            fancy_regex::Expr::parse_tree(&source).map_err(|e| format!("PCRE not supported: {e}"))?;
            Engine::Fancy
        };
        Ok(PcreSub { offset, trigger, source: source.into(), engine, flags, compiled: OnceLock::new() })
    }

    /// The number of matches in `data` (at most one without `g`), the first compilation
    /// included.
    pub fn count(&self, data: &[u8], pe: Option<&PeInfo>) -> usize {
        // Where ClamAV's search window lies: from the offset, to the end of the data (or,
        // with `e` and a maxshift, to offset + maxshift).
        let (start, shift) = match self.offset {
            Offset::Anywhere => (0, 0),
            Offset::At { shift, .. } => match self.offset.starts(data.len(), pe) {
                Some((first, _)) => (first, shift),
                None => return 0,
            },
        };
        if start >= data.len() {
            return 0;
        }
        let end =
            if self.flags.encompass && shift != 0 { start.saturating_add(shift).min(data.len()) } else { data.len() };
        let window = &data[start..end];
        let compiled = self.compiled.get_or_init(|| self.compile());
        let mut count = 0;
        let mut from = 0;
        while from <= window.len() {
            let Some((match_start, match_end)) = compiled.find_at(window, from) else { break };
            // Outside the maxshift: ClamAV ignores it, and stops looking.
            if !self.flags.encompass && shift != 0 && match_start > shift {
                break;
            }
            count += 1;
            if !self.flags.global || count >= MAX_GLOBAL_MATCHES {
                break;
            }
            from = if match_end > from { match_end } else { from + 1 };
        }
        count
    }

    fn compile(&self) -> Compiled {
        let result = match self.engine {
            Engine::Plain => regex::bytes::RegexBuilder::new(&self.source)
                .unicode(false)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_DFA_LIMIT)
                .build()
                .map(Compiled::Plain)
                .map_err(|e| e.to_string()),
            Engine::Fancy => fancy_regex::RegexBuilder::new(&self.source)
                .bytes_mode(fancy_regex::BytesMode::Ascii)
                .backtrack_limit(BACKTRACK_LIMIT)
                .delegate_size_limit(REGEX_SIZE_LIMIT)
                .delegate_dfa_size_limit(REGEX_DFA_LIMIT)
                .build()
                .map(Compiled::Fancy)
                .map_err(|e| e.to_string()),
        };
        result.unwrap_or_else(|error| {
            tracing::warn!(pattern = %self.source, %error, "ClamAV PCRE subsignature does not compile; it never matches");
            Compiled::Broken
        })
    }
}

impl Compiled {
    fn find_at(&self, haystack: &[u8], from: usize) -> Option<(usize, usize)> {
        match self {
            Compiled::Plain(regex) => regex.find_at(haystack, from).map(|m| (m.start(), m.end())),
            // A search that exceeds the backtracking limit counts as no match.
            Compiled::Fancy(regex) => regex.find_from_pos(haystack, from).ok().flatten().map(|m| (m.start(), m.end())),
            Compiled::Broken => None,
        }
    }
}

fn plain_parser() -> regex_syntax::Parser {
    regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build()
}

fn inline_flags(flags: Flags) -> String {
    let mut text = String::from("(?");
    for (on, letter) in [
        (flags.caseless, 'i'),
        (flags.dotall, 's'),
        (flags.multiline, 'm'),
        (flags.extended, 'x'),
        (flags.ungreedy, 'U'),
    ] {
        if on {
            text.push(letter);
        }
    }
    if text.len() == 2 {
        return String::new();
    }
    text.push(')');
    text
}

/// Rewrites the PCRE constructs the Rust engines read differently: `\Z`, `$` without `E`
/// or `m`, `\e`, `\0nn` octal, one-digit `\xH`, `\Q...\E`, `{` that is not a quantifier,
/// and `[ & ~` inside classes (set operators there). Everything else passes through.
fn translate(pattern: &str, flags: Flags) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    // Position just after a class's `[` or `[^`, where `]` is a literal.
    let mut class_start = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&next) = chars.get(i + 1) else { return Err("PCRE ends with '\\'".into()) };
            match next {
                'Z' if !in_class => out.push_str(r"(?:\n?\z)"),
                'e' => out.push_str(r"\x1B"),
                'Q' => {
                    let end = (i + 2..chars.len().saturating_sub(1))
                        .find(|&j| chars[j] == '\\' && chars[j + 1] == 'E')
                        .unwrap_or(chars.len());
                    for &literal in &chars[i + 2..end] {
                        push_literal(&mut out, literal);
                    }
                    i = (end + 2).min(chars.len());
                    continue;
                }
                '0' => {
                    // PCRE octal: \0 followed by up to two more octal digits.
                    let digits: String = chars[i + 2..].iter().take(2).take_while(|d| d.is_digit(8)).collect();
                    let value = u32::from_str_radix(&format!("0{digits}"), 8).unwrap_or(0);
                    out.push_str(&format!(r"\x{value:02X}"));
                    i += 2 + digits.len();
                    continue;
                }
                'x' if chars.get(i + 2).is_some_and(char::is_ascii_hexdigit)
                    && !chars.get(i + 3).is_some_and(char::is_ascii_hexdigit) =>
                {
                    out.push_str(r"\x0");
                    out.push(chars[i + 2]);
                    i += 3;
                    continue;
                }
                'x' | 'p' | 'P' | 'g' | 'k' | 'o' | 'N' if chars.get(i + 2) == Some(&'{') => {
                    // A braced argument, such as \x{41}, is not a quantifier.
                    let end = chars[i..].iter().position(|&c| c == '}').map_or(chars.len() - 1, |p| i + p);
                    out.extend(&chars[i..=end]);
                    i = end + 1;
                    continue;
                }
                _ => {
                    out.push('\\');
                    out.push(next);
                }
            }
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' if i != class_start => in_class = false,
                '[' if chars.get(i + 1) == Some(&':') => {
                    // A POSIX class such as [:alpha:] passes through whole.
                    if let Some(end) =
                        (i + 2..chars.len().saturating_sub(1)).find(|&j| chars[j] == ':' && chars[j + 1] == ']')
                    {
                        out.extend(&chars[i..end + 2]);
                        i = end + 2;
                        continue;
                    }
                    out.push('\\');
                }
                '[' | '&' | '~' => out.push('\\'),
                '-' if chars.get(i + 1) == Some(&'-') => out.push('\\'),
                _ => {}
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i;
                continue;
            }
            '{' if !is_quantifier(&chars[i..]) => out.push_str(r"\{"),
            '}' => {
                // A `}` closing a quantifier was copied with it below.
                out.push_str(r"\}");
            }
            '$' if !flags.multiline && !flags.dollar_end_only => out.push_str(r"(?:\n?\z)"),
            '#' if flags.extended => {
                // A comment: copied to the end of its line, where extended mode ends it.
                let end = chars[i..].iter().position(|&c| c == '\n').map_or(chars.len(), |p| i + p);
                out.extend(&chars[i..end]);
                i = end;
                continue;
            }
            '{' => {
                let end = i + chars[i..].iter().position(|&c| c == '}').expect("quantifier has '}'");
                out.extend(&chars[i..=end]);
                i = end + 1;
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    if in_class {
        return Err("PCRE with an unclosed character class".into());
    }
    Ok(out)
}

/// Whether `chars` starts with a counted repetition `{n}`, `{n,}` or `{n,m}`.
fn is_quantifier(chars: &[char]) -> bool {
    let Some(end) = chars.iter().position(|&c| c == '}') else { return false };
    let body: String = chars[1..end].iter().collect();
    let (min, max) = body.split_once(',').unwrap_or((&body, "0"));
    !min.is_empty() && min.chars().all(|c| c.is_ascii_digit()) && max.chars().all(|c| c.is_ascii_digit())
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() || c == ' ' {
        out.push(c);
    } else {
        out.push_str(&format!(r"\x{:02X}", c as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(sub: &str, index: usize, data: &[u8]) -> usize {
        PcreSub::parse(sub, index).unwrap_or_else(|e| panic!("{sub}: {e}")).count(data, None)
    }

    #[test]
    fn parses_offset_trigger_pattern_and_flags() {
        let sub = PcreSub::parse("200,300:0&1&2/clamav/ge", 3).unwrap();
        assert_eq!(sub.offset, Offset::parse("200,300").unwrap());
        assert!(sub.flags.global && sub.flags.encompass);
        assert!(PcreSub::parse("0/abc/", 0).is_err(), "self-referential trigger");
        assert!(PcreSub::parse("1/abc/", 1).is_err());
        assert!(PcreSub::parse("/abc/", 1).is_err(), "no trigger");
        assert!(PcreSub::parse("0/abc", 1).is_err(), "one delimiter");
        assert!(PcreSub::parse("0/abc/q", 1).is_err(), "unknown flag");
        assert!(PcreSub::parse("0//", 1).is_err(), "empty pattern");
        // A ':' inside the expression is not an offset separator.
        assert_eq!(count("0/https?:\\/\\//", 1, b"see http://x"), 1);
    }

    #[test]
    fn documented_examples() {
        // Find.All.ClamAV: every match counts with g.
        assert_eq!(count("0/clamav/g", 1, b"clamav, clamav and clamav"), 3);
        assert_eq!(count("0/clamav/", 1, b"clamav, clamav and clamav"), 1);
        // Find.ClamAV.OnlyAt.299: anchored at exactly 299.
        let mut data = vec![b'.'; 299];
        data.extend_from_slice(b"clamav");
        assert_eq!(count("299:0&1/clamav/", 2, &data), 1);
        data.insert(0, b'.');
        assert_eq!(count("299:0&1/clamav/", 2, &data), 0);
        // Find.ClamAV.StartAt.300: rolling from 300 on.
        let mut data = vec![b'.'; 310];
        data.extend_from_slice(b"clamav");
        assert_eq!(count("300:0&1&2/clamav/r", 3, &data), 1);
        assert_eq!(count("300:0&1&2/clamav/", 3, &data), 0);
        assert_eq!(count("320:0&1&2/clamav/r", 3, &data), 0);
        // Find.All.Encompassed.ClamAV: only within 200..500.
        let mut data = vec![b'.'; 250];
        data.extend_from_slice(b"clamav");
        data.extend(vec![b'.'; 400]);
        data.extend_from_slice(b"clamav");
        assert_eq!(count("200,300:0&1&2/clamav/ge", 3, &data), 1);
        assert_eq!(count("200,300:0&1&2/clamav/g", 3, &data), 1, "past the maxshift the search stops");
        // Firefox.TreeRange.UseAfterFree: s, m, i.
        let text = b"a.VIEW.selection\n x.tree = null; y.invalidate()";
        assert_eq!(count(r"0&1/\x2Eview\x2Eselection.*?\x2Etree\s*\x3D\s*null.*?\x2Einvalidate/smi", 2, text), 1);
        assert_eq!(count(r"0&1/\x2Eview\x2Eselection.*?\x2Etree\s*\x3D\s*null.*?\x2Einvalidate/mi", 2, text), 0);
        // Firefox.IDB.UseAfterFree: ^ with m matches after a newline.
        let text = b"x\n.only(1).lower";
        assert_eq!(
            count(
                r"0/^\x2e(only|lowerBound|upperBound|bound)\x28.*?\x29.*?\x2e(lower|upper|lowerOpen|upperOpen)/smi",
                1,
                text
            ),
            1
        );
        // Firefox.boundElements.
        assert_eq!(
            count(r"0&1/on(load|click)\s*=\s*\x22?window\.close\s*\x28/si", 2, b"<body onload=\"window.close()\">"),
            1
        );
    }

    #[test]
    fn binary_data_and_flags() {
        assert_eq!(count(r"0/\xff\x00.\x01/s", 1, &[0x10, 0xff, 0x00, 0x0a, 0x01]), 1);
        assert_eq!(count(r"0/\xff\x00.\x01/", 1, &[0x10, 0xff, 0x00, 0x0a, 0x01]), 0, ". excludes \\n without s");
        assert_eq!(count("0/ABC/i", 1, b"xabcx"), 1);
        assert_eq!(count("0/A B C/x", 1, b"ABC"), 1);
        assert_eq!(count("0/abc/A", 1, b"xabc"), 0);
        assert_eq!(count("0/abc/A", 1, b"abcx"), 1);
        assert_eq!(count("0/a.+c/U", 1, b"abcbc"), 1);
        // $ before a final newline unless E.
        assert_eq!(count("0/end$/", 1, b"the end\n"), 1);
        assert_eq!(count("0/end$/E", 1, b"the end\n"), 0);
        assert_eq!(count(r"0/end\Z/", 1, b"the end\n"), 1);
        assert_eq!(count(r"0/a\0b/", 1, b"a\0b"), 1);
        assert_eq!(count(r"0/a\x9-/", 1, b"a\t-"), 1);
        assert_eq!(count(r"0/\Q.*\E/", 1, b"a.*b"), 1);
        assert_eq!(count(r"0/\Q.*\E/", 1, b"ab"), 0);
        assert_eq!(count("0/a{b}/", 1, b"a{b}"), 1);
        assert_eq!(count("0/ab{2}/", 1, b"abb"), 1);
        assert_eq!(count("0/[a&~[]+x/", 1, b"&~[x"), 1);
        assert_eq!(count("0/[[:digit:]]+z/", 1, b"12z"), 1);
        assert_eq!(count("0/[]a]+z/", 1, b"]az"), 1);
    }

    #[test]
    fn fancy_fallback() {
        // Back-reference, look-ahead, look-behind: not in the regex crate.
        assert_eq!(count(r"0/(ab)\1/", 1, b"xxababx"), 1);
        assert_eq!(count(r"0/(ab)\1/", 1, b"xxabx"), 0);
        assert_eq!(count("0/foo(?=bar)/", 1, b"foobar"), 1);
        assert_eq!(count("0/foo(?=bar)/", 1, b"foobaz"), 0);
        assert_eq!(count("0/(?<!x)foo/g", 1, b"xfoo foo \xfffoo"), 2);
        let sub = PcreSub::parse(r"0/(ab)\1/", 1).unwrap();
        assert_eq!(sub.engine, Engine::Fancy);
        assert_eq!(PcreSub::parse("0/abc/", 1).unwrap().engine, Engine::Plain);
        assert!(PcreSub::parse("0/a(/", 1).is_err());
    }

    #[test]
    fn offsets_outside_the_data_never_match() {
        assert_eq!(count("100:0/abc/", 1, b"abc"), 0);
        assert_eq!(count("EOF-3:0/abc/", 1, b"xxabc"), 1);
        assert_eq!(count("EP+0:0/abc/", 1, b"abc"), 0, "no PE, no entry point");
    }
}
