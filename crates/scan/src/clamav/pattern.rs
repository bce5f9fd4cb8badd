//! ClamAV body-signature patterns: hex bytes with nibble wildcards (`??`, `a?`, `?a`),
//! gaps (`*`, `{n}`, `{-n}`, `{n-}`, `{n-m}`, `[n-m]`) and alternatives (`(aa|bb)`,
//! `!(aa|bb)`), compiled into segments that are matched with backtracking only over
//! bounded gaps.

/// One byte to compare: `data & mask == value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteTest {
    pub value: u8,
    pub mask: u8,
}

/// One element of a pattern, 4 bytes (patterns hold thousands of them): a byte test, or the
/// index of an alternative or gap among the pattern's `specials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Byte(ByteTest),
    Special(u16),
}

/// The rarer elements, kept beside the tokens so that a token stays small.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Special {
    Alternatives(Alternatives),
    /// Between `min` and `max` arbitrary bytes.
    Gap {
        min: u32,
        max: u32,
    },
}

/// A pattern element as parsed, before it is split into tokens and specials.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Parsed {
    Byte(ByteTest),
    Alternatives(Alternatives),
    /// Between `min` and `max` arbitrary bytes (`UNBOUNDED` for no maximum).
    Gap {
        min: u32,
        max: u32,
    },
}

/// One of several byte strings (each of fixed length); `negated` for `!( )`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Alternatives {
    options: Vec<Vec<ByteTest>>,
    negated: bool,
}

const UNBOUNDED: u32 = u32::MAX;

/// Part of a pattern without unbounded gaps: its tokens end at `end` in the pattern's
/// tokens; `min_gap_before` bytes separate it from the previous segment (with any number of
/// bytes more).
#[derive(Debug, Clone, Copy)]
struct Segment {
    end: u32,
    min_gap_before: u32,
}

#[derive(Debug, Clone)]
pub struct Pattern {
    /// Every segment's tokens, one segment after another.
    tokens: Box<[Token]>,
    segments: Box<[Segment]>,
    specials: Box<[Special]>,
    nocase: bool,
}

impl Pattern {
    /// Parses a hex signature; an error names the construct that is not supported.
    pub fn parse(hex: &str, nocase: bool, wide: bool) -> Result<Pattern, String> {
        let parsed = tokenize(hex.trim())?;
        let parsed = if wide { widen(parsed) } else { parsed };
        if parsed.iter().all(|p| matches!(p, Parsed::Gap { .. })) {
            return Err("pattern without any byte to match".into());
        }
        let mut tokens = Vec::new();
        let mut segments = Vec::new();
        let mut specials = Vec::new();
        // The gap before the segment being built; an empty segment (e.g. `aa**bb`) only adds
        // to the gap of the next one.
        let mut gap_before = 0u32;
        let mut segment_start = 0;
        for element in parsed {
            let special = match element {
                Parsed::Byte(test) => {
                    tokens.push(Token::Byte(test));
                    continue;
                }
                Parsed::Gap { min, max: UNBOUNDED } => {
                    if tokens.len() > segment_start {
                        segments.push(Segment { end: tokens.len() as u32, min_gap_before: gap_before });
                        segment_start = tokens.len();
                        gap_before = 0;
                    }
                    gap_before = gap_before.saturating_add(min);
                    continue;
                }
                Parsed::Gap { min, max } => Special::Gap { min, max },
                Parsed::Alternatives(alternatives) => Special::Alternatives(alternatives),
            };
            let index = u16::try_from(specials.len()).map_err(|_| "too many gaps and alternatives in one pattern")?;
            specials.push(special);
            tokens.push(Token::Special(index));
        }
        if tokens.len() > segment_start {
            segments.push(Segment { end: tokens.len() as u32, min_gap_before: gap_before });
        }
        u32::try_from(tokens.len()).map_err(|_| "pattern too long")?;
        Ok(Pattern {
            tokens: tokens.into_boxed_slice(),
            segments: segments.into_boxed_slice(),
            specials: specials.into_boxed_slice(),
            nocase,
        })
    }

    /// The tokens of each segment, with the gap before it.
    fn segment_tokens(&self) -> impl Iterator<Item = (&[Token], usize)> {
        let mut start = 0;
        self.segments.iter().map(move |segment| {
            let end = segment.end as usize;
            let tokens = self.tokens.get(start..end).unwrap_or_default();
            start = end;
            (tokens, segment.min_gap_before as usize)
        })
    }

    /// The longest run of exact bytes, to look for first (lowercased when `nocase`).
    pub fn anchor(&self) -> Vec<u8> {
        let mut best: Vec<u8> = Vec::new();
        for (tokens, _) in self.segment_tokens() {
            let mut run: Vec<u8> = Vec::new();
            for token in tokens {
                match token {
                    Token::Byte(ByteTest { value, mask: 0xff }) => run.push(self.fold(*value)),
                    _ => {
                        if run.len() > best.len() {
                            best = std::mem::take(&mut run);
                        }
                        run.clear();
                    }
                }
            }
            if run.len() > best.len() {
                best = run;
            }
        }
        best
    }

    pub fn is_nocase(&self) -> bool {
        self.nocase
    }

    fn fold(&self, byte: u8) -> u8 {
        if self.nocase { byte.to_ascii_lowercase() } else { byte }
    }

    /// The first match whose start lies in `[first_start, last_start]`: `(start, end)`.
    pub fn find(&self, data: &[u8], first_start: usize, last_start: usize) -> Option<(usize, usize)> {
        let mut segments = self.segment_tokens();
        let (first, _) = segments.next()?;
        let (start, mut end) = self.find_segment(first, data, first_start, last_start)?;
        // Segments after an unbounded gap may sit anywhere later: when they do not follow
        // the earliest match of the first segment, they follow no later one either.
        for (tokens, gap_before) in segments {
            let from = end.checked_add(gap_before)?;
            (_, end) = self.find_segment(tokens, data, from, data.len())?;
        }
        Some((start, end))
    }

    /// Number of matches, counting from each match's start + 1, up to `limit`.
    pub fn count(&self, data: &[u8], limit: usize) -> usize {
        let mut count = 0;
        let mut from = 0;
        while count < limit {
            match self.find(data, from, data.len()) {
                Some((start, _)) => {
                    count += 1;
                    from = start + 1;
                }
                None => break,
            }
        }
        count
    }

    /// The earliest match of one segment starting in `[from, last_start]`.
    fn find_segment(&self, tokens: &[Token], data: &[u8], from: usize, last_start: usize) -> Option<(usize, usize)> {
        let last_start = last_start.min(data.len());
        if from > last_start {
            return None;
        }
        // Look for the segment's first exact byte with memchr instead of trying every start.
        if let Some(Token::Byte(ByteTest { value, mask: 0xff })) = tokens.first() {
            let mut at = from;
            while at <= last_start {
                let window = &data[at..(last_start + 1).min(data.len())];
                let offset = if self.nocase {
                    let lower = value.to_ascii_lowercase();
                    memchr::memchr2(lower, value.to_ascii_uppercase(), window)?
                } else {
                    memchr::memchr(*value, window)?
                };
                let start = at + offset;
                if let Some(end) = self.match_tokens(tokens, data, start) {
                    return Some((start, end));
                }
                at = start + 1;
            }
            return None;
        }
        (from..=last_start).find_map(|start| self.match_tokens(tokens, data, start).map(|end| (start, end)))
    }

    /// Matches `tokens` at exactly `position`; bounded gaps are tried shortest first.
    fn match_tokens(&self, tokens: &[Token], data: &[u8], position: usize) -> Option<usize> {
        let Some((token, rest)) = tokens.split_first() else { return Some(position) };
        let special = match *token {
            Token::Byte(test) => {
                let byte = *data.get(position)?;
                return self.byte_matches(test, byte).then(|| self.match_tokens(rest, data, position + 1))?;
            }
            Token::Special(index) => self.specials.get(usize::from(index))?,
        };
        match special {
            Special::Alternatives(alternatives) if !alternatives.negated => {
                alternatives.options.iter().find_map(|option| {
                    let end = position + option.len();
                    let slice = data.get(position..end)?;
                    let equal = option.iter().zip(slice).all(|(test, &byte)| self.byte_matches(*test, byte));
                    equal.then(|| self.match_tokens(rest, data, end))?
                })
            }
            Special::Alternatives(alternatives) => {
                let options = &alternatives.options;
                let length = options.first().map_or(0, Vec::len);
                let slice = data.get(position..position + length)?;
                let any = options.iter().any(|o| o.iter().zip(slice).all(|(t, &b)| self.byte_matches(*t, b)));
                (!any).then(|| self.match_tokens(rest, data, position + length))?
            }
            Special::Gap { min, max } => {
                let last = (*max as usize).min(data.len().saturating_sub(position));
                (*min as usize..=last).find_map(|skip| self.match_tokens(rest, data, position + skip))
            }
        }
    }

    fn byte_matches(&self, test: ByteTest, byte: u8) -> bool {
        if self.nocase && test.mask == 0xff {
            return byte.eq_ignore_ascii_case(&test.value);
        }
        byte & test.mask == test.value
    }
}

fn tokenize(hex: &str) -> Result<Vec<Parsed>, String> {
    let chars: Vec<char> = hex.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                tokens.push(Parsed::Gap { min: 0, max: UNBOUNDED });
                i += 1;
            }
            '{' | '[' => {
                let close = if chars[i] == '{' { '}' } else { ']' };
                let end = chars[i..].iter().position(|&c| c == close).ok_or("unclosed gap")? + i;
                let body: String = chars[i + 1..end].iter().collect();
                tokens.push(parse_gap(&body)?);
                i = end + 1;
            }
            '!' | '(' => {
                let negated = chars[i] == '!';
                let open = if negated { i + 1 } else { i };
                if chars.get(open) != Some(&'(') {
                    return Err("'!' not followed by '('".into());
                }
                let end = chars[open..].iter().position(|&c| c == ')').ok_or("unclosed alternative")? + open;
                let body: String = chars[open + 1..end].iter().collect();
                if body == "B" || body == "L" || body == "W" {
                    return Err(format!("boundary marker ({body}) is not supported"));
                }
                let options = body.split('|').map(parse_bytes).collect::<Result<Vec<_>, _>>()?;
                if options.iter().any(Vec::is_empty) {
                    return Err("empty alternative".into());
                }
                if negated && options.iter().any(|o| o.len() != options[0].len()) {
                    return Err("negated alternatives of different lengths".into());
                }
                tokens.push(Parsed::Alternatives(Alternatives { options, negated }));
                i = end + 1;
            }
            _ => {
                let pair: String = chars.get(i..i + 2).ok_or("odd number of hex digits")?.iter().collect();
                tokens.push(Parsed::Byte(parse_byte(&pair)?));
                i += 2;
            }
        }
    }
    Ok(tokens)
}

fn parse_gap(body: &str) -> Result<Parsed, String> {
    let number = |s: &str| s.trim().parse::<u32>().map_err(|_| format!("bad gap {{{body}}}"));
    Ok(match body.split_once('-') {
        None => {
            let n = number(body)?;
            Parsed::Gap { min: n, max: n }
        }
        Some(("", max)) => Parsed::Gap { min: 0, max: number(max)? },
        Some((min, "")) => Parsed::Gap { min: number(min)?, max: UNBOUNDED },
        Some((min, max)) => {
            let (min, max) = (number(min)?, number(max)?);
            if min > max {
                return Err(format!("bad gap {{{body}}}"));
            }
            Parsed::Gap { min, max }
        }
    })
}

fn parse_bytes(text: &str) -> Result<Vec<ByteTest>, String> {
    let chars: Vec<char> = text.chars().collect();
    if !chars.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits in ({text})"));
    }
    chars.chunks(2).map(|pair| parse_byte(&pair.iter().collect::<String>())).collect()
}

fn parse_byte(pair: &str) -> Result<ByteTest, String> {
    let mut chars = pair.chars();
    let (high, low) = (chars.next().unwrap_or('?'), chars.next().unwrap_or('?'));
    let nibble = |c: char| -> Result<(u8, u8), String> {
        if c == '?' {
            return Ok((0, 0));
        }
        let value = c.to_digit(16).ok_or_else(|| format!("'{pair}' is not hex"))? as u8;
        Ok((value, 0xf))
    };
    let (hv, hm) = nibble(high)?;
    let (lv, lm) = nibble(low)?;
    Ok(ByteTest { value: (hv << 4) | lv, mask: (hm << 4) | lm })
}

/// `::w`: every byte becomes the byte followed by NUL (UTF-16LE of ASCII).
fn widen(tokens: Vec<Parsed>) -> Vec<Parsed> {
    let zero = ByteTest { value: 0, mask: 0xff };
    let widen_bytes = |bytes: Vec<ByteTest>| bytes.into_iter().flat_map(|b| [b, zero]).collect::<Vec<_>>();
    tokens
        .into_iter()
        .flat_map(|token| match token {
            Parsed::Byte(b) => vec![Parsed::Byte(b), Parsed::Byte(zero)],
            Parsed::Alternatives(Alternatives { options, negated }) => {
                let options = options.into_iter().map(widen_bytes).collect();
                vec![Parsed::Alternatives(Alternatives { options, negated })]
            }
            gap => vec![gap],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(hex: &str, data: &[u8]) -> bool {
        Pattern::parse(hex, false, false).unwrap().find(data, 0, data.len()).is_some()
    }

    #[test]
    fn wildcards_gaps_and_alternatives() {
        assert!(finds("616263", b"xxabcxx"));
        assert!(finds("61??63", b"xxazcxx"));
        assert!(finds("7?62", b"xxzb"));
        assert!(finds("?a62", b"xxzb"));
        assert!(finds("61{2}64", b"a..d"));
        assert!(!finds("61{2}64", b"a...d"));
        assert!(finds("61{1-3}64", b"a...d"));
        assert!(finds("61{-2}64", b"ad"));
        assert!(finds("61*64", b"a.........d"));
        assert!(finds("61{3-}64", b"a....d"));
        assert!(!finds("61{3-}64", b"a.d"));
        assert!(finds("61(62|6363)64", b"accd"));
        assert!(!finds("61!(62|63)64", b"abd"));
        assert!(finds("61!(62|63)64", b"axd"));
        assert!(!finds("616263", b"ab"));
    }

    #[test]
    fn anchor_is_the_longest_exact_run() {
        let pattern = Pattern::parse("61??626364*6566", false, false).unwrap();
        assert_eq!(pattern.anchor(), b"bcd");
    }

    #[test]
    fn nocase_and_wide() {
        let nocase = Pattern::parse("616263", true, false).unwrap();
        assert!(nocase.find(b"xABCx", 0, 5).is_some());
        let wide = Pattern::parse("6162", false, true).unwrap();
        assert!(wide.find(b"a\0b\0", 0, 4).is_some());
    }

    #[test]
    fn segments_split_at_unbounded_gaps() {
        let pattern = Pattern::parse("*6162**63{2-}64{1-2}65", false, false).unwrap();
        let segments: Vec<(usize, usize)> = pattern.segment_tokens().map(|(t, gap)| (t.len(), gap)).collect();
        assert_eq!(segments, [(2, 0), (1, 0), (3, 2)]);
        assert!(pattern.find(b"ab..c..d.e", 0, 10).is_some());
        assert!(pattern.find(b"ab..c.d.e", 0, 9).is_none());
        assert_eq!(std::mem::size_of::<Token>(), 4);
    }

    #[test]
    fn rejects_bad_hex() {
        assert!(Pattern::parse("6g", false, false).is_err());
        assert!(Pattern::parse("616", false, false).is_err());
        assert!(Pattern::parse("*", false, false).is_err());
    }
}
