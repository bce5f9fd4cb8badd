//! Parse errors: every one says what was wrong and where, and no input exhausts the stack.

mod common;

use common::*;
use mamori_query::{MAX_DEPTH, parse};

/// (query, column of the error, part of the message)
const ERRORS: &[(&str, usize, &str)] = &[
    ("field:\"abc", 11, "unclosed quote starting at column 7"),
    ("\"", 2, "unclosed quote starting at column 1"),
    ("source.ip:", 11, "expected a value after 'source.ip:'"),
    ("source.ip: 10.1.2.3", 11, "expected a value after 'source.ip:'"),
    ("bytes:>", 8, "expected a value after 'bytes:>'"),
    ("bytes:>= 5", 9, "expected a value after 'bytes:>='"),
    ("source.ip:10.1.0.0/33", 11, "'10.1.0.0/33' is not a valid CIDR"),
    ("a source.ip:\"10.1.0.0/33\"", 13, "'10.1.0.0/33' is not a valid CIDR"),
    ("source.ip:foo", 11, "'foo' is not a valid IP address"),
    ("source.ip:[1.2.3.4 TO x]", 23, "'x' is not a valid IP address"),
    ("@timestamp:yesterday", 12, "'yesterday' is not a valid time"),
    ("@timestamp:>now-1x", 13, "'now-1x' is not a valid relative time"),
    ("@timestamp:2026-13-01", 12, "'2026-13-01' is not a valid date"),
    (":foo", 1, "expected a field name before ':'"),
    ("_exists_:", 10, "expected a field name after '_exists_:'"),
    ("_exists_:a*", 10, "without wildcards"),
    ("event.original:foo", 1, "event.original is stored for display but cannot be searched"),
    ("_exists_:event.original", 10, "cannot be searched"),
    ("a AND", 6, "expected a search term after 'AND'"),
    ("a OR", 5, "expected a search term after 'OR'"),
    ("a OR OR b", 6, "expected a search term after 'OR'"),
    ("AND a", 1, "'AND' needs a search term on each side"),
    ("OR", 1, "'OR' needs a search term on each side"),
    ("a && || b", 6, "expected a search term after '&&'"),
    ("NOT", 4, "expected a search term after 'NOT'"),
    ("a -", 4, "expected a search term after '-'"),
    ("(a", 1, "missing ')' for the '(' at column 1"),
    ("a)", 2, "')' without a matching '('"),
    ("()", 1, "empty parentheses"),
    ("f:()", 3, "empty parentheses"),
    ("f:(a", 3, "missing ')' for the '(' at column 3"),
    ("[1 TO 2]", 1, "a range needs a field before it"),
    ("a ]", 3, "']' without a range to close"),
    ("a }", 3, "'}' without a range to close"),
    ("bytes:[1 2]", 10, "expected 'TO' between the bounds of the range at column 7"),
    ("bytes:[1 TO 2", 14, "expected ']' or '}' to close the range at column 7"),
    ("bytes:[1 TO 2 3]", 15, "expected ']' or '}' to close the range at column 7"),
    ("bytes:[TO 2]", 8, "expected a lower bound in the range at column 7"),
    ("bytes:[1 TO]", 12, "expected an upper bound in the range at column 7"),
    ("bytes:[", 8, "expected a lower bound"),
    ("abc\\", 4, "a backslash at the end of the query escapes nothing"),
    ("ログイン \"失敗", 9, "unclosed quote starting at column 6"),
];

#[test]
fn errors_have_positions_and_clear_messages() {
    let mut failures = Vec::new();
    for &(query, column, message) in ERRORS {
        let err = e(query);
        if !err.message.contains(message) || err.column() != column {
            failures.push(format!("{query:?}: expected column {column} {message:?}, got\n{}", err.render(query)));
        }
        assert!(err.position <= query.chars().count());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn error_display_and_render() {
    let err = e("ログイン source.ip:10.1.0.0/33");
    assert_eq!(err.position, 15);
    assert!(err.to_string().starts_with("column 16: '10.1.0.0/33' is not a valid CIDR"));
    let rendered = err.render("ログイン source.ip:10.1.0.0/33");
    let caret_line = rendered.lines().nth(1).unwrap();
    assert_eq!(caret_line.find('^'), Some(19), "wide characters take two columns");
}

#[test]
fn nesting_is_limited() {
    let deep = "(".repeat(MAX_DEPTH + 5) + "a" + &")".repeat(MAX_DEPTH + 5);
    assert!(e(&deep).message.contains("nests more than"));
    let nots = "NOT ".repeat(MAX_DEPTH + 5) + "a";
    assert!(e(&nots).message.contains("nests more than"));
    let dashes = "-".repeat(100_000) + "a";
    assert!(parse(&dashes, now()).is_err());
    let groups = "f:(".repeat(MAX_DEPTH + 5);
    assert!(parse(&groups, now()).is_err());
    let ok = "(".repeat(MAX_DEPTH - 1) + "a" + &")".repeat(MAX_DEPTH - 1);
    assert_eq!(p(&ok), bare("a"));
}
