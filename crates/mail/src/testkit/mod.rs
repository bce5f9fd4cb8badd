//! Stand-ins for the outside world, for tests and conformance runners: a DNS server answering
//! from a table, and an SMTP sink that records what it receives. Real sockets on 127.0.0.1.

pub mod dns;
pub mod sink;
