//! Sigma value modifiers (`Field|contains|all: ...`): parsing the chain and the value
//! transformations (wildcard placement, encodings, dash variants, placeholders).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::CompileError;
use crate::pattern::{Piece, SigmaString};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Re,
    /// Regex flags, after `re`.
    ReI,
    ReM,
    ReS,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    /// `utf16`: little-endian with a byte-order mark.
    Utf16,
    WinDash,
    Cidr,
    Exists,
    Expand,
    FieldRef,
    Gt,
    Gte,
    Lt,
    Lte,
    Cased,
}

impl Modifier {
    pub fn parse(name: &str) -> Result<Modifier, CompileError> {
        use Modifier::*;
        Ok(match name {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "re" => Re,
            "i" | "ignorecase" => ReI,
            "m" | "multiline" => ReM,
            "s" | "dotall" => ReS,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "utf16le" | "wide" => Utf16Le,
            "utf16be" => Utf16Be,
            "utf16" => Utf16,
            "windash" => WinDash,
            "cidr" => Cidr,
            "exists" => Exists,
            "expand" => Expand,
            "fieldref" => FieldRef,
            "gt" => Gt,
            "gte" => Gte,
            "lt" => Lt,
            "lte" => Lte,
            "cased" => Cased,
            other => return Err(CompileError::UnknownModifier(other.to_string())),
        })
    }
}

/// A value on its way through the modifiers: text with wildcards, or bytes after a UTF-16
/// encoding (which only base64 can turn back into text).
#[derive(Debug, Clone)]
pub enum Stage {
    Text(SigmaString),
    Bytes(Vec<u8>),
}

/// Applies one transforming modifier to every value; returns the (possibly more) values.
pub fn transform(
    m: Modifier,
    values: Vec<Stage>,
    placeholders: &dyn Fn(&str) -> Option<Vec<String>>,
) -> Result<Vec<Stage>, CompileError> {
    let err =
        |reason: &str| CompileError::Modifier { modifier: format!("{m:?}").to_lowercase(), reason: reason.into() };
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        match (m, v) {
            (Modifier::Contains, Stage::Text(mut s)) => {
                s.prepend_any();
                s.append_any();
                out.push(Stage::Text(s));
            }
            (Modifier::StartsWith, Stage::Text(mut s)) => {
                s.append_any();
                out.push(Stage::Text(s));
            }
            (Modifier::EndsWith, Stage::Text(mut s)) => {
                s.prepend_any();
                out.push(Stage::Text(s));
            }
            (Modifier::WinDash, Stage::Text(s)) => out.extend(windash(&s).into_iter().map(Stage::Text)),
            (Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16, Stage::Text(s)) => {
                let text = s.as_literal().ok_or_else(|| err("cannot encode a value with wildcards"))?;
                out.push(Stage::Bytes(utf16(&text, m)));
            }
            (Modifier::Base64 | Modifier::Base64Offset, v) => {
                let bytes = match v {
                    Stage::Bytes(b) => b,
                    Stage::Text(s) => {
                        s.as_literal().ok_or_else(|| err("cannot encode a value with wildcards"))?.into_bytes()
                    }
                };
                if m == Modifier::Base64 {
                    out.push(Stage::Text(SigmaString::literal(&STANDARD.encode(&bytes))));
                } else {
                    out.extend(base64_offsets(&bytes).iter().map(|s| Stage::Text(SigmaString::literal(s))));
                }
            }
            (Modifier::Expand, Stage::Text(s)) => out.extend(expand(&s, placeholders)?.into_iter().map(Stage::Text)),
            (_, Stage::Bytes(_)) => return Err(err("needs text, but the value was UTF-16 encoded without base64")),
            (_, v) => out.push(v),
        }
    }
    Ok(out)
}

fn utf16(text: &str, m: Modifier) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if m == Modifier::Utf16 {
        out.extend_from_slice(&[0xff, 0xfe]);
    }
    for unit in text.encode_utf16() {
        let b = if m == Modifier::Utf16Be { unit.to_be_bytes() } else { unit.to_le_bytes() };
        out.extend_from_slice(&b);
    }
    out
}

/// The three base64 forms of `bytes` as they appear inside a longer encoded text, at each
/// offset modulo 3 (the characters touched by the neighbours are cut off).
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_CUT: [usize; 3] = [0, 3, 2];
    (0..3)
        .filter_map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(bytes);
            let enc = STANDARD.encode(&padded);
            let end = enc.len().checked_sub(END_CUT[(bytes.len() + i) % 3])?;
            (START[i] < end).then(|| enc[START[i]..end].to_string())
        })
        .collect()
}

/// Dash characters Windows command lines accept for an option.
const DASHES: [char; 5] = ['-', '/', '–', '—', '―'];
/// More combinations than this and all dashes of a value vary together.
const MAX_WINDASH_VARIANTS: usize = 125;

/// `windash`: every `-` or `/` that starts an option (after a non-word character, before a
/// word character) in any of the dash forms.
fn windash(s: &SigmaString) -> Vec<SigmaString> {
    // Positions (piece, char index) of option dashes.
    let mut spots = Vec::new();
    for (pi, p) in s.pieces.iter().enumerate() {
        if let Piece::Literal(l) = p {
            let chars: Vec<char> = l.chars().collect();
            for (ci, c) in chars.iter().enumerate() {
                let before_ok = ci == 0 || !is_word(chars[ci - 1]);
                let after_ok = chars.get(ci + 1).is_some_and(|n| is_word(*n));
                if (*c == '-' || *c == '/') && before_ok && after_ok {
                    spots.push((pi, ci));
                }
            }
        }
    }
    if spots.is_empty() {
        return vec![s.clone()];
    }
    let together = DASHES.len().pow(spots.len().min(8) as u32) > MAX_WINDASH_VARIANTS;
    let combos = if together { DASHES.len() } else { DASHES.len().pow(spots.len() as u32) };
    (0..combos)
        .map(|combo| {
            let mut pieces = s.pieces.clone();
            for (k, (pi, ci)) in spots.iter().enumerate() {
                let d = if together { combo } else { (combo / DASHES.len().pow(k as u32)) % DASHES.len() };
                if let Piece::Literal(l) = &mut pieces[*pi] {
                    *l = l.chars().enumerate().map(|(i, c)| if i == *ci { DASHES[d] } else { c }).collect();
                }
            }
            SigmaString { pieces }
        })
        .collect()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `expand`: `%name%` placeholders replaced by each of their values.
fn expand(
    s: &SigmaString,
    placeholders: &dyn Fn(&str) -> Option<Vec<String>>,
) -> Result<Vec<SigmaString>, CompileError> {
    let mut results = vec![SigmaString::default()];
    for p in &s.pieces {
        let Piece::Literal(l) = p else {
            results.iter_mut().for_each(|r| r.pieces.push(p.clone()));
            continue;
        };
        let mut parts = l.split('%');
        let mut alternatives: Vec<Vec<String>> = vec![vec![parts.next().unwrap_or_default().to_string()]];
        let rest: Vec<&str> = parts.collect();
        // Odd segments are names when the `%` are paired.
        for (i, seg) in rest.iter().enumerate() {
            if i % 2 == 0 && i + 1 < rest.len() {
                let values = placeholders(seg).ok_or_else(|| CompileError::Placeholder(seg.to_string()))?;
                alternatives.push(values);
            } else if i % 2 == 0 {
                alternatives.push(vec![format!("%{seg}")]);
            } else {
                alternatives.push(vec![seg.to_string()]);
            }
        }
        let mut next = Vec::new();
        for r in &results {
            let mut texts = vec![String::new()];
            for alt in &alternatives {
                texts = texts.iter().flat_map(|t| alt.iter().map(move |a| format!("{t}{a}"))).collect();
            }
            for t in texts {
                let mut r = r.clone();
                r.pieces.extend(SigmaString::parse(&t).pieces);
                next.push(r);
            }
        }
        results = next;
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64offset_matches_sigma_reference() {
        // pySigma's values for "/bin/bash".
        assert_eq!(base64_offsets(b"/bin/bash"), ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]);
    }

    #[test]
    fn windash_variants() {
        let v = windash(&SigmaString::parse(" -enc "));
        assert_eq!(v.len(), 5);
        assert!(v.iter().any(|s| s.as_literal().as_deref() == Some(" /enc ")));
        // A dash inside a word is not an option.
        assert_eq!(windash(&SigmaString::parse("a-b")).len(), 1);
    }

    #[test]
    fn utf16_then_base64() {
        let v = transform(Modifier::Utf16Le, vec![Stage::Text(SigmaString::parse("ab"))], &|_| None).unwrap();
        let v = transform(Modifier::Base64, v, &|_| None).unwrap();
        let Stage::Text(s) = &v[0] else { panic!() };
        assert_eq!(s.as_literal().unwrap(), STANDARD.encode(b"a\0b\0"));
    }

    #[test]
    fn expand_needs_a_value() {
        let s = SigmaString::parse("%Admins%\\x");
        assert!(matches!(expand(&s, &|_| None), Err(CompileError::Placeholder(_))));
        let v = expand(&s, &|_| Some(vec!["A".into(), "B".into()])).unwrap();
        assert_eq!(v.len(), 2);
    }
}
