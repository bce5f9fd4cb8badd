//! What every page shares: who is calling, form handling with CSRF checks, the page layout,
//! security headers, static files, error pages and charts.

pub mod assets;
pub mod auth;
pub mod chart;
pub mod error;
pub mod form;
pub mod headers;
pub mod layout;
pub mod time;
