//! Walking a stored event's JSON straight from its bytes: every scalar with its dotted path,
//! without building a `serde_json::Value` tree first.
//!
//! The indexer does this once per event, which made it the largest single cost of ingestion
//! when it went through serde's visitor (a UTF-8 check per string, a call per token). Events
//! are objects of short strings and small integers, so a plain scanner that checks the UTF-8
//! once for the whole record and finds string ends with `memchr` does the same work in a
//! fraction of the time. It accepts exactly RFC 8259 JSON, like serde_json, and reads numbers
//! as serde_json does; a test compares both on generated documents.

use mamori_query::ValueRef;

/// Nesting deeper than this is refused, as serde_json does.
const MAX_DEPTH: usize = 128;

/// Calls `f(path, value)` for every scalar of the JSON object in `json` (arrays give one call
/// per element, nulls none).
pub fn for_each_leaf(json: &[u8], f: &mut dyn FnMut(&str, ValueRef<'_>)) -> Result<(), serde_json::Error> {
    let text = match simdutf8::basic::from_utf8(json) {
        Ok(text) => text,
        // The fast check does not say where; the standard one does.
        Err(_) => std::str::from_utf8(json).map_err(|e| error(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?,
    };
    let mut walk = Walk { text, pos: 0, path: String::with_capacity(64), decoded: String::new(), f };
    walk.value(0)?;
    walk.skip_whitespace();
    if walk.pos < text.len() {
        return Err(walk.fail("trailing characters"));
    }
    Ok(())
}

fn error(message: String) -> serde_json::Error {
    <serde_json::Error as serde::de::Error>::custom(message)
}

struct Walk<'t, 'f> {
    text: &'t str,
    pos: usize,
    path: String,
    /// Strings with escapes, decoded.
    decoded: String,
    f: &'f mut dyn FnMut(&str, ValueRef<'_>),
}

/// Where a string's text is: in the input, or decoded into `Walk::decoded`.
enum Text {
    Input(usize, usize),
    Decoded,
}

impl<'t> Walk<'t, '_> {
    fn fail(&self, what: &str) -> serde_json::Error {
        error(format!("{what} at byte {}", self.pos))
    }

    fn bytes(&self) -> &'t [u8] {
        self.text.as_bytes()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), serde_json::Error> {
        self.skip_whitespace();
        match self.bytes().get(self.pos) {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => {
                let text = self.string()?;
                let s = match text {
                    Text::Input(a, b) => &self.text[a..b],
                    Text::Decoded => self.decoded.as_str(),
                };
                (self.f)(&self.path, ValueRef::Str(s));
                Ok(())
            }
            Some(b't') => self.literal("true", Some(true)),
            Some(b'f') => self.literal("false", Some(false)),
            Some(b'n') => self.literal("null", None),
            Some(b'-' | b'0'..=b'9') => {
                let v = self.number()?;
                (self.f)(&self.path, v);
                Ok(())
            }
            Some(_) => Err(self.fail("expected a value")),
            None => Err(self.fail("unexpected end")),
        }
    }

    fn literal(&mut self, word: &str, value: Option<bool>) -> Result<(), serde_json::Error> {
        if !self.text[self.pos..].starts_with(word) {
            return Err(self.fail("expected a value"));
        }
        self.pos += word.len();
        if let Some(b) = value {
            (self.f)(&self.path, ValueRef::Bool(b));
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> Result<(), serde_json::Error> {
        if depth > MAX_DEPTH {
            return Err(self.fail("nested too deeply"));
        }
        self.pos += 1;
        self.skip_whitespace();
        if self.bytes().get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            if self.bytes().get(self.pos) != Some(&b'"') {
                return Err(self.fail("expected a key"));
            }
            let len = self.path.len();
            let key = self.string()?;
            if !self.path.is_empty() {
                self.path.push('.');
            }
            match key {
                Text::Input(a, b) => self.path.push_str(&self.text[a..b]),
                Text::Decoded => self.path.push_str(&self.decoded),
            }
            self.skip_whitespace();
            if self.bytes().get(self.pos) != Some(&b':') {
                return Err(self.fail("expected ':'"));
            }
            self.pos += 1;
            self.value(depth)?;
            self.path.truncate(len);
            self.skip_whitespace();
            match self.bytes().get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.fail("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), serde_json::Error> {
        if depth > MAX_DEPTH {
            return Err(self.fail("nested too deeply"));
        }
        self.pos += 1;
        self.skip_whitespace();
        if self.bytes().get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value(depth)?;
            self.skip_whitespace();
            match self.bytes().get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.fail("expected ',' or ']'")),
            }
        }
    }

    /// Reads the string starting at the quote under `pos`.
    fn string(&mut self) -> Result<Text, serde_json::Error> {
        let start = self.pos + 1;
        let bytes = self.bytes();
        let Some(end) = memchr::memchr2(b'"', b'\\', &bytes[start..]).map(|i| start + i) else {
            return Err(self.fail("unterminated string"));
        };
        if bytes[start..end].iter().any(|&b| b < 0x20) {
            return Err(self.fail("control character in a string"));
        }
        if bytes[end] == b'"' {
            self.pos = end + 1;
            return Ok(Text::Input(start, end));
        }
        self.decoded.clear();
        self.decoded.push_str(&self.text[start..end]);
        self.pos = end;
        self.unescape_rest()?;
        Ok(Text::Decoded)
    }

    /// Decodes from the backslash under `pos` to the closing quote into `decoded`.
    fn unescape_rest(&mut self) -> Result<(), serde_json::Error> {
        let bytes = self.bytes();
        loop {
            match bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let c = match bytes.get(self.pos + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 2;
                            let c = self.unicode_escape()?;
                            self.decoded.push(c);
                            continue;
                        }
                        _ => return Err(self.fail("invalid escape")),
                    };
                    self.decoded.push(c);
                    self.pos += 2;
                }
                Some(&b) if b < 0x20 => return Err(self.fail("control character in a string")),
                Some(_) => {
                    let run = memchr::memchr2(b'"', b'\\', &bytes[self.pos..]).unwrap_or(bytes.len() - self.pos);
                    let chunk = &self.text[self.pos..self.pos + run];
                    if chunk.bytes().any(|b| b < 0x20) {
                        return Err(self.fail("control character in a string"));
                    }
                    self.decoded.push_str(chunk);
                    self.pos += run;
                }
                None => return Err(self.fail("unterminated string")),
            }
        }
    }

    /// The character of `XXXX` (after `\u`) under `pos`, with its low surrogate's escape when
    /// it is a high surrogate.
    fn unicode_escape(&mut self) -> Result<char, serde_json::Error> {
        let high = self.hex4()?;
        let code = match high {
            0xD800..=0xDBFF => {
                if !self.text[self.pos..].starts_with("\\u") {
                    return Err(self.fail("lone leading surrogate in hex escape"));
                }
                self.pos += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.fail("lone leading surrogate in hex escape"));
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.fail("lone trailing surrogate in hex escape")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.fail("invalid unicode escape"))
    }

    fn hex4(&mut self) -> Result<u32, serde_json::Error> {
        let digits = self.bytes().get(self.pos..self.pos + 4).ok_or_else(|| self.fail("unterminated string"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char).to_digit(16).ok_or_else(|| self.fail("invalid escape"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }

    /// A number as serde_json reads it: integers as `i64` (or `u64` above `i64::MAX`), anything
    /// with a fraction or exponent, `-0` and integers out of range as `f64`.
    fn number(&mut self) -> Result<ValueRef<'static>, serde_json::Error> {
        let bytes = self.bytes();
        let start = self.pos;
        let negative = bytes[self.pos] == b'-';
        if negative {
            self.pos += 1;
        }
        let digits_at = self.pos;
        match bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    self.pos += 1;
                }
            }
            _ => return Err(self.fail("invalid number")),
        }
        let digits_end = self.pos;
        let mut float = false;
        if bytes.get(self.pos) == Some(&b'.') {
            float = true;
            self.pos += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = bytes.get(self.pos) {
            float = true;
            self.pos += 1;
            if let Some(b'+' | b'-') = bytes.get(self.pos) {
                self.pos += 1;
            }
            self.digits()?;
        }
        if !float {
            let magnitude = bytes[digits_at..digits_end]
                .iter()
                .try_fold(0u64, |acc, &d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')));
            match (negative, magnitude) {
                (false, Some(m)) => return Ok(i64::try_from(m).map_or(ValueRef::UInt(m), ValueRef::Int)),
                (true, Some(m)) if m > 0 && m <= 1 << 63 => return Ok(ValueRef::Int((m as i64).wrapping_neg())),
                _ => {}
            }
        }
        let f: f64 = self.text[start..self.pos].parse().map_err(|_| self.fail("invalid number"))?;
        if f.is_infinite() {
            return Err(self.fail("number out of range"));
        }
        Ok(ValueRef::Float(f))
    }

    fn digits(&mut self) -> Result<(), serde_json::Error> {
        let from = self.pos;
        while self.bytes().get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        if self.pos == from {
            return Err(self.fail("invalid number"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
