//! The console's static files, compiled into the binary.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &[u8] = include_bytes!("../../assets/console.css");
const JS: &[u8] = include_bytes!("../../assets/console.js");
const ICON: &[u8] = include_bytes!("../../assets/favicon.svg");

/// `GET /console/static/{file}`.
pub async fn file(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        "favicon.svg" => (ICON, "image/svg+xml"),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    // Files change only with the binary; an hour of caching spares the reloads of a session.
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}
