//! The console's Content-Security-Policy. Scripts and styles only from the console's own
//! static files (no inline code, so an injected `<script>` or `style=` does nothing), images
//! from itself or `data:` (the QR code), nothing may frame it, forms post only to itself.
//! The API's layer adds the other headers (X-Frame-Options, nosniff, `Referrer-Policy:
//! no-referrer`, so search URLs never leave, and HSTS under TLS).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use mamori_api::AppState;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; \
                       object-src 'none'";

pub async fn console_headers(State(_state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}
