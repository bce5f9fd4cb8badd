//! Splits a SecLang file into directives: a name and its arguments, with the line it starts on.
//! Lines ending in `\` continue on the next line (Apache's config syntax); inside double quotes
//! only `\"` is unescaped, so regular expressions keep their backslashes. A quote left open
//! ends with the line, as libmodsecurity reads it (rule sets in the wild rely on that).

#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub line: usize,
}

/// Reads every directive of `text`.
pub fn lex(text: &str) -> Vec<Directive> {
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
        if let Some(d) = split(&logical, start_line) {
            out.push(d);
        }
        logical.clear();
    }
    if !logical.is_empty()
        && let Some(d) = split(&logical, start_line)
    {
        out.push(d);
    }
    out
}

fn split(line: &str, line_no: usize) -> Option<Directive> {
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
            while let Some((_, c)) = chars.next() {
                if c == '\\' && chars.peek().map(|&(_, n)| n) == Some(quote) {
                    word.push(quote);
                    chars.next();
                } else if c == quote {
                    break;
                } else {
                    word.push(c);
                }
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
        return None;
    }
    let name = words.remove(0);
    Some(Directive { name, args: words, line: line_no })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_and_quotes() {
        let d = lex("# c\nSecRule ARGS \"@rx a\\\"b\\d\" \\\n  \"id:1,\\\n  pass\"\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, 2);
        assert_eq!(d[0].args, vec!["ARGS", "@rx a\"b\\d", "id:1,  pass"]);
    }

    #[test]
    fn an_open_quote_ends_with_the_line() {
        let d = lex("SecRule ARGS \"@rx a\" \"id:1,pass\nSecAction \"id:2\"");
        assert_eq!(d[0].args, vec!["ARGS", "@rx a", "id:1,pass"]);
        assert_eq!(d[1].args, vec!["id:2"]);
    }
}
