//! Security headers on every response.
//!
//! The API serves JSON and Prometheus text only, so the strictest policies apply: nothing may
//! be framed, sniffed into another type, cached or sent a referrer. HSTS is added under TLS so
//! browsers never fall back to plain HTTP.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

const CSP: &str = "default-src 'none'; frame-ancestors 'none'";
const HSTS: &str = "max-age=31536000";

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    // A future console page may bring its own policy; everything else gets the strict one.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(h, header::CONTENT_SECURITY_POLICY, CSP);
    }
    // Responses hold tenants' data and secrets (a new token): never store them anywhere.
    // Only the console's static files, which hold neither, say otherwise.
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    if state.settings().tls {
        set(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}
