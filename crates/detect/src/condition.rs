//! The `condition` of a Sigma detection: `and`, `or`, `not`, parentheses, and
//! `1 of`/`all of` over identifier patterns (`selection*`) or `them`. Parsed once into an
//! expression over the indices of the compiled searches.
//!
//! Precedence, loosest first: `or`, `and`, `not`.

use crate::error::CompileError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Search(usize),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    /// Evaluates with `search(i)` telling whether search `i` matches (called lazily, so
    /// `and` stops at the first false).
    pub fn eval(&self, search: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Expr::Search(i) => search(*i),
            Expr::Not(e) => !e.eval(search),
            Expr::And(es) => es.iter().all(|e| e.eval(search)),
            Expr::Or(es) => es.iter().any(|e| e.eval(search)),
        }
    }
}

impl Expr {
    /// Values a field must have for the expression to hold, given each search's own
    /// (`search(i)`, `None` when unconstrained): an `and` takes the tightest of its parts, an
    /// `or` the union when every branch is constrained; `not` constrains nothing.
    pub fn required(&self, search: &dyn Fn(usize) -> Option<Vec<String>>) -> Option<Vec<String>> {
        match self {
            Expr::Search(i) => search(*i),
            Expr::Not(_) => None,
            Expr::And(es) => es.iter().filter_map(|e| e.required(search)).min_by_key(Vec::len),
            Expr::Or(es) => {
                let mut all = Vec::new();
                for e in es {
                    all.extend(e.required(search)?);
                }
                Some(all)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    /// `1`/`any` before `of`.
    One,
    All,
    Of,
    Them,
    Ident(String),
    Pipe,
}

fn tokenize(text: &str) -> Result<Vec<Token>, CompileError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '|' => {
                chars.next();
                out.push(Token::Pipe);
            }
            _ => {
                let mut end = i;
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '|' {
                        break;
                    }
                    end = j + c.len_utf8();
                    chars.next();
                }
                let word = &text[i..end];
                out.push(match word {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    "1" | "any" => Token::One,
                    "all" => Token::All,
                    "of" => Token::Of,
                    "them" => Token::Them,
                    w => Token::Ident(w.to_string()),
                });
            }
        }
    }
    Ok(out)
}

/// Parses `text` against the search identifiers `names` (in the order their searches are
/// compiled).
pub fn parse(text: &str, names: &[String]) -> Result<Expr, CompileError> {
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens, pos: 0, names };
    let e = p.or()?;
    match p.peek() {
        None => Ok(e),
        Some(Token::Pipe) => Err(CompileError::Condition(
            "aggregations after '|' (count, near) are Sigma v1; write a correlation rule".into(),
        )),
        Some(t) => Err(CompileError::Condition(format!("unexpected {t:?} in '{text}'"))),
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, CompileError> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one item") } else { Expr::Or(items) })
    }

    fn and(&mut self) -> Result<Expr, CompileError> {
        let mut items = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one item") } else { Expr::And(items) })
    }

    fn not(&mut self) -> Result<Expr, CompileError> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, CompileError> {
        match self.next() {
            Some(Token::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(e),
                    _ => Err(CompileError::Condition("a '(' is not closed".into())),
                }
            }
            Some(Token::Ident(name)) => self.identifier(&name),
            Some(q @ (Token::One | Token::All)) => {
                if self.next() != Some(Token::Of) {
                    return Err(CompileError::Condition("expected 'of' after '1'/'all'".into()));
                }
                let indices = match self.next() {
                    Some(Token::Them) => {
                        // `them` leaves out identifiers starting with `_` (helpers by convention).
                        (0..self.names.len()).filter(|i| !self.names[*i].starts_with('_')).collect()
                    }
                    Some(Token::Ident(pat)) => self.matching(&pat)?,
                    t => {
                        return Err(CompileError::Condition(format!(
                            "expected 'them' or a pattern after 'of', got {t:?}"
                        )));
                    }
                };
                let searches: Vec<Expr> = indices.into_iter().map(Expr::Search).collect();
                Ok(if q == Token::One { Expr::Or(searches) } else { Expr::And(searches) })
            }
            Some(Token::Pipe) => Err(CompileError::Condition(
                "aggregations after '|' (count, near) are Sigma v1; write a correlation rule".into(),
            )),
            Some(t) => Err(CompileError::Condition(format!("unexpected {t:?}"))),
            None => Err(CompileError::Condition("the condition ends too early".into())),
        }
    }

    fn identifier(&self, name: &str) -> Result<Expr, CompileError> {
        match self.names.iter().position(|n| n == name) {
            Some(i) => Ok(Expr::Search(i)),
            None => Err(CompileError::Condition(format!("'{name}' is not a search identifier of the detection"))),
        }
    }

    fn matching(&self, pattern: &str) -> Result<Vec<usize>, CompileError> {
        let found: Vec<usize> = (0..self.names.len()).filter(|i| glob(pattern, &self.names[*i])).collect();
        if found.is_empty() {
            return Err(CompileError::Condition(format!("no search identifier matches '{pattern}'")));
        }
        Ok(found)
    }
}

/// `*` wildcards of identifier patterns.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else { return false };
            if rest.is_empty() {
                return true;
            }
            (0..=tail.len()).filter(|i| tail.is_char_boundary(*i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_and_parentheses() {
        let n = names(&["a", "b", "c"]);
        assert_eq!(
            parse("a or b and not c", &n).unwrap(),
            Expr::Or(vec![Expr::Search(0), Expr::And(vec![Expr::Search(1), Expr::Not(Box::new(Expr::Search(2)))])])
        );
        assert_eq!(
            parse("(a or b) and c", &n).unwrap(),
            Expr::And(vec![Expr::Or(vec![Expr::Search(0), Expr::Search(1)]), Expr::Search(2)])
        );
    }

    #[test]
    fn of_patterns_and_them() {
        let n = names(&["selection_a", "selection_b", "filter", "_helper"]);
        assert_eq!(parse("1 of selection_*", &n).unwrap(), Expr::Or(vec![Expr::Search(0), Expr::Search(1)]));
        assert_eq!(
            parse("all of them", &n).unwrap(),
            Expr::And(vec![Expr::Search(0), Expr::Search(1), Expr::Search(2)])
        );
        let e = parse("all of selection* and not 1 of filter*", &n).unwrap();
        let mut truth = |i: usize| i < 2;
        assert!(e.eval(&mut truth));
    }

    #[test]
    fn errors_are_specific() {
        let n = names(&["a"]);
        assert!(parse("a and", &n).is_err());
        assert!(parse("(a", &n).is_err());
        assert!(parse("b", &n).unwrap_err().to_string().contains("'b'"));
        assert!(parse("a | count() > 5", &n).unwrap_err().to_string().contains("correlation"));
        assert!(parse("1 of x*", &n).is_err());
    }
}
