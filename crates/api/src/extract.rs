//! Extractors whose failures are API errors naming the offending field, instead of axum's
//! plain-text rejections.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::serve::Peer;

/// A JSON request body. Requires `Content-Type: application/json`: besides being honest, it
/// means a cross-site HTML form (which cannot send that type) can never submit one.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request body must be JSON with Content-Type: application/json",
            )
            .with_field("Content-Type"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        parse_json(&bytes).map(JsonBody)
    }
}

fn is_json(value: Option<&axum::http::HeaderValue>) -> bool {
    let Some(v) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Maps a failure to read the body; too large is 413, anything else 400.
/// The value of the cookie called `name`, over every `Cookie` header of a request.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
}

pub fn body_rejection(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than this server accepts; send smaller batches",
        )
    } else {
        ApiError::bad_request(format!("cannot read the request body: {}", e.body_text()))
    }
}

/// Parses JSON, naming the field that was wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = field_of(&e.path().to_string(), &e.inner().to_string());
        let err = ApiError::bad_request(format!("invalid request body: {}", e.inner()));
        match field {
            Some(f) => err.with_field(f),
            None => err,
        }
    })
}

/// Query-string parameters, with errors naming the parameter.
pub struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(QueryParams).map_err(|e| {
            let field = field_of(&e.path().to_string(), &e.inner().to_string());
            let err = ApiError::bad_request(format!("invalid query parameter: {}", e.inner()));
            match field {
                Some(f) => err.with_field(f),
                None => err,
            }
        })
    }
}

/// The field a deserialisation error is about: its path, or for errors at the top level
/// (a missing or unknown field) the name serde quotes in the message.
fn field_of(path: &str, message: &str) -> Option<String> {
    if path != "." {
        return Some(path.to_owned());
    }
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    None
}

/// The address of the peer the request came from, when the server recorded it.
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<Peer>>()
        .map(|ConnectInfo(Peer(addr))| addr.ip())
        .or_else(|| parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip()))
}

/// The client address as an extractor.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"name":"a","items":[{"n":1},{"n":"x"}]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("items[1].n"));
        let e = parse_json::<Body>(br#"{"items":[]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("name"));
        let e = parse_json::<Body>(br#"{"name":"a","items":[],"nmae":1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("nmae"));
        let e = parse_json::<Body>(b"{not json").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn json_content_types() {
        use axum::http::HeaderValue;
        let ok = |s: &'static str| is_json(Some(&HeaderValue::from_static(s)));
        assert!(ok("application/json"));
        assert!(ok("application/json; charset=utf-8"));
        assert!(ok("application/merge-patch+json"));
        assert!(!ok("text/plain"));
        assert!(!is_json(None));
    }
}
