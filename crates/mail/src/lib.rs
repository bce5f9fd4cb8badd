//! The mail relay of mamori (functions 2 and 11): an SMTP server (RFC 5321 with ESMTP
//! PIPELINING, 8BITMIME, SMTPUTF8, SIZE, ENHANCEDSTATUSCODES, STARTTLS, CHUNKING) that relays
//! mail for tenants only — inbound to each tenant's next hop, outbound from each tenant's
//! networks by MX — through a durable queue, with SPF on inbound mail and an ECS event for every
//! transaction and delivery.
//!
//! Layout: `smtp` (protocol, no policy), `policy` (who may relay), `queue` (disk),
//! `delivery` (client, MX, DSN, worker), `auth` (SPF, DKIM), `dmarc` (RFC 7489), `content` (anti-virus and
//! DMARC verdicts weighed per tenant), `quarantine`, `events`, `tls`, `service` (wiring).

pub mod archive;
pub mod auth;
pub mod connections;
pub mod content;
pub mod context;
pub mod delivery;
pub mod dkim_sign;
pub mod dmarc;
mod durable;
pub mod events;
pub mod message;
pub mod metrics;
mod mime_text;
mod own_mail;
pub mod policy;
pub mod quarantine;
pub mod queue;
pub mod server;
pub mod service;
pub mod smtp;
pub mod spam;
pub mod spf;
pub mod testkit;
pub mod tls;

pub use context::{MailContext, SmtpSettings};
pub use policy::{RelayPolicy, Route};
pub use quarantine::QuarantineStore;
pub use queue::QueueStore;
