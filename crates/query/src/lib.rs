//! The log search language of mamori.
//!
//! SOC analysts and municipal IT staff search up to five years of ECS JSON events with a
//! Lucene/KQL-like language. This crate owns the language: the parser ([`parse`]) and its tree
//! ([`Query`]), the exact matching semantics, the evaluator over JSON events used to scan the
//! cold archive ([`CompiledQuery`], [`matches()`]), the full-text tokenizer the hot index wraps
//! ([`text`]), and the aggregation types shared by hot and cold search ([`agg`]). It does not
//! hold an index: the `logs` crate evaluates the compiled [`Clause`]s on its column blocks.
//!
//! # The language
//!
//! | Query | Meaning |
//! |---|---|
//! | *(empty)*, `*` | every event |
//! | `ログイン失敗`, `denied` | a word in the full text (`message`, `error.message`) |
//! | `"access denied"` | a phrase in the full text (consecutive words) |
//! | `event.dataset:proxy.access` | field equals value (exact, case-sensitive) |
//! | `user.name:"Taro Yamada"` | field equals a value with spaces or special characters |
//! | `host.hostname:web*`, `url.full:*login*`, `file.name:report?.pdf` | wildcards: `*` any characters, `?` one character |
//! | `user.name:*`, `_exists_:user.name` | the field has a value |
//! | `destination.port:>1024`, `>=`, `<`, `<=` | comparisons |
//! | `http.response.bytes:[1000 TO 5000]` | inclusive range; `{1000 TO 5000}` exclusive; `[1000 TO 5000}` mixed; `[1000 TO *]` open |
//! | `@timestamp:[2026-11-01 TO 2026-11-02T12:00:00+09:00]` | time range |
//! | `@timestamp:>now-1h`, `@timestamp:>=now/d` | relative times: `now`, `now-15m`, `now-1h`, `now-7d`, rounding `/d` `/h` `/m` `/s` |
//! | `@timestamp:2026-11-21` | the whole UTC day (wildcards do not apply to time fields) |
//! | `source.ip:10.1.0.0/16`, `source.ip:"2001:db8::/32"` | address in a network (CIDR) |
//! | `source.ip:10.1.2.3`, `source.ip:[10.0.0.1 TO 10.0.0.9]` | address equality, address range |
//! | `a AND b`, `a && b`, `a b` | both (**adjacent clauses are ANDed**, as in Splunk) |
//! | `a OR b`, `a \|\| b` | either |
//! | `NOT a`, `!a`, `-a` | not; `+a` (required) is the same as `a` |
//! | `(a OR b) c` | grouping |
//! | `event.action:(denied OR blocked)`, `tags:(vpn remote)` | field groups: every value in the parentheses is for that field |
//! | `url.path:\/admin`, `file.path:C\:\\Windows` | backslash makes any character literal |
//!
//! Operators bind `NOT` tighter than `AND`, and `AND` tighter than `OR`: `a OR b c` is
//! `a OR (b AND c)`, `NOT a b` is `(NOT a) AND b`. `AND`, `OR`, `NOT` and `TO` are operators only
//! in capitals and unescaped; `-`, `+` and `!` only at the start of a clause
//! (`user.name:-x` is the value `-x`; a bare `-5` is `NOT 5`, write `\-5` or `"-5"`).
//!
//! **Values.** A value runs up to a space or one of `( ) [ ] { } "`, so `:`, `.`, `-`, `/` need no
//! escape inside it: `url.full:https://example.jp/login`, `source.ip:2001:db8::1` and
//! `@timestamp:>2026-11-21T10:00:00+09:00` work as written. Only the first `:` of a clause
//! separates the field. In quotes, `\"` and `\\` are escapes and any other backslash is kept
//! (`"C:\Windows\System32"`). Quoted values are never wildcards.
//!
//! **Fields** (see [`schema`]):
//!
//! - *Full text* (`message`, `error.message`): case-insensitive, by words ([`text`]). `失敗`
//!   finds `ログイン失敗`; a value of several words (`message:login-failed`) must match them in
//!   order, like a phrase; wildcards apply to single words (`message:adm*`). Japanese needs no
//!   wildcard, as any part of a word is found (`フィッシ` finds `フィッシング`); `フィッシ*` and
//!   `*フィッシ*` are read as `フィッシ`. A bare term or
//!   phrase searches only these fields, not keyword fields: search an address with
//!   `source.ip:10.1.2.3`, not `10.1.2.3`.
//! - *IP* (`source.ip`, `destination.ip`, `client.ip`, `server.ip`, `host.ip`, `observer.ip`,
//!   `related.ip`, `source.nat.ip`, `destination.nat.ip`): an address, a CIDR or an address
//!   range; anything else is a parse error (`'10.1.0.0/33' is not a valid CIDR`). Wildcards
//!   match the written form (`source.ip:10.1.*`).
//! - *Time* (`@timestamp`, `event.created`, `event.ingested`, `event.start`, `event.end`): see
//!   [`time`]. A date without a time is the start of that day in UTC; as a plain value it is the
//!   whole day. Relative times are resolved when the query is parsed, against the `now` given
//!   to [`parse`], so a parsed query (and its text form) is absolute.
//! - *Keyword*: every other field, exact and case-sensitive on the value's string form;
//!   numbers compare as numbers when the query value is a number (`destination.port:443`
//!   matches both `443` and `"443"`). Ranges compare numbers numerically (numeric strings
//!   too) and strings lexicographically; a number never falls in a range of words.
//! - `event.original` (the raw collected line) is stored but not searchable; a query naming it
//!   is rejected with a hint to search `message` instead.
//!
//! Fields are ECS dotted names and match nested objects, literal dotted keys and mixtures;
//! a field holding an array matches if any element matches.
//!
//! **Errors** are [`ParseError`]s with the character position and a message such as
//! `unclosed quote starting at column 7` or `expected a value after 'source.ip:'`. No input makes
//! the parser panic; nesting deeper than [`MAX_DEPTH`] is an error.
//!
//! **Canonical text.** `Display` for [`Query`] prints a canonical form that parses back to the
//! same tree (`bytes:(>10 OR <5)` prints as `bytes:>10 OR bytes:<5`).
//!
//! ```
//! use mamori_query::{CompiledQuery, parse};
//! use serde_json::json;
//!
//! let now = "2026-11-21T12:00:00Z".parse().unwrap();
//! let q = parse(r#"event.dataset:proxy.access source.ip:10.1.0.0/16 -url.full:*update* ログイン"#, now).unwrap();
//! assert_eq!(
//!     q.to_string(),
//!     "event.dataset:proxy.access AND source.ip:10.1.0.0/16 AND NOT url.full:*update* AND ログイン"
//! );
//! let event = json!({
//!     "@timestamp": "2026-11-21T10:00:00Z",
//!     "message": "ログイン失敗 user=taro",
//!     "event": {"dataset": "proxy.access"},
//!     "source": {"ip": "10.1.2.3", "port": 5050},
//!     "url": {"full": "https://portal.example.lg.jp/login"},
//! });
//! assert!(CompiledQuery::new(&q).matches(&event));
//!
//! let err = parse("source.ip:10.1.0.0/33", now).unwrap_err();
//! assert_eq!(err.message, "'10.1.0.0/33' is not a valid CIDR (write it like 10.1.0.0/16 or 2001:db8::/32)");
//! assert_eq!(err.position, 10);
//! ```

pub mod agg;
mod ast;
mod display;
mod error;
pub mod eval;
mod lexer;
mod normalize;
mod parser;
mod path;
pub mod schema;
pub mod text;
pub mod time;
mod typed;
pub mod value;
mod wildcard;

pub use agg::{Accumulator, AggPartial, AggResult, Aggregation, Interval, auto_interval};
pub use ast::{Query, Scalar};
pub use error::ParseError;
pub use eval::{Clause, CompiledQuery, matches};
pub use parser::{MAX_DEPTH, parse};
pub use path::{FieldPath, string_form};
pub use schema::{FieldKind, field_kind};
pub use typed::parse_number;
pub use value::{ValueRef, ValueTest};
pub use wildcard::Glob;
