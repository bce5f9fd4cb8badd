//! Delivery of queued mail: the SMTP client, MX resolution, DSNs and the worker.

pub mod client;
pub mod dsn;
pub mod mx;
pub mod worker;
