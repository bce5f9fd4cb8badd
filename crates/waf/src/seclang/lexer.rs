//! Splits a SecLang file into directives: a name and its arguments, with the line it starts on.
//! Lines ending in `\` continue on the next line (Apache's config syntax); inside double quotes
//! only `\"` is unescaped, so regular expressions keep their backslashes.

use super::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub line: usize,
}

/// Reads every directive of `text`; `file` only names the source in errors.
pub fn lex(text: &str, file: &str) -> Result<Vec<Directive>, ParseError> {
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut start_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if logical.is_empty() {
            start_line = i + 1;
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') || trimmed.is_empty() {
                continue;
            }
        }
        if let Some(head) = line.strip_suffix('\\') {
            logical.push_str(head);
            continue;
        }
        logical.push_str(line);
        if let Some(d) = split(&logical, file, start_line)? {
            out.push(d);
        }
        logical.clear();
    }
    if !logical.is_empty()
        && let Some(d) = split(&logical, file, start_line)?
    {
        out.push(d);
    }
    Ok(out)
}

fn split(line: &str, file: &str, line_no: usize) -> Result<Option<Directive>, ParseError> {
    let mut words = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' || c == '\'' {
            let quote = c;
            chars.next();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                if c == '\\' && chars.peek().map(|&(_, n)| n) == Some(quote) {
                    word.push(quote);
                    chars.next();
                } else if c == quote {
                    closed = true;
                    break;
                } else {
                    word.push(c);
                }
            }
            if !closed {
                return Err(ParseError::at(file, line_no, format!("unterminated {quote}-quoted argument")));
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(word);
    }
    if words.is_empty() {
        return Ok(None);
    }
    let name = words.remove(0);
    Ok(Some(Directive { name, args: words, line: line_no }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_and_quotes() {
        let d = lex("# c\nSecRule ARGS \"@rx a\\\"b\\d\" \\\n  \"id:1,\\\n  pass\"\n", "f").unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, 2);
        assert_eq!(d[0].args, vec!["ARGS", "@rx a\"b\\d", "id:1,  pass"]);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let e = lex("\n\nSecRule ARGS \"@rx a", "x.conf").unwrap_err();
        assert_eq!(e.to_string(), "x.conf:3: unterminated \"-quoted argument");
    }
}
