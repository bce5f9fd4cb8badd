//! What the language knows about fields, shared by the parser, the evaluator and the hot index
//! (the `logs` crate builds its token tables from these lists) so that a query means the same
//! thing whether it runs against the index or scans the cold archive.
//!
//! There are four kinds of field:
//!
//! - **text** (`message`, `error.message`): tokenized full text, see [`crate::text`]. A bare term
//!   or phrase (no `field:`) searches these and only these.
//! - **IP** (`source.ip`, ...): values are IP addresses; queries take an address (equality, with
//!   IPv4-mapped IPv6 treated as IPv4), a CIDR or an address range.
//! - **time** (`@timestamp`, ...): values are instants; queries take dates, RFC 3339 times or
//!   relative times (`now-1h`), see [`crate::time`].
//! - **keyword**: every other field. Matched exactly and case-sensitively on the value's string
//!   form; a number in the event also equals a query value that is the same number
//!   (`destination.port:443` matches `443` and `"443"`).
//!
//! `event.original` (the raw collected line) is stored for display but is not indexed: querying
//! it is a parse error that points the user to `message` or to the parsed fields, so the hot
//! index and a cold scan can never disagree about it.

/// Fields holding tokenized full text; bare terms and phrases search these.
pub const TEXT_FIELDS: &[&str] = &["message", "error.message"];

/// Fields holding IP addresses.
pub const IP_FIELDS: &[&str] = &[
    "source.ip",
    "destination.ip",
    "client.ip",
    "server.ip",
    "host.ip",
    "observer.ip",
    "related.ip",
    "source.nat.ip",
    "destination.nat.ip",
];

/// Fields holding instants.
pub const TIME_FIELDS: &[&str] = &["@timestamp", "event.created", "event.ingested", "event.start", "event.end"];

/// Fields stored with the event but not searchable at all.
pub const STORED_ONLY_FIELDS: &[&str] = &["event.original"];

/// The time field a date histogram uses when none is given.
pub const DEFAULT_TIME_FIELD: &str = "@timestamp";

/// How a field's values are indexed and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// Tokenized full text.
    Text,
    /// IP addresses.
    Ip,
    /// Instants.
    Time,
    /// Exact, case-sensitive string (or number) values.
    Keyword,
    /// Stored for display, never searched.
    StoredOnly,
}

/// The kind of a field by its ECS name.
pub fn field_kind(field: &str) -> FieldKind {
    if TEXT_FIELDS.contains(&field) {
        FieldKind::Text
    } else if IP_FIELDS.contains(&field) {
        FieldKind::Ip
    } else if TIME_FIELDS.contains(&field) {
        FieldKind::Time
    } else if STORED_ONLY_FIELDS.contains(&field) {
        FieldKind::StoredOnly
    } else {
        FieldKind::Keyword
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(field_kind("message"), FieldKind::Text);
        assert_eq!(field_kind("source.nat.ip"), FieldKind::Ip);
        assert_eq!(field_kind("@timestamp"), FieldKind::Time);
        assert_eq!(field_kind("event.original"), FieldKind::StoredOnly);
        assert_eq!(field_kind("destination.port"), FieldKind::Keyword);
        assert_eq!(field_kind("source.ip.extra"), FieldKind::Keyword);
    }
}
