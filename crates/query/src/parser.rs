//! Recursive-descent parser from tokens ([`crate::lexer`]) to [`Query`].
//!
//! ```text
//! query   = or EOF                       (empty query = All)
//! or      = and { ("OR" | "||") and }
//! and     = unary { [ "AND" | "&&" ] unary }       adjacent clauses are ANDed
//! unary   = ("NOT" | "!" | "-") unary | "+" unary | primary
//! primary = "(" or ")" | "\"phrase\"" | word | field ":" value
//! value   = word | "\"phrase\"" | ">"|">="|"<"|"<=" scalar
//!         | ("[" | "{") bound "TO" bound ("]" | "}") | "(" or-of-values ")"
//! ```
//!
//! Nesting is limited to [`MAX_DEPTH`] levels so that no input can exhaust the stack.

use std::ops::Bound;

use jiff::Timestamp;

use crate::ast::{Query, Scalar};
use crate::error::ParseError;
use crate::lexer::{Tok, TokKind, Word, lex};
use crate::schema::{FieldKind, field_kind};
use crate::typed::{scalar, value_query, wildcard_query};

/// How deeply parentheses, field groups and NOT may nest.
pub const MAX_DEPTH: usize = 100;

/// Parses a query; relative times (`now-1h`) are resolved against `now`.
pub fn parse(input: &str, now: Timestamp) -> Result<Query, ParseError> {
    let toks = lex(input)?;
    let mut p = Parser { toks, i: 0, now, depth: 0, len: input.chars().count() };
    if p.toks.is_empty() {
        return Ok(Query::All);
    }
    let q = p.parse_or(None)?;
    match p.peek() {
        None => Ok(q),
        Some(t) if t.kind == TokKind::RParen => Err(ParseError::new(t.start, "')' without a matching '('")),
        Some(t) => Err(ParseError::new(t.start, "unexpected text")),
    }
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
    now: Timestamp,
    depth: usize,
    len: usize,
}

/// The binary operator a token is, if any.
fn operator(t: &Tok) -> Option<&'static str> {
    match &t.kind {
        TokKind::Word(w) if w.is("AND") => Some("AND"),
        TokKind::Word(w) if w.is("&&") => Some("&&"),
        TokKind::Word(w) if w.is("OR") => Some("OR"),
        TokKind::Word(w) if w.is("||") => Some("||"),
        _ => None,
    }
}

fn is_or(t: &Tok) -> bool {
    matches!(operator(t), Some("OR" | "||"))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }

    /// Where the next token starts, or the end of the input.
    fn here(&self) -> usize {
        self.peek().map_or(self.len, |t| t.start)
    }

    /// The next token, if it starts exactly at `pos` (no space between).
    fn adjacent(&self, pos: usize) -> Option<&Tok> {
        self.peek().filter(|t| t.start == pos)
    }

    fn err<T>(&self, pos: usize, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::new(pos, msg))
    }

    /// Fails unless a clause can start at the next token; `after` names what came before.
    fn expect_operand(&self, after: &str) -> Result<(), ParseError> {
        match self.peek() {
            Some(t) if operator(t).is_none() && !matches!(t.kind, TokKind::RParen) => Ok(()),
            _ => self.err(self.here(), format!("expected a search term after '{after}'")),
        }
    }

    fn parse_or(&mut self, ctx: Option<&str>) -> Result<Query, ParseError> {
        let mut items = vec![self.parse_and(ctx)?];
        while let Some(t) = self.peek().filter(|t| is_or(t)) {
            let op = operator(t).unwrap_or("OR");
            self.i += 1;
            self.expect_operand(op)?;
            items.push(self.parse_and(ctx)?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Query::Or(items) })
    }

    fn parse_and(&mut self, ctx: Option<&str>) -> Result<Query, ParseError> {
        let mut items = vec![self.parse_unary(ctx)?];
        while let Some(t) = self.peek() {
            if t.kind == TokKind::RParen || is_or(t) {
                break;
            }
            if let Some(op) = operator(t) {
                self.i += 1;
                self.expect_operand(op)?;
            }
            items.push(self.parse_unary(ctx)?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Query::And(items) })
    }

    fn parse_unary(&mut self, ctx: Option<&str>) -> Result<Query, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(self.here(), format!("the query nests more than {MAX_DEPTH} levels deep"));
        }
        let q = self.parse_unary_inner(ctx);
        self.depth -= 1;
        q
    }

    fn parse_unary_inner(&mut self, ctx: Option<&str>) -> Result<Query, ParseError> {
        let Some(tok) = self.peek() else {
            return self.err(self.len, "expected a search term");
        };
        if let Some(op) = operator(tok) {
            return self.err(tok.start, format!("'{op}' needs a search term on each side"));
        }
        let TokKind::Word(w) = &tok.kind else {
            return self.parse_primary(ctx);
        };
        if w.is("NOT") {
            self.i += 1;
            self.expect_operand("NOT")?;
            return Ok(Query::Not(Box::new(self.parse_unary(ctx)?)));
        }
        let prefix = ['-', '!', '+'].into_iter().find(|&c| matches!(w.chars.first(), Some(&(x, false)) if x == c));
        let Some(prefix) = prefix else {
            return self.parse_primary(ctx);
        };
        // Strip the prefix character: it applies to the rest of the word, or to the next
        // clause when it stands alone (`-(a OR b)`, `- a`).
        if w.chars.len() == 1 {
            self.i += 1;
        } else if let Some(tok) = self.toks.get_mut(self.i)
            && let TokKind::Word(w) = &mut tok.kind
        {
            w.chars.remove(0);
            tok.start += 1;
        }
        self.expect_operand(&prefix.to_string())?;
        let operand = self.parse_unary(ctx)?;
        Ok(if prefix == '+' { operand } else { Query::Not(Box::new(operand)) })
    }

    fn parse_primary(&mut self, ctx: Option<&str>) -> Result<Query, ParseError> {
        let Some(tok) = self.next() else {
            return self.err(self.len, "expected a search term");
        };
        match tok.kind {
            TokKind::LParen => self.parse_parenthesized(tok.start, ctx),
            TokKind::RParen => self.err(tok.start, "')' without a matching '('"),
            TokKind::LBracket | TokKind::LBrace => match ctx {
                Some(field) => self.parse_range(field, &tok),
                None => self.err(tok.start, "a range needs a field before it, e.g. bytes:[10 TO 20]"),
            },
            TokKind::RBracket => self.err(tok.start, "']' without a range to close"),
            TokKind::RBrace => self.err(tok.start, "'}' without a range to close"),
            TokKind::Quoted(text) => match ctx {
                Some(field) => value_query(field, &text, true, self.now).map_err(|m| ParseError::new(tok.start, m)),
                None => Ok(Query::Phrase { field: None, text }),
            },
            TokKind::Word(ref w) => match ctx {
                Some(field) => self.field_value(field, w, tok.start, tok.end, ""),
                None => self.word_clause(w, &tok),
            },
        }
    }

    /// After `(` at `open`: the group's query and its `)`.
    fn parse_parenthesized(&mut self, open: usize, ctx: Option<&str>) -> Result<Query, ParseError> {
        if matches!(self.peek(), Some(t) if t.kind == TokKind::RParen) {
            return self.err(open, "empty parentheses");
        }
        let q = self.parse_or(ctx)?;
        match self.next() {
            Some(t) if t.kind == TokKind::RParen => Ok(q),
            _ => self.err(open, format!("missing ')' for the '(' at column {}", open + 1)),
        }
    }

    /// A word outside a field group: `term`, `field:value`, `_exists_:field`.
    fn word_clause(&mut self, w: &Word, tok: &Tok) -> Result<Query, ParseError> {
        let Some(colon) = w.find(':') else {
            return Ok(if w.is_all_stars() {
                Query::All
            } else if w.has_wildcard() {
                wildcard_query(None, w)
            } else {
                Query::Term { field: None, value: w.text() }
            });
        };
        let field = w.head(colon).text();
        if field.is_empty() {
            return self.err(tok.start, "expected a field name before ':'");
        }
        let value = w.tail(colon + 1);
        let value_start = tok.start + colon + 1;
        if field == "_exists_" {
            return self.exists_clause(&value, value_start, tok.end);
        }
        self.check_searchable(&field, tok.start)?;
        self.field_value(&field, &value, value_start, tok.end, &format!("{field}:"))
    }

    fn check_searchable(&self, field: &str, pos: usize) -> Result<(), ParseError> {
        if field_kind(field) == FieldKind::StoredOnly {
            return self.err(
                pos,
                format!(
                    "{field} is stored for display but cannot be searched; search message or a parsed field instead"
                ),
            );
        }
        Ok(())
    }

    /// `_exists_:field` or `_exists_:"field"`.
    fn exists_clause(&mut self, value: &Word, start: usize, end: usize) -> Result<Query, ParseError> {
        let field = if value.chars.is_empty() {
            match self.adjacent(end).map(|t| t.kind.clone()) {
                Some(TokKind::Quoted(text)) if !text.is_empty() => {
                    self.i += 1;
                    text
                }
                _ => return self.err(end, "expected a field name after '_exists_:'"),
            }
        } else if value.has_wildcard() {
            return self.err(start, "'_exists_:' takes one field name, without wildcards");
        } else {
            value.text()
        };
        self.check_searchable(&field, start)?;
        Ok(Query::Exists { field })
    }

    /// The value `w` (spanning `start..end`) for `field`; `shown` is how the field was written
    /// before the value, for messages ("" inside a field group).
    fn field_value(
        &mut self,
        field: &str,
        w: &Word,
        start: usize,
        end: usize,
        shown: &str,
    ) -> Result<Query, ParseError> {
        if w.chars.is_empty() {
            return match self.adjacent(end).map(|t| t.kind.clone()) {
                Some(TokKind::Quoted(text)) => {
                    let pos = self.here();
                    self.i += 1;
                    value_query(field, &text, true, self.now).map_err(|m| ParseError::new(pos, m))
                }
                Some(TokKind::LParen) => {
                    let open = self.here();
                    self.i += 1;
                    self.depth += 1;
                    let q = if self.depth > MAX_DEPTH {
                        self.err(open, format!("the query nests more than {MAX_DEPTH} levels deep"))
                    } else {
                        self.parse_parenthesized(open, Some(field))
                    };
                    self.depth -= 1;
                    q
                }
                Some(TokKind::LBracket | TokKind::LBrace) => {
                    let open = self.toks[self.i].clone();
                    self.i += 1;
                    self.parse_range(field, &open)
                }
                _ => self.err(end, format!("expected a value after '{shown}'")),
            };
        }
        for op in [">=", "<=", ">", "<"] {
            if w.starts_with(op) {
                return self.comparison(field, op, &w.tail(op.len()), start + op.len(), end, shown);
            }
        }
        if w.is_all_stars() {
            return Ok(Query::Exists { field: field.to_owned() });
        }
        if w.has_wildcard() {
            if crate::schema::field_kind(field) == crate::schema::FieldKind::Time {
                return self.err(
                    start,
                    format!("wildcards do not apply to the time field {field}; use a range such as {field}:[2026-11-01 TO 2026-11-02]"),
                );
            }
            return Ok(wildcard_query(Some(field), w));
        }
        value_query(field, &w.text(), false, self.now).map_err(|m| ParseError::new(start, m))
    }

    /// `field:>value` and friends; `rest` is the value after the operator.
    fn comparison(
        &mut self,
        field: &str,
        op: &str,
        rest: &Word,
        start: usize,
        end: usize,
        shown: &str,
    ) -> Result<Query, ParseError> {
        let (text, quoted, pos) = if rest.chars.is_empty() {
            match self.adjacent(end).map(|t| t.kind.clone()) {
                Some(TokKind::Quoted(text)) => {
                    let pos = self.here();
                    self.i += 1;
                    (text, true, pos)
                }
                _ => return self.err(end, format!("expected a value after '{shown}{op}'")),
            }
        } else {
            (rest.text(), false, start)
        };
        let s = scalar(field, &text, quoted, self.now).map_err(|m| ParseError::new(pos, m))?;
        let (lower, upper) = match op {
            ">=" => (Bound::Included(s), Bound::Unbounded),
            ">" => (Bound::Excluded(s), Bound::Unbounded),
            "<=" => (Bound::Unbounded, Bound::Included(s)),
            _ => (Bound::Unbounded, Bound::Excluded(s)),
        };
        Ok(Query::Range { field: field.to_owned(), lower, upper })
    }

    /// After `[` or `{` (the token `open`): `bound TO bound` and `]` or `}`.
    fn parse_range(&mut self, field: &str, open: &Tok) -> Result<Query, ParseError> {
        let col = open.start + 1;
        let inclusive_lower = open.kind == TokKind::LBracket;
        let lower = self.range_bound(field, inclusive_lower, "a lower bound", col)?;
        match self.next() {
            Some(Tok { kind: TokKind::Word(w), .. }) if w.is("TO") || w.is("to") => {}
            t => {
                let pos = t.map_or(self.len, |t| t.start);
                return self.err(pos, format!("expected 'TO' between the bounds of the range at column {col}"));
            }
        }
        let upper_tok_kind = self.toks.iter().skip(self.i + 1).map(|t| t.kind.clone()).next();
        let inclusive_upper = upper_tok_kind != Some(TokKind::RBrace);
        let upper = self.range_bound(field, inclusive_upper, "an upper bound", col)?;
        match self.next() {
            Some(t) if matches!(t.kind, TokKind::RBracket | TokKind::RBrace) => {
                Ok(Query::Range { field: field.to_owned(), lower, upper })
            }
            t => {
                let pos = t.map_or(self.len, |t| t.start);
                self.err(pos, format!("expected ']' or '}}' to close the range at column {col}"))
            }
        }
    }

    fn range_bound(
        &mut self,
        field: &str,
        inclusive: bool,
        what: &str,
        col: usize,
    ) -> Result<Bound<Scalar>, ParseError> {
        let bound = |s| {
            if inclusive { Bound::Included(s) } else { Bound::Excluded(s) }
        };
        match self.next() {
            Some(Tok { kind: TokKind::Word(w), .. }) if w.is("*") => Ok(Bound::Unbounded),
            Some(Tok { kind: TokKind::Word(w), start, .. }) if !w.is("TO") => {
                scalar(field, &w.text(), false, self.now).map(bound).map_err(|m| ParseError::new(start, m))
            }
            Some(Tok { kind: TokKind::Quoted(text), start, .. }) => {
                scalar(field, &text, true, self.now).map(bound).map_err(|m| ParseError::new(start, m))
            }
            t => {
                let pos = t.map_or(self.len, |t| t.start);
                self.err(pos, format!("expected {what} in the range at column {col}"))
            }
        }
    }
}
