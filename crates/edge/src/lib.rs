//! The edge: a reverse proxy in front of the municipalities' web sites, with the WAF.
//!
//! Each request is matched to its site by host name (and, over TLS, its certificate chosen by
//! SNI), inspected by the site's compiled SecLang ruleset (`mamori-waf`, e.g. the OWASP CRS)
//! and either answered with a Japanese block page carrying the request id or forwarded to one
//! of the site's origins in turn, with `X-Forwarded-For`, `X-Forwarded-Proto` and
//! `X-Request-Id`, over TLS to `https://` origins. Responses are inspected too where the ruleset asks for it, and get
//! clickjacking headers when the origin sent none. Every request is an access event and every
//! rule match an alert event in the log store. Sites, rulesets and certificates are compiled
//! into one [`EdgeState`] and swapped whole on reload; a ruleset that does not compile leaves
//! the running one in force. Listen addresses change on reload too: the new ones are bound
//! first, the old ones stop accepting while their connections finish.

mod access_event;
mod alert_event;
mod body;
mod build;
mod certs;
mod exchange;
mod forward;
mod handler;
mod headers;
mod health;
mod listeners;
pub mod metrics;
mod origin_tls;
mod origins;
mod pages;
mod request_id;
mod rulesets;
mod server;
mod state;
mod waf;

pub use build::{BuildError, build_state};
pub use listeners::{ListenError, ListenerKind};
pub use mamori_core::event_writer::EventWriter;
pub use server::{EdgeContext, EdgeSettings, serve_http, serve_https};
pub use state::{EdgeState, Site};
