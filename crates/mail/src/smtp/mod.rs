//! The SMTP server side: replies, addresses, commands, message text, and the session.

pub mod address;
pub mod command;
pub mod data;
pub mod lines;
pub mod reply;
pub mod session;
