//! Where a body signature may start: `*`, `n`, `n,shift`, `EOF-n`, `EP+n`, `EP-n`, `Sx+n`,
//! `SL+n` (each with an optional `,shift`).

use super::pe::PeInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Start,
    EndOfFile,
    EntryPoint,
    Section(usize),
    LastSection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offset {
    Anywhere,
    At { base: Base, delta: i64, shift: usize },
}

impl Offset {
    pub fn parse(text: &str) -> Result<Offset, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(Offset::Anywhere);
        }
        let (position, shift) = match text.split_once(',') {
            Some((position, shift)) => (position, shift.parse::<usize>().map_err(|_| format!("bad offset {text}"))?),
            None => (text, 0),
        };
        let bad = || format!("offset {text} is not supported");
        let (base, rest) = if let Some(rest) = position.strip_prefix("EOF") {
            (Base::EndOfFile, rest)
        } else if let Some(rest) = position.strip_prefix("EP") {
            (Base::EntryPoint, rest)
        } else if let Some(rest) = position.strip_prefix("SL") {
            (Base::LastSection, rest)
        } else if let Some(rest) = position.strip_prefix('S') {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            (Base::Section(rest[..digits].parse().map_err(|_| bad())?), &rest[digits..])
        } else {
            (Base::Start, position)
        };
        let delta = if base == Base::Start {
            rest.parse::<i64>().map_err(|_| bad())?
        } else if rest.is_empty() {
            0
        } else if let Some(n) = rest.strip_prefix('+') {
            n.parse::<i64>().map_err(|_| bad())?
        } else if let Some(n) = rest.strip_prefix('-') {
            -n.parse::<i64>().map_err(|_| bad())?
        } else {
            return Err(bad());
        };
        Ok(Offset::At { base, delta, shift })
    }

    /// The inclusive range of allowed start positions in `data`, or `None` when the offset
    /// falls outside it (or needs PE structure `data` does not have).
    pub fn starts(&self, data_len: usize, pe: Option<&PeInfo>) -> Option<(usize, usize)> {
        let Offset::At { base, delta, shift } = *self else { return Some((0, data_len)) };
        let origin: i64 = match base {
            Base::Start => 0,
            Base::EndOfFile => data_len as i64,
            Base::EntryPoint => pe?.entry_point? as i64,
            Base::Section(index) => pe?.sections.get(index)?.raw_offset as i64,
            Base::LastSection => pe?.sections.last()?.raw_offset as i64,
        };
        let start = origin.checked_add(delta)?;
        if start < 0 || start as usize > data_len {
            return None;
        }
        let start = start as usize;
        Some((start, start.saturating_add(shift).min(data_len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves() {
        assert_eq!(Offset::parse("*").unwrap(), Offset::Anywhere);
        assert_eq!(Offset::parse("10").unwrap().starts(100, None), Some((10, 10)));
        assert_eq!(Offset::parse("10,5").unwrap().starts(100, None), Some((10, 15)));
        assert_eq!(Offset::parse("EOF-20").unwrap().starts(100, None), Some((80, 80)));
        assert_eq!(Offset::parse("EP+4").unwrap().starts(100, None), None);
        assert!(Offset::parse("VI").is_err());
    }
}
