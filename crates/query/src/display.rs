//! The canonical text of a query: `parse(&q.to_string(), now) == Ok(q)` for every query the
//! parser produces (times are printed absolute, so `now` does not matter).
//!
//! Canonical choices: `AND`/`OR`/`NOT` spelled out, explicit `AND` between clauses,
//! parentheses only where an `AND` or `OR` is nested in another operator, field groups expanded
//! (`f:(a OR b)` prints as `f:a OR f:b`), one-sided ranges as comparisons (`bytes:>=10`), text
//! range endpoints always quoted, times in RFC 3339 UTC, and backslash escapes only where a
//! character would otherwise mean something.

use std::fmt::{self, Display, Formatter, Write};
use std::ops::Bound;

use crate::ast::{Query, Scalar};
use crate::lexer::is_delimiter;

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Query::All => f.write_str("*"),
            Query::Term { field, value } => {
                if value.is_empty() {
                    write_field_prefix(f, field)?;
                    return f.write_str("\"\"");
                }
                write_field_prefix(f, field)?;
                write_escaped(f, value, field.is_none(), false)
            }
            Query::Phrase { field, text } => {
                write_field_prefix(f, field)?;
                write_quoted(f, text)
            }
            Query::Wildcard { field, pattern } => {
                write_field_prefix(f, field)?;
                write_escaped(f, pattern, field.is_none(), true)
            }
            Query::Range { field, lower, upper } => {
                write_field(f, field)?;
                f.write_char(':')?;
                write_range(f, lower, upper)
            }
            Query::Cidr { field, net } => {
                write_field(f, field)?;
                write!(f, ":{net}")
            }
            // `_exists_:*` would be read as a malformed `_exists_` clause.
            Query::Exists { field } if field == "_exists_" => f.write_str("_exists_:_exists_"),
            Query::Exists { field } => {
                write_field(f, field)?;
                f.write_str(":*")
            }
            Query::And(qs) if qs.is_empty() => f.write_str("*"),
            Query::Or(qs) if qs.is_empty() => f.write_str("NOT *"),
            Query::And(qs) => write_joined(f, qs, " AND ", |q| matches!(q, Query::And(_) | Query::Or(_))),
            Query::Or(qs) => write_joined(f, qs, " OR ", |q| matches!(q, Query::Or(_))),
            Query::Not(q) => {
                f.write_str("NOT ")?;
                write_child(f, q, matches!(**q, Query::And(_) | Query::Or(_)))
            }
        }
    }
}

fn write_joined(f: &mut Formatter<'_>, qs: &[Query], sep: &str, needs_parens: impl Fn(&Query) -> bool) -> fmt::Result {
    for (i, q) in qs.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write_child(f, q, needs_parens(q))?;
    }
    Ok(())
}

fn write_child(f: &mut Formatter<'_>, q: &Query, parens: bool) -> fmt::Result {
    if parens { write!(f, "({q})") } else { write!(f, "{q}") }
}

fn write_field_prefix(f: &mut Formatter<'_>, field: &Option<String>) -> fmt::Result {
    if let Some(field) = field {
        write_field(f, field)?;
        f.write_char(':')?;
    }
    Ok(())
}

/// A field name: everything the lexer or the `field:` split would read differently is escaped.
fn write_field(f: &mut Formatter<'_>, field: &str) -> fmt::Result {
    for (i, c) in field.chars().enumerate() {
        let special =
            is_delimiter(c) || matches!(c, '\\' | ':' | '*' | '?') || (i == 0 && matches!(c, '-' | '+' | '!'));
        if special {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    Ok(())
}

/// A value as a bare word. `bare`: no field before it, so `:` would split and a leading
/// `-`/`+`/`!` or a whole-word operator would be read as an operator. `pattern`: `value` is a
/// wildcard pattern whose `*`, `?` are kept and whose `\x` escapes pass through.
fn write_escaped(f: &mut Formatter<'_>, value: &str, bare: bool, pattern: bool) -> fmt::Result {
    if bare && ["AND", "OR", "NOT", "&&", "||"].contains(&value) {
        f.write_char('\\')?;
    }
    let mut chars = value.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        if pattern && c == '\\' {
            f.write_char('\\')?;
            f.write_char(chars.next().unwrap_or('\\'))?;
        } else if pattern && matches!(c, '*' | '?') {
            f.write_char(c)?;
        } else {
            let special = is_delimiter(c)
                || matches!(c, '\\' | '*' | '?')
                || (bare && c == ':')
                || (first && bare && matches!(c, '-' | '+' | '!'))
                || (first && !bare && matches!(c, '>' | '<'));
            if special {
                f.write_char('\\')?;
            }
            f.write_char(c)?;
        }
        first = false;
    }
    Ok(())
}

fn write_quoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

fn write_range(f: &mut Formatter<'_>, lower: &Bound<Scalar>, upper: &Bound<Scalar>) -> fmt::Result {
    match (lower, upper) {
        (Bound::Included(s), Bound::Unbounded) => write!(f, ">={s}"),
        (Bound::Excluded(s), Bound::Unbounded) => write!(f, ">{s}"),
        (Bound::Unbounded, Bound::Included(s)) => write!(f, "<={s}"),
        (Bound::Unbounded, Bound::Excluded(s)) => write!(f, "<{s}"),
        _ => {
            f.write_char(if matches!(lower, Bound::Excluded(_)) { '{' } else { '[' })?;
            write_bound(f, lower)?;
            f.write_str(" TO ")?;
            write_bound(f, upper)?;
            f.write_char(if matches!(upper, Bound::Excluded(_)) { '}' } else { ']' })
        }
    }
}

fn write_bound(f: &mut Formatter<'_>, b: &Bound<Scalar>) -> fmt::Result {
    match b {
        Bound::Included(s) | Bound::Excluded(s) => write!(f, "{s}"),
        Bound::Unbounded => f.write_char('*'),
    }
}

impl Display for Scalar {
    /// As written in a query: numbers, times and IPs bare, text always quoted (so that `"10"`
    /// stays text and `"TO"` is not the range keyword).
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Number(n) => write!(f, "{n}"),
            Scalar::Time(t) => write!(f, "{t}"),
            Scalar::Ip(ip) => write!(f, "{ip}"),
            Scalar::Text(s) => write_quoted(f, s),
        }
    }
}
